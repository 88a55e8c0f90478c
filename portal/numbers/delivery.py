"""Delivery statistics, which no SMS service publishes: for each country and service, the
share of rentals that received an SMS and the median time to the first SMS, over the last
7 and 30 days, from the portal's own rentals (their timelines: when the number was issued,
when the first SMS was recorded).

A rental counts once it is decided: an SMS came, or its wait window passed without one
(a rental still waiting says nothing yet). Below ``MINIMUM`` decided rentals the figures
are "not enough data". ``figures`` is the pure rule; ``refresh`` (a periodic job) stores
them; ``shown`` reads what was stored, for the rent list and the public page.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from peewee import JOIN, fn

from portal.store.db import money_transaction
from portal.store.fields import utcnow
from portal.store.models import DeliveryStat, Rental, RentalEvent, Service

PERIODS = (7, 30)  # days
MINIMUM = 10  # decided rentals below which a period shows "not enough data"


@dataclass(frozen=True)
class Outcome:
    """One rental as the statistics see it."""

    issued_at: datetime
    window_ends_at: datetime
    first_sms_at: datetime | None


@dataclass(frozen=True)
class Figures:
    rentals: int                  # decided rentals in the period
    received: int                 # of which got an SMS
    median_seconds: int | None    # to the first SMS, over those that got one

    @property
    def enough(self) -> bool:
        return self.rentals >= MINIMUM

    @property
    def share(self) -> float | None:
        return self.received / self.rentals if self.rentals else None


def figures(outcomes: Iterable[Outcome], now: datetime, days: int) -> Figures:
    """The figures of the rentals issued within ``days`` before ``now`` and decided by then."""
    since = now - timedelta(days=days)
    decided = [o for o in outcomes if since <= o.issued_at <= now
               and ((o.first_sms_at is not None and o.first_sms_at <= now) or o.window_ends_at <= now)]
    delays = [(o.first_sms_at - o.issued_at).total_seconds() for o in decided
              if o.first_sms_at is not None and o.first_sms_at <= now]
    median = round(statistics.median(delays)) if delays else None
    return Figures(len(decided), len(delays), median)


def _outcomes(since: datetime) -> dict[tuple[str, str], list[Outcome]]:
    """Every rental issued since ``since``, by (country, service), from its timeline."""
    issued = RentalEvent.alias()
    first_sms = (RentalEvent.select(RentalEvent.rental, fn.MIN(RentalEvent.at).alias("at"))
                 .where(RentalEvent.kind == "sms").group_by(RentalEvent.rental).alias("first_sms"))
    query = (Rental.select(Rental.country, Service.code, issued.at, Rental.ends_at, first_sms.c.at)
             .join(Service).switch(Rental)
             .join(issued, on=((issued.rental == Rental.id) & (issued.kind == "issued")))
             .switch(Rental).join(first_sms, JOIN.LEFT_OUTER, on=(first_sms.c.rental_id == Rental.id))
             .where(issued.at >= since).tuples())
    found: dict[tuple[str, str], list[Outcome]] = {}
    sms_at = RentalEvent.at  # the field that turns the stored value back into an aware time
    for country, service, issued_at, ends_at, first in query:
        found.setdefault((country, service), []).append(Outcome(
            sms_at.python_value(issued_at), Rental.ends_at.python_value(ends_at),
            sms_at.python_value(first) if first is not None else None))
    return found


def refresh(now: datetime | None = None) -> int:
    """Compute every period's figures and store them in place of the last ones; how many rows."""
    now = now or utcnow()
    rows = []
    for (country, service), outcomes in _outcomes(now - timedelta(days=max(PERIODS))).items():
        for days in PERIODS:
            found = figures(outcomes, now, days)
            rows.append({"country": country, "service": service, "days": days, "rentals": found.rentals,
                         "received": found.received, "median_seconds": found.median_seconds,
                         "computed_at": now})
    with money_transaction():
        DeliveryStat.delete().execute()
        if rows:
            DeliveryStat.insert_many(rows).execute()
    return len(rows)


def shown() -> dict[tuple[str, str], dict[int, Figures]]:
    """The stored figures by (country, service code), then by period."""
    found: dict[tuple[str, str], dict[int, Figures]] = {}
    for row in DeliveryStat.select():
        found.setdefault((row.country, row.service), {})[row.days] = Figures(
            row.rentals, row.received, row.median_seconds)
    return found


def computed_at() -> datetime | None:
    latest = DeliveryStat.select(DeliveryStat.computed_at).order_by(DeliveryStat.computed_at.desc()).first()
    return latest.computed_at if latest else None
