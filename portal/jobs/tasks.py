"""The portal's jobs, registered on the app's queue by ``register``.

    deliver_outbox      send what is due in the outbox (asked for after each side effect)
    tick (each minute)  the ticker: every 2 s, poll the SMS upstreams and send due rows
    reconcile (hourly)  ask the processors what no webhook told (``portal.money.reconcile``)
    expire_demo (15 m)  expire demo checkouts and invoices left unpaid for a day
    delivery (15 m)     refresh the delivery statistics (``portal.numbers.delivery``)
    notices (5 m)       e-mail every customer of a material policy change (``portal.terms.notices``)
    sessions (hourly)   delete the sessions that ended by age (``portal.accounts.sessions``)

Each job runs in an app context with a database connection of its own; what it did is in
the database, so Huey keeps no results.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from flask import Flask
from huey import Huey, crontab
from huey.api import TaskWrapper

from portal.jobs import outbox, senders, ticker
from portal.numbers import delivery
from portal.store import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Jobs:
    """The app's queue and its tasks (call a task to enqueue it)."""

    queue: Huey
    deliver_outbox: TaskWrapper
    tick: TaskWrapper
    reconcile: TaskWrapper
    expire_demo: TaskWrapper
    delivery: TaskWrapper
    notices: TaskWrapper
    sessions: TaskWrapper


def _in_app(app: Flask, work: Callable[[], object]) -> Callable[[], object]:
    def run():
        with app.app_context(), db.connection():
            return work()

    return run


def deliver_outbox_now(app: Flask) -> dict[str, int]:
    """Send every due outbox row the app has a sender for; a count per outcome."""
    return outbox.deliver_due(senders.senders_for(app),
                              claim_seconds=float(app.config["OUTBOX_CLAIM_SECONDS"]))


def tick_once(app: Flask, jobs: Jobs) -> None:
    """One beat of the ticker: poll the upstreams, then have due outbox rows sent (by other
    workers; by the ticker itself while the queue cannot be reached)."""
    from portal.numbers import polling

    polling.poll(app)
    if outbox.due(senders.senders_for(app), limit=1):
        try:
            jobs.deliver_outbox()
        except Exception as unreachable:  # e.g. Redis down: the database still works
            log.warning("ticker: queue unreachable (%s); delivering here", unreachable)
            deliver_outbox_now(app)


def reconcile_now(app: Flask) -> None:
    from portal.money import gateways, reconcile

    report = reconcile.reconcile(gateways.card(), gateways.crypto())
    log.info("reconcile: %d read, %d healed, %d refused", report.seen, len(report.healed),
             len(report.refused))


def expire_demo_now(app: Flask) -> int:
    from portal.money import demo_expiry, gateways

    return demo_expiry.expire_stale(gateways.demo_card(), gateways.demo_crypto())


def end_expired_sessions_now(app: Flask) -> int:
    from portal.accounts import sessions

    return sessions.end_expired(app.config["SESSION_MAX_SECONDS"])


def notices_now(app: Flask, jobs: "Jobs") -> dict[str, int]:
    """Write the notices of material policy changes that are due; have them sent."""
    from portal.terms import notices

    considered = notices.run(site_dir=app.config["SITE_DIR"], public_url=app.config["PUBLIC_URL"])
    if any(considered.values()):
        log.info("policy notices: %s", ", ".join(f"{v}: {n} customers considered" for v, n in considered.items()))
        try:
            jobs.deliver_outbox()
        except Exception as unreachable:  # the ticker sends them
            log.warning("policy notices: queue unreachable (%s)", unreachable)
    return considered


def register(queue: Huey, app: Flask) -> Jobs:
    """Register the portal's tasks on ``queue``, each bound to ``app``."""
    deliver = queue.task(name="deliver_outbox")(_in_app(app, lambda: deliver_outbox_now(app)))
    jobs: Jobs

    def beat():
        ticker.run(_in_app(app, lambda: tick_once(app, jobs)))

    tick = queue.periodic_task(crontab(minute="*"), name="tick")(_in_app(app, beat))
    reconcile = queue.periodic_task(crontab(minute="7"), name="reconcile")(
        _in_app(app, lambda: reconcile_now(app)))
    expire = queue.periodic_task(crontab(minute="*/15"), name="expire_demo")(
        _in_app(app, lambda: expire_demo_now(app)))
    stats = queue.periodic_task(crontab(minute="*/15"), name="delivery")(
        _in_app(app, lambda: delivery.refresh()))
    notify = queue.periodic_task(crontab(minute="*/5"), name="notices")(
        _in_app(app, lambda: notices_now(app, jobs)))
    ended = queue.periodic_task(crontab(minute="37"), name="sessions")(
        _in_app(app, lambda: end_expired_sessions_now(app)))
    jobs = Jobs(queue, deliver, tick, reconcile, expire, stats, notify, ended)
    return jobs
