"""The outbox's rules (``portal.jobs.outbox``) on SQLite and PostgreSQL: the backoff table, a
key written once, one claim per row, the move to sent / pending / dead, a lapsed claim taken
again, staff's retry; and the staff page that shows it all."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from card_refund_steps import staff_member
from portal.jobs import outbox
from portal.jobs.outbox import DeliveryFailed
from portal.store import db
from portal.store.models import OutboxMessage

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

# tries so far -> wait before the next try
BACKOFFS = [(1, 5), (2, 10), (3, 20), (4, 40), (5, 80), (8, 640), (10, 2560), (11, 3600), (30, 3600)]


@pytest.mark.parametrize("tries, seconds", BACKOFFS)
def test_backoff_doubles_from_five_seconds_up_to_an_hour(tries, seconds):
    assert outbox.backoff(tries) == timedelta(seconds=seconds)


def test_backoff_is_for_a_row_that_was_tried():
    with pytest.raises(ValueError):
        outbox.backoff(0)


def add(key="k1", channel="email", now=T0) -> OutboxMessage:
    return outbox.add(key=key, channel=channel, target="ann@example.com", kind="ticket_received",
                      subject="Hi", body="Hello", now=now)


class Receiver:
    """A sender whose answers a test sets: None delivers, a string fails with that error."""

    def __init__(self, *answers):
        self.answers, self.got = list(answers), []

    def __call__(self, row):
        self.got.append(row.key)
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise DeliveryFailed(answer)


def test_a_key_is_written_once(connected):
    first, again = add(), add()
    assert first.id == again.id and OutboxMessage.select().count() == 1


def test_a_duplicate_key_leaves_the_callers_transaction_usable(connected):
    with db.money_transaction():
        add()
        add()
        add("k2")
    assert OutboxMessage.select().count() == 2


def test_one_claim_per_row(connected):
    row = add()
    assert outbox.claim(row.id, T0) is not None
    assert outbox.claim(row.id, T0) is None  # another consumer finds it taken
    assert outbox.claim(row.id, T0 + timedelta(seconds=outbox.CLAIM_SECONDS - 1)) is None
    lapsed = outbox.claim(row.id, T0 + timedelta(seconds=outbox.CLAIM_SECONDS + 1))
    assert lapsed is not None and lapsed.tries == 2  # its consumer died: taken again


def test_only_due_rows_of_channels_with_a_sender_are_claimed(connected):
    due = add("due")
    add("later", now=T0 + timedelta(minutes=5))
    add("other", channel="loopback")
    assert outbox.due(["email"], T0) == [due.id]


def test_a_delivered_row_is_sent_once(connected):
    row = add()
    receiver = Receiver()
    assert outbox.deliver_due({"email": receiver}, T0) == {"sent": 1}
    assert outbox.deliver_due({"email": receiver}, T0 + timedelta(hours=2)) == {}
    stored = OutboxMessage.get_by_id(row.id)
    assert (stored.state, stored.tries, stored.error) == ("sent", 1, "") and stored.sent_at
    assert receiver.got == ["k1"]


def test_failures_back_off_then_the_row_dies_and_staff_retry_it(connected):
    row = add()
    receiver = Receiver(*["refused"] * outbox.MAX_TRIES)
    now = T0
    for attempt in range(1, outbox.MAX_TRIES):
        assert outbox.deliver(row.id, {"email": receiver}, now) == "pending"
        stored = OutboxMessage.get_by_id(row.id)
        assert stored.tries == attempt and stored.error == "refused"
        assert stored.next_attempt_at == now + outbox.backoff(attempt)
        assert outbox.deliver(row.id, {"email": receiver}, now) is None  # not due yet
        now = stored.next_attempt_at
    assert outbox.deliver(row.id, {"email": receiver}, now) == "dead"
    assert outbox.deliver(row.id, {"email": receiver}, now + timedelta(days=1)) is None
    assert outbox.retry(row.id, now) and not outbox.retry(row.id, now)
    assert outbox.deliver(row.id, {"email": receiver}, now) == "sent"
    assert len(receiver.got) == outbox.MAX_TRIES + 1


def test_a_sender_that_raises_a_bug_fails_the_try_not_the_row(connected):
    row = add()

    def broken(_row):
        raise KeyError("oops")

    assert outbox.deliver(row.id, {"email": broken}, T0) == "pending"
    assert "KeyError" in OutboxMessage.get_by_id(row.id).error


def test_a_slow_consumers_late_outcome_does_not_overwrite_a_newer_try(connected):
    row = add()
    first = outbox.claim(row.id, T0)
    later = T0 + timedelta(seconds=outbox.CLAIM_SECONDS + 1)
    assert outbox.deliver(row.id, {"email": Receiver()}, later) == "sent"  # the claim lapsed
    outbox._failed(first, "too late", later)  # the first consumer wakes up and fails
    assert OutboxMessage.get_by_id(row.id).state == "sent"


def test_staff_see_states_tries_and_errors_and_retry_a_dead_row(app, customer):
    with db.connection():
        dead = add("dead-one")
        OutboxMessage.update(state="dead", tries=8, error="550 mailbox unavailable").where(
            OutboxMessage.id == dead.id).execute()
        add("fine")
    staff = staff_member(app)
    page = staff.get("/staff/outbox").get_data(as_text=True)
    assert "550 mailbox unavailable" in page and "dead: 1" in page and "Queue: <strong>immediate" in page
    only_dead = staff.get("/staff/outbox?state=dead", htmx=True).get_data(as_text=True)
    assert "550 mailbox unavailable" in only_dead and only_dead.count("<tr class=\"outbox-") == 1
    staff.refresh_token("/staff/outbox")
    retried = staff.post(f"/staff/outbox/{dead.id}/retry", htmx=True)
    assert retried.status_code == 200 and "due again" in retried.get_data(as_text=True)
    again = staff.post(f"/staff/outbox/{dead.id}/retry", htmx=True)
    assert again.status_code == 409
    with db.connection():
        assert OutboxMessage.get_by_id(dead.id).state == "pending"  # no SMTP here: it waits


def test_customers_cannot_see_the_outbox(customer):
    assert customer.get("/staff/outbox").status_code == 404
