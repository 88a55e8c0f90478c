"""The polling job's work: ask the SMS upstream about every live rental at once, record what
it says, and move the rentals whose window passed (the ticker runs ``poll`` every 2 s).

One call per tick where the protocol has one (``SmsProvider.statuses``), however many
rentals wait, so the upstream's rate limit holds at any number of customers. A failing
upstream is left alone for a backoff (``portal.numbers.health``); the clock's part (windows
that pass) goes on without it. Browsers' polls only read what this records.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from portal.numbers import health, rentals
from portal.numbers.sms import ProviderError, SmsProvider
from portal.store.fields import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    asked: int = 0          # live rentals the upstream was asked about
    received: int = 0       # rentals with an SMS recorded by this poll
    expired: int = 0
    finished: int = 0
    failed: str = ""        # why the upstream could not be asked (empty when it could)


def poll(app=None, *, provider: SmsProvider | None = None, now: datetime | None = None) -> Report:
    """One poll of the app's provider (or ``provider``) at ``now``."""
    if provider is None:
        from flask import current_app
        provider = rentals.provider_for(app or current_app)
    now = now or utcnow()
    name = rentals.provider_name(provider)
    asked = received = 0
    failed = ""
    live = list(rentals.live(name, now))
    if live and health.failing(name, now):
        failed = "backing off"
    elif live:
        try:
            statuses = provider.statuses([rental.activation_id for rental in live])
        except ProviderError as error:
            wait = health.failed(name, error.reason, now)
            log.warning("poll of %s failed (%s); next try in %s", name, error, wait)
            failed = error.reason
        else:
            health.recovered(name)
            asked = len(live)
            for rental in live:
                status = statuses.get(rental.activation_id)
                if status is not None and status.messages:
                    before = rental.state
                    if rentals.record(rental, status, "poll", now).state != before:
                        received += 1
    expired = finished = 0
    for rental in rentals.passed_windows(name, now):
        if rental.state == rentals.WAITING:
            expired += rentals.expire(rental, now)
        elif not failed:  # finishing calls the upstream too: not while it is failing
            finished += rentals.finish(rental, provider, now)
    return Report(asked, received, expired, finished, failed)
