"""A rental's timeline: every step of an activation as an append-only row (``RentalEvent``),
shown on the rental's page and read by the dispute evidence and the delivery statistics.
The database refuses to change or delete a row once written."""

from __future__ import annotations

from datetime import datetime

from portal.store.models import RentalEvent

# kind -> what happened (the page says it in the customer's words: ``portal.web.messages``)
KINDS = (
    "requested",           # the customer asked for a number
    "issued",              # the upstream issued it and the price was charged
    "sms",                 # an SMS was recorded (detail: how it came: poll, push, cancel)
    "window_passed",       # the wait window ended with no SMS
    "another_sms_asked",   # the customer asked the upstream for another SMS
    "refund_requested",    # the customer asked for the failed-SMS refund
    "cancelled_upstream",  # the upstream confirmed the number cancelled
    "credited",            # the price was credited back to the balance
    "finished_upstream",   # the upstream was told the activation is done
)


def add(rental_id: int, kind: str, at: datetime, detail: str = "") -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown timeline event {kind!r}")
    RentalEvent.create(rental=rental_id, kind=kind, at=at, detail=detail[:255])


def of(rental_id: int) -> list[RentalEvent]:
    """The rental's events in the order they happened."""
    return of_many([rental_id])[rental_id]


def of_many(rental_ids) -> dict[int, list[RentalEvent]]:
    """The events of each of these rentals, in order, by rental id (one query)."""
    found: dict[int, list[RentalEvent]] = {rental_id: [] for rental_id in rental_ids}
    if found:
        for event in (RentalEvent.select().where(RentalEvent.rental.in_(list(found)))
                      .order_by(RentalEvent.at, RentalEvent.id)):
            found[event.rental_id].append(event)
    return found
