"""Card disputes from Stripe's signed ``charge.dispute.*`` events: in every order, twice,
after a refund and after spending; the money, the receivable, the account's restriction
and the ledger's invariants after each."""

from __future__ import annotations

import itertools
import time

import pytest

from card_refund_steps import balance, paid_card_deposit, purchase, refunded_deposit, user_id
from portal.store import db
from portal.money import ledger
from portal.store.models import Dispute, User
from portal.payments import demo
from test_webhooks import secret, send_stripe

DUE_BY = 1_900_000_000


def dispute_event(app, deposit, event_type, status, amount=None, dispute_id="dp_1", currency="usd",
                  event_id=None):
    with db.connection():
        deposit = type(deposit).get_by_id(deposit.id)
    payload = demo.dispute_event(
        event_type, dispute_id=dispute_id, payment_intent=deposit.payment_intent,
        amount_cents=deposit.credited_cents if amount is None else amount, currency=currency,
        status=status, event_id=event_id or demo.new_id("evt"), created=int(time.time()),
        due_by=DUE_BY)
    return send_stripe(app.test_client(), payload, secret(app))


def deliver(app, deposit, events, **kwargs):
    for event_type, status in events:
        answer = dispute_event(app, deposit, event_type, status, **kwargs)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer


def standing(email="ann@example.com"):
    with db.connection():
        return User.get(User.email == email).status


def owed():
    with db.connection():
        return ledger.owed(user_id())


def books_sound():
    with db.connection():
        assert ledger.check() == []


OPENED = ("charge.dispute.created", "needs_response")
WITHDRAWN = ("charge.dispute.funds_withdrawn", "needs_response")
REVIEWED = ("charge.dispute.updated", "under_review")
WON = ("charge.dispute.closed", "won")
REINSTATED = ("charge.dispute.funds_reinstated", "won")
LOST = ("charge.dispute.closed", "lost")


def test_a_dispute_takes_the_amount_back_and_restricts_the_account_until_it_is_won(app, customer):
    deposit = paid_card_deposit(customer, "25")
    deliver(app, deposit, [OPENED, WITHDRAWN])
    assert (balance(), owed(), standing()) == (0, 0, "restricted")
    with db.connection():
        dispute = Dispute.get()
    assert (dispute.state, dispute.amount_cents, dispute.due_by.timestamp()) == ("needs_response", 2500, DUE_BY)
    # Restricted: no deposits and no rentals, but tickets still open.
    assert customer.deposit("10", "card").status_code == 422
    customer.refresh_token("/tickets/new")
    assert customer.post("/tickets", {"category": "payment", "subject": "Dispute",
                                      "body": "About my dispute"}, htmx=True).status_code == 204
    books_sound()
    deliver(app, deposit, [WON, REINSTATED])
    assert (balance(), owed(), standing()) == (2500, 0, "active")
    books_sound()


def test_a_dispute_of_a_partly_spent_deposit_is_owed_beyond_the_balance_and_stays_when_lost(app, customer):
    deposit = paid_card_deposit(customer, "25")
    with db.connection():
        purchase(deposit.user_id, 1000)
    deliver(app, deposit, [OPENED, WITHDRAWN])
    assert (balance(), owed()) == (0, 1000)
    deliver(app, deposit, [REVIEWED, LOST])
    assert (balance(), owed(), standing()) == (0, 1000, "active")
    with db.connection():
        assert Dispute.get().state == "lost"
    books_sound()


def test_a_dispute_after_a_refund_is_owed_in_full(app, customer):
    _staff, deposit, _ticket = refunded_deposit(app, customer, "10")
    assert balance() == 0
    deliver(app, deposit, [OPENED, WITHDRAWN])
    assert (balance(), owed(), standing()) == (0, 1000, "restricted")
    deliver(app, deposit, [WON])
    assert (balance(), owed(), standing()) == (0, 0, "active")
    books_sound()


def test_a_partial_dispute_takes_only_its_amount(app, customer):
    deposit = paid_card_deposit(customer, "25")
    deliver(app, deposit, [OPENED, WITHDRAWN, LOST], amount=700)
    assert (balance(), owed()) == (1800, 0)
    books_sound()


def test_every_event_delivered_twice_counts_once(app, customer):
    deposit = paid_card_deposit(customer, "25")
    with db.connection():
        purchase(deposit.user_id, 500)
    for event in (OPENED, WITHDRAWN, REVIEWED):
        for _ in range(2):
            deliver(app, deposit, [event], event_id="evt_same_" + event[0])
    assert (balance(), owed()) == (0, 500)
    for _ in range(2):
        deliver(app, deposit, [WON, REINSTATED])
    assert (balance(), owed(), standing()) == (2000, 0, "active")
    with db.connection():
        assert Dispute.select().count() == 1
    books_sound()


WON_RUN = [OPENED, WITHDRAWN, WON, REINSTATED]
LOST_RUN = [OPENED, WITHDRAWN, REVIEWED, LOST]
ORDERS = ([("won", order) for order in itertools.permutations(WON_RUN)]
          + [("lost", order) for order in itertools.permutations(LOST_RUN)])


@pytest.mark.parametrize("outcome, order", ORDERS,
                         ids=[f"{o}-" + "-".join(e[0].rsplit(".", 1)[1] for e in order) for o, order in ORDERS])
def test_every_ordering_of_the_dispute_events_ends_the_same(app, customer, outcome, order):
    deposit = paid_card_deposit(customer, "25")
    with db.connection():
        purchase(deposit.user_id, 1000)
    deliver(app, deposit, order)
    expected = (1500, 0) if outcome == "won" else (0, 1000)
    assert (balance(), owed(), standing()) == (*expected, "active")
    with db.connection():
        assert Dispute.get().state == outcome
    books_sound()


def test_an_inquiry_restricts_but_moves_no_money_and_its_closing_lifts_the_restriction(app, customer):
    deposit = paid_card_deposit(customer, "25")
    deliver(app, deposit, [("charge.dispute.created", "warning_needs_response")])
    assert (balance(), owed(), standing()) == (2500, 0, "restricted")
    deliver(app, deposit, [("charge.dispute.closed", "warning_closed")])
    assert (balance(), owed(), standing()) == (2500, 0, "active")
    books_sound()


def test_two_disputes_keep_the_account_restricted_until_both_are_closed(app, customer):
    first, second = paid_card_deposit(customer, "10"), paid_card_deposit(customer, "20")
    deliver(app, first, [OPENED], dispute_id="dp_a")
    deliver(app, second, [OPENED], dispute_id="dp_b")
    deliver(app, first, [LOST], dispute_id="dp_a")
    assert standing() == "restricted"
    deliver(app, second, [WON], dispute_id="dp_b")
    assert (balance(), standing()) == (2000, "active")
    books_sound()


def test_a_suspended_account_stays_suspended_when_its_dispute_closes(app, customer):
    deposit = paid_card_deposit(customer, "25")
    with db.connection():
        User.update(status="suspended").where(User.id == deposit.user_id).execute()
    deliver(app, deposit, [OPENED, WON])
    assert standing() == "suspended"


MALFORMED = [
    ("more than the deposit", dict(amount=2501), "payload.amount"),
    ("another currency", dict(currency="eur"), "payload.amount"),
    ("nothing", dict(amount=0), "payload.amount"),
    ("a status Stripe does not have", dict(status="pending"), "payload.status"),
]


@pytest.mark.parametrize("case, changes, reason", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_a_malformed_dispute_event_answers_400_and_writes_nothing(app, customer, case, changes, reason):
    deposit = paid_card_deposit(customer, "25")
    changes = dict(changes)
    status = changes.pop("status", "needs_response")
    answer = dispute_event(app, deposit, "charge.dispute.created", status, **changes)
    assert (answer.status_code, answer.json["error"]) == (400, reason)
    assert (balance(), owed(), standing()) == (2500, 0, "active")
    with db.connection():
        assert Dispute.select().count() == 0


def test_a_dispute_of_a_payment_that_is_not_ours_is_acknowledged_and_ignored(app, customer):
    payload = demo.dispute_event("charge.dispute.created", dispute_id="dp_x", payment_intent="pi_unknown",
                                 amount_cents=100, currency="usd", status="needs_response",
                                 event_id="evt_x", created=int(time.time()))
    answer = send_stripe(app.test_client(), payload, secret(app))
    assert answer.status_code == 200 and answer.json["dispute"] is None
