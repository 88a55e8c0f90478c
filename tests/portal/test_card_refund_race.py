"""A purchase racing a card-refund approval on the same wallet: exactly one wins, 200 times
on each database. Approval first: the purchase is refused for lack of funds. Purchase
first: the approval is refused as "spent since". The racers are two threads calling the
domain functions, each on its own database connection, released together by a barrier."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.money import card_refunds, deposits, ledger
from portal.store import db
from portal.support import tickets
from portal.store.models import CardRefund, Deposit, Entry, User
from portal.payments.card import CardPayment
from portal.policy import terms_in_force
from portal.store.fields import utcnow

try:  # the rentals' own purchase, once it exists; any ledger debit otherwise
    from portal.numbers import catalog, rentals
    from portal.numbers.sms import Simulator
except ImportError:
    rentals = None

ROUNDS = 200


def new_customer(terms) -> User:
    user = User.create(email=f"{uuid.uuid4().hex[:12]}@example.com", password_hash="-",
                       terms_version=terms.version, terms_sha256="0" * 64, terms_accepted_at=utcnow())
    ledger.open_wallet(user)
    return user


def credited_card_deposit(user: User, cents: int) -> Deposit:
    deposit = Deposit.create(reference=deposits.new_reference(), user=user, method="card",
                             amount_cents=cents, terms_version=terms_in_force(utcnow()).version,
                             state="checkout")
    deposits.settle_card(CardPayment(
        deposit_reference=deposit.reference, session_id="cs_race", payment_intent=f"pi_{deposit.id}",
        amount_cents=cents, currency="USD", paid=True, failed=False, expired=False,
        event_id=f"evt_{deposit.id}", event_type="checkout.session.completed", created=0))
    return Deposit.get_by_id(deposit.id)


def refund_request(terms, older_cents: int = 0):
    """A customer with a credited 5.00 card deposit (after ``older_cents`` of older money)
    and an open card-refund ticket for it."""
    user = new_customer(terms)
    if older_cents:
        ledger.post(f"older:{user.id}", "deposit",
                    [(ledger.house("crypto_clearing"), -older_cents), (ledger.wallet(user.id), older_cents)])
    deposit = credited_card_deposit(user, 500)
    ticket = tickets.open_ticket(user, category="card_refund", subject="Refund", body="Please",
                                 deposit_reference=deposit.reference)
    return user, deposit, ticket


@pytest.fixture
def arena(app):
    """An app context with a connection, a staff member and the demo catalog."""
    with app.app_context(), db.connection():
        if rentals is not None:
            catalog.seed_demo()
        staff = new_customer(terms_in_force(utcnow()))
        User.update(is_staff=True).where(User.id == staff.id).execute()
        yield app, staff


def race(app, *racers):
    """Run the racers at once, each in its own thread with its own connection."""
    barrier = threading.Barrier(len(racers))

    def run(racer):
        with app.app_context(), db.connection():
            barrier.wait()
            return racer()

    with ThreadPoolExecutor(len(racers)) as pool:
        return [future.result() for future in [pool.submit(run, r) for r in racers]]


def rent_a_number(user):
    """The rentals' own purchase: True when the number was rented (and paid)."""
    def buy():
        try:
            rentals.rent(user, "US", catalog.services()[0].code, provider=Simulator())
            return True
        except rentals.RentalRefused as refused:
            assert refused.reason == "rental.insufficient_funds", refused.reason
            return False
    return buy


def ledger_purchase(user):
    """Any other debit of the wallet through the ledger."""
    def buy():
        try:
            ledger.post(f"purchase:{uuid.uuid4().hex}", "purchase",
                        [(ledger.wallet(user.id), -100), (ledger.house("sales"), 100)])
            return True
        except ledger.InsufficientFunds:
            return False
    return buy


PURCHASE = rent_a_number if rentals is not None else ledger_purchase


def approval(ticket_id, staff):
    def approve():
        return card_refunds.approve(ticket_id, staff).decision
    return approve


def play(arena, purchase_of, rounds):
    app, staff = arena
    terms = terms_in_force(utcnow())
    won = {"approval": 0, "purchase": 0}
    for _ in range(rounds):
        user, deposit, ticket = refund_request(terms)
        decision, bought = race(app, approval(ticket.id, staff), purchase_of(user))
        assert decision.allowed != bought, (decision, bought)  # exactly one wins
        refund_count = CardRefund.select().where(CardRefund.deposit == deposit.id).count()
        if decision.allowed:
            won["approval"] += 1
            assert refund_count == 1 and ledger.balance(user.id) == 0
            assert Deposit.get_by_id(deposit.id).state == "refunding"
        else:
            won["purchase"] += 1
            assert decision.reason == "card_refund.spent_since"
            assert refund_count == 0 and ledger.balance(user.id) < 500
            assert Deposit.get_by_id(deposit.id).state == "succeeded"
    assert ledger.check() == []
    return won


def test_a_purchase_racing_an_approval_exactly_one_wins(arena):
    """200 rounds against the rentals' purchase (or any ledger debit before it exists)."""
    won = play(arena, PURCHASE, ROUNDS)
    assert sum(won.values()) == ROUNDS


def test_any_ledger_debit_racing_an_approval_exactly_one_wins(arena):
    won = play(arena, ledger_purchase, ROUNDS // 4)
    assert sum(won.values()) == ROUNDS // 4


def test_approval_first_refuses_the_purchase_for_lack_of_funds(arena):
    app, staff = arena
    user, deposit, ticket = refund_request(terms_in_force(utcnow()))
    assert card_refunds.approve(ticket.id, staff).decision.allowed
    assert PURCHASE(user)() is False  # refused for lack of funds


def test_purchase_first_refuses_the_approval_as_spent_since(arena):
    app, staff = arena
    user, deposit, ticket = refund_request(terms_in_force(utcnow()))
    assert PURCHASE(user)() is True
    outcome = card_refunds.approve(ticket.id, staff)
    assert (outcome.decision.allowed, outcome.decision.reason) == (False, "card_refund.spent_since")
    assert ledger.balance(user.id) < 500 and outcome.refund is None


def test_with_older_money_in_the_wallet_an_approval_never_follows_a_purchase(arena):
    """When the wallet holds more than the deposit, both may succeed, but only in the order
    approval then purchase: an approval never passes a purchase made after the deposit."""
    app, staff = arena
    terms = terms_in_force(utcnow())
    for _ in range(ROUNDS // 4):
        user, deposit, ticket = refund_request(terms, older_cents=1000)
        decision, bought = race(app, approval(ticket.id, staff), ledger_purchase(user))
        assert bought  # older money pays for it either way
        wallet_entries = [(e.txn.kind, e.id) for e in Entry.select().where(
            Entry.account == ledger.wallet(user.id).id).order_by(Entry.id)]
        kinds = [kind for kind, _ in wallet_entries]
        if decision.allowed:
            assert kinds[-2:] == ["card_refund", "purchase"], kinds
        else:
            assert decision.reason == "card_refund.spent_since" and kinds[-1] == "purchase", kinds
    assert ledger.check() == []
