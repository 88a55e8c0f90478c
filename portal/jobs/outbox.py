"""The transactional outbox: every side effect is a row written with its cause, delivered
later by a job, at least once.

``add`` writes the row inside the caller's transaction, so a side effect exists exactly
when its cause committed; its ``key`` is unique, so a cause that runs twice writes one row.
``deliver`` claims a due row by a conditional UPDATE (one consumer wins), hands it to the
sender of its channel and records the outcome: ``sent``, or back to ``pending`` with the
next try ``backoff(tries)`` later, or ``dead`` after ``MAX_TRIES`` (customers' webhooks:
after a day of tries, ``GIVE_UP_AFTER``). A consumer killed in the
middle leaves its claim to lapse after ``CLAIM_SECONDS``; the row is then delivered again,
which is why every receiver gets the row's ``key`` to deduplicate by.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping

from peewee import IntegrityError, fn

from portal.states import OUTBOX_DUE
from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import OutboxMessage, User

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
MAX_TRIES = 8
# Channels retried for a time rather than a number of tries (customers' webhooks: a day)
GIVE_UP_AFTER = {"webhook": timedelta(hours=24)}
CLAIM_SECONDS = 60
FIRST_RETRY = timedelta(seconds=5)
LONGEST_WAIT = timedelta(hours=1)


class DeliveryFailed(Exception):
    """The receiver could not be reached or refused; the text says why (no secrets)."""


Sender = Callable[[OutboxMessage], None]


def backoff(tries: int) -> timedelta:
    """How long to wait after the ``tries``-th failed try: 5 s, doubling, at most an hour."""
    if tries < 1:
        raise ValueError("backoff is for a row that was tried")
    return min(FIRST_RETRY * 2 ** (tries - 1), LONGEST_WAIT)


def add(*, key: str, channel: str, target: str, kind: str, body: str, subject: str = "",
        headers: Mapping[str, str] | None = None, user: User | int | None = None,
        now: datetime | None = None) -> OutboxMessage:
    """Write a side effect to deliver (in the caller's transaction); the row already there
    when one with the same ``key`` was written before."""
    now = now or utcnow()
    try:
        with database.atomic():  # a savepoint: a duplicate key leaves the caller's transaction usable
            return OutboxMessage.create(
                key=key[:128], channel=channel, target=target, kind=kind, subject=subject[:255],
                body=body, headers=json.dumps(dict(headers or {})), user=user, state=PENDING,
                next_attempt_at=now, created_at=now)
    except IntegrityError:
        return OutboxMessage.get(OutboxMessage.key == key[:128])


def due(channels: Iterable[str], now: datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of rows of ``channels`` that a consumer may claim now, oldest first."""
    now = now or utcnow()
    query = (OutboxMessage.select(OutboxMessage.id)
             .where(OutboxMessage.channel.in_(list(channels)), _claimable(now))
             .order_by(OutboxMessage.id).limit(limit))
    return [row_id for (row_id,) in query.tuples()]


def _claimable(now: datetime):
    waiting = (OutboxMessage.state == PENDING) & (OutboxMessage.next_attempt_at <= now)
    abandoned = (OutboxMessage.state == SENDING) & (OutboxMessage.claimed_until < now)
    return waiting | abandoned


def claim(row_id: int, now: datetime | None = None,
          claim_seconds: float = CLAIM_SECONDS) -> OutboxMessage | None:
    """Take a due row for delivery (for ``claim_seconds``); None when it is not due or
    another consumer has it."""
    now = now or utcnow()
    won = (OutboxMessage.update(state=SENDING, tries=OutboxMessage.tries + 1,
                                claimed_until=now + timedelta(seconds=claim_seconds))
           .where(OutboxMessage.id == row_id, OutboxMessage.state.in_(OUTBOX_DUE), _claimable(now))
           .execute())
    return OutboxMessage.get_by_id(row_id) if won else None


def deliver(row_id: int, senders: Mapping[str, Sender], now: datetime | None = None,
            claim_seconds: float = CLAIM_SECONDS) -> str | None:
    """Claim one row and deliver it; its state afterwards, or None when it was not ours."""
    now = now or utcnow()
    row = claim(row_id, now, claim_seconds)
    if row is None:
        return None
    sender = senders.get(row.channel)
    try:
        if sender is None:
            raise DeliveryFailed(f"no sender for channel {row.channel!r}")
        sender(row)
    except DeliveryFailed as failed:
        return _failed(row, str(failed), now)
    except Exception as bug:  # a sender's bug must not leave the row claimed for good
        log.exception("outbox %s: sender raised", row.key)
        return _failed(row, f"{type(bug).__name__}: {bug}", now)
    _move(row, SENT, sent_at=utcnow(), error="", claimed_until=None)
    return SENT


def _failed(row: OutboxMessage, error: str, now: datetime) -> str:
    log.warning("outbox %s: try %d failed: %s", row.key, row.tries, error)
    window = GIVE_UP_AFTER.get(row.channel)
    if (now - row.created_at >= window) if window else row.tries >= MAX_TRIES:
        _move(row, DEAD, error=error[:255], claimed_until=None)
        return DEAD
    _move(row, PENDING, error=error[:255], claimed_until=None,
          next_attempt_at=now + backoff(row.tries))
    return PENDING


def _move(row: OutboxMessage, state: str, **changes) -> None:
    OutboxMessage.update(state=state, **changes).where(
        OutboxMessage.id == row.id, OutboxMessage.state == SENDING,
        OutboxMessage.tries == row.tries).execute()


def deliver_due(senders: Mapping[str, Sender], now: datetime | None = None, limit: int = 100,
                claim_seconds: float = CLAIM_SECONDS) -> dict[str, int]:
    """Deliver what is due on the channels that have a sender; a count per outcome."""
    counts: dict[str, int] = {}
    for row_id in due(senders, now, limit):
        outcome = deliver(row_id, senders, now, claim_seconds)
        if outcome is not None:
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def retry(row_id: int, now: datetime | None = None) -> bool:
    """Staff's retry of a dead row: due again at once, with its tries counted afresh."""
    now = now or utcnow()
    return bool(OutboxMessage.update(state=PENDING, tries=0, next_attempt_at=now, claimed_until=None)
                .where(OutboxMessage.id == row_id, OutboxMessage.state == DEAD).execute())


def recent(state: str | None = None, limit: int = 200):
    """The newest rows (of one state), for the staff page."""
    query = OutboxMessage.select().order_by(OutboxMessage.id.desc()).limit(limit)
    return query.where(OutboxMessage.state == state) if state else query


def counts() -> dict[str, int]:
    """How many rows are in each state."""
    query = (OutboxMessage.select(OutboxMessage.state, fn.COUNT(OutboxMessage.id))
             .group_by(OutboxMessage.state).tuples())
    return {state: count for state, count in query}


def add_many(rows: Iterable[Mapping[str, object]], now: datetime | None = None) -> None:
    """Write many e-mails at once (``key``, ``target``, ``kind``, ``subject``, ``body``,
    ``user`` each; in the caller's transaction); a row whose key was written before stays
    as it was, so writing the same rows again adds nothing."""
    now = now or utcnow()
    values = [dict(key=str(row["key"])[:128], channel="email", target=row["target"], kind=row["kind"],
                   subject=str(row["subject"])[:255], body=row["body"], headers="{}", user=row["user"],
                   state=PENDING, tries=0, next_attempt_at=now, created_at=now) for row in rows]
    if values:
        OutboxMessage.insert_many(values).on_conflict_ignore().execute()


def states_of(key_prefix: str) -> dict[str, int]:
    """How many rows whose key starts with ``key_prefix`` are in each state."""
    query = (OutboxMessage.select(OutboxMessage.state, fn.COUNT(OutboxMessage.id))
             .where(OutboxMessage.key.startswith(key_prefix)).group_by(OutboxMessage.state).tuples())
    return {state: count for state, count in query}
