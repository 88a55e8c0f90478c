"""Rate limits held in the database: every attempt a limit counts is an ``Attempt`` row, so
the limit holds across every worker and instance.

``reserve`` counts and records in one write transaction: the count within the window and the
new row are one step, so requests racing for the last free attempt cannot all get it (SQLite's
``BEGIN IMMEDIATE`` serializes writers; on PostgreSQL each limit's key is held by an advisory
lock until the transaction ends). A sign-in reserves before it checks the password, outside
the transaction, and hands the reservation back when the password was right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import Attempt

# The scopes of the limits: sign-ins per account (the email typed) and per client address,
# registrations per client address.
ACCOUNT, ADDRESS, REGISTRATION = "account", "address", "register"


@dataclass(frozen=True)
class Limit:
    """At most ``most`` attempts of ``scope`` for ``key`` within ``window`` seconds."""

    scope: str
    key: str
    most: int
    window: int


def reserve(limits: list[Limit]) -> list[int] | None:
    """Record one attempt under each limit and return the rows' ids, or ``None`` (recording
    nothing) when any of the limits has no attempt left within its window."""
    now = utcnow()
    with db.locked_transaction(*(f"{limit.scope}:{limit.key}" for limit in limits)):
        for limit in limits:  # what the window no longer holds is forgotten
            since = now - timedelta(seconds=limit.window)
            Attempt.delete().where(*_of(limit), Attempt.at <= since).execute()
        if any(Attempt.select().where(*_of(limit)).count() >= limit.most for limit in limits):
            return None
        return [Attempt.create(scope=limit.scope, key=limit.key, at=now).id for limit in limits]


def release(reservation: list[int]) -> None:
    """Take a reservation back: the attempt does not count (a right password)."""
    Attempt.delete().where(Attempt.id.in_(reservation)).execute()


def _of(limit: Limit):
    return Attempt.scope == limit.scope, Attempt.key == limit.key
