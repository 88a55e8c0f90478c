"""The portal's jobs, registered on the app's queue by ``register``.

    deliver_outbox      send what is due in the outbox (asked for after each side effect)
    tick (each minute)  the ticker: every 2 s, poll the SMS upstreams and send due rows
    reconcile (hourly)  ask the processors what no webhook told (``portal.money.reconcile``)
    expire_demo (15 m)  expire demo checkouts and invoices left unpaid for a day

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
    jobs = Jobs(queue, deliver, tick, reconcile, expire)
    return jobs
