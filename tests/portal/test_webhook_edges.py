"""Processor events that are validly signed but wrong: malformed ones answer 400 and write
nothing; a payment of another amount or currency than the deposit's is held, not credited;
a redelivered payment never revives a refunded deposit (issue 13, defects 2 to 4)."""

from __future__ import annotations

import json
import time

import pytest

from card_refund_steps import approve_refund, balance, refunded_deposit, request_refund, staff_member
from portal.store import db
from portal.money import ledger
from portal.store.models import Deposit, LedgerTransaction, Ticket
from portal.payments import demo
from portal.payments.crypto import SIGNATURE_HEADER
from test_card_refunds import meter_text
from test_webhooks import card_event, ipn, open_deposit, secret, send_stripe, state_of


def edited_event(deposit, **changes) -> bytes:
    """A completed checkout event for ``deposit`` with fields of its session replaced."""
    event = json.loads(card_event(deposit))
    event["data"]["object"].update(changes)
    return json.dumps(event).encode()


def nothing_written(deposit, state="checkout"):
    with db.connection():
        assert Deposit.get_by_id(deposit.id).state == state
        assert LedgerTransaction.select().count() == 0
        assert ledger.check() == []


MALFORMED_SESSIONS = [
    ("amount null", {"amount_total": None}, "payload.amount"),
    ("amount negative", {"amount_total": -1000}, "payload.amount"),
    ("amount fractional", {"amount_total": 10.5}, "payload.amount"),
    ("amount a string", {"amount_total": "1000"}, "payload.amount"),
    ("amount true", {"amount_total": True}, "payload.amount"),
    ("amount above the ledger's limit", {"amount_total": ledger.MAX_AMOUNT + 1}, "payload.amount"),
    ("amount far above", {"amount_total": 10**30}, "payload.amount"),
    ("currency of four letters", {"currency": "usdd"}, "payload.currency"),
    ("currency upper case", {"currency": "USD"}, "payload.currency"),
    ("currency missing", {"currency": None}, "payload.currency"),
    ("currency a number", {"currency": 840}, "payload.currency"),
    ("reference disagrees with metadata", {"client_reference_id": "dep_someone_else"}, "payload.malformed"),
    ("reference a number", {"client_reference_id": 42, "metadata": {}}, "payload.malformed"),
    ("payment intent a number", {"payment_intent": 7}, "payload.malformed"),
]


@pytest.mark.parametrize("case, changes, reason", MALFORMED_SESSIONS, ids=[c[0] for c in MALFORMED_SESSIONS])
def test_a_signed_but_malformed_checkout_event_answers_400_and_writes_nothing(
        app, customer, case, changes, reason, caplog):
    deposit = open_deposit(customer, amount="10")
    response = send_stripe(app.test_client(), edited_event(deposit, **changes), secret(app))
    assert (response.status_code, response.json["error"]) == (400, reason)
    assert any("webhook refused: " + reason in record.getMessage() for record in caplog.records)
    nothing_written(deposit)


def ipn_with(deposit, **changes) -> dict:
    body = ipn(deposit, "finished", paid_minor=10**6, pay_minor=10**6)
    body.update(changes)
    return body


MALFORMED_IPNS = [
    ("paid 1e5000", {"actually_paid": "1e5000"}),
    ("paid 1e-5000", {"actually_paid": "1e-5000"}),
    ("paid 1e999999999", {"actually_paid": "1e999999999"}),
    ("paid 1e-999999999", {"actually_paid": "1.5e-999999999"}),
    ("price 1e5000", {"price_amount": "1e5000"}),
    ("pay amount 1e400", {"pay_amount": "1e400"}),
    ("paid negative", {"actually_paid": "-1"}),
    ("paid Arabic-Indic digits", {"actually_paid": "١٠"}),
    ("paid full-width digits", {"actually_paid": "１０"}),
    ("status unknown", {"payment_status": "done"}),
    ("order id missing", {"order_id": None}),
]


@pytest.mark.parametrize("case, changes", MALFORMED_IPNS, ids=[c[0] for c in MALFORMED_IPNS])
def test_a_signed_but_malformed_ipn_answers_400_and_writes_nothing(app, customer, case, changes):
    deposit = open_deposit(customer, method="ETH", amount="40")
    signed = demo.signed_ipn(ipn_with(deposit, **changes), secret(app, "CRYPTO_IPN_SECRET"))
    response = app.test_client().post("/webhooks/crypto", data=signed.body,
                                      headers={SIGNATURE_HEADER: signed.signature})
    assert response.status_code == 400 and response.json["error"].startswith("payload.")
    nothing_written(deposit)


MISMATCHED_PAYMENTS = [
    ("twenty times the amount", {"amount_total": 200_000}, "200000", "USD"),
    ("10^12 cents", {"amount_total": 10**12}, str(10**12), "USD"),
    ("less than opened", {"amount_total": 500}, "500", "USD"),
    ("nothing", {"amount_total": 0}, "0", "USD"),
    ("another currency", {"currency": "eur"}, "1000", "EUR"),
]


@pytest.mark.parametrize("case, changes, paid, currency", MISMATCHED_PAYMENTS,
                         ids=[c[0] for c in MISMATCHED_PAYMENTS])
def test_a_card_payment_of_another_amount_or_currency_is_held_not_credited(
        app, customer, case, changes, paid, currency):
    deposit = open_deposit(customer, amount="10")
    client = app.test_client()
    response = send_stripe(client, edited_event(deposit, **changes), secret(app))
    assert response.status_code == 200 and response.json["credited"] is False
    held = state_of(deposit)
    assert (held.state, held.paid_minor, held.pay_currency, held.credited_cents) == (
        "held", paid, currency, None)
    nothing_written(deposit, "held")
    # The right amount arriving afterwards does not release it either: staff decide.
    assert send_stripe(client, card_event(deposit, event_id="evt_2"), secret(app)).json["credited"] is False
    nothing_written(deposit, "held")


def test_a_card_payment_credits_exactly_the_amount_the_deposit_was_opened_for(app, customer):
    deposit = open_deposit(customer, amount="10")
    response = send_stripe(app.test_client(), card_event(deposit), secret(app))
    assert response.json["credited"] is True
    with db.connection():
        assert (ledger.balance(deposit.user_id), Deposit.get_by_id(deposit.id).credited_cents) == (1000, 1000)


def test_a_redelivered_payment_does_not_revive_a_refunded_deposit(app, customer):
    staff, deposit, ticket = refunded_deposit(app, customer)
    assert (state_of(deposit).state, balance()) == ("refunded", 0)

    stored = state_of(deposit)
    redelivered = demo.checkout_completed_event(
        deposit_reference=deposit.reference, session_id=deposit.processor_ref,
        payment_intent=stored.payment_intent, amount_cents=1000, currency="usd",
        event_id="evt_redelivered", created=int(time.time()))
    answer = send_stripe(app.test_client(), redelivered, secret(app))
    assert answer.status_code == 200 and answer.json["credited"] is False
    assert (state_of(deposit).state, balance()) == ("refunded", 0)
    assert "Request a refund" not in customer.get("/deposits").get_data(as_text=True)
    assert "days 23 hours left" not in meter_text(customer, deposit)
    assert request_refund(customer, deposit).status_code == 422
    again = approve_refund(staff, ticket.id)
    assert again.status_code == 409
    with db.connection():
        assert Ticket.select().count() == 1 and ledger.check() == []


def held_deposit(app, customer, **changes):
    deposit = open_deposit(customer, amount="10")
    assert send_stripe(app.test_client(), edited_event(deposit, **changes), secret(app)).status_code == 200
    assert state_of(deposit).state == "held"
    return deposit


def staff_post(staff, path):
    staff.refresh_token("/staff/held/")
    return staff.post(path, htmx=True)


def test_staff_see_a_held_payment_and_credit_what_was_paid_once(app, customer):
    deposit = held_deposit(app, customer, amount_total=1500)
    staff = staff_member(app)
    assert customer.get("/staff/held/").status_code == 404
    listed = staff.get("/staff/held/").get_data(as_text=True)
    assert deposit.reference in listed and "$10.00" in listed and "$15.00" in listed
    assert "support is reviewing it" in customer.get(f"/deposits/{deposit.reference}").get_data(as_text=True)
    answer = staff_post(staff, f"/staff/held/{deposit.id}/credit")
    assert answer.status_code == 200 and "Credited" in answer.get_data(as_text=True)
    stored = state_of(deposit)
    assert (stored.state, stored.credited_cents, balance()) == ("succeeded", 1500, 1500)
    assert staff_post(staff, f"/staff/held/{deposit.id}/credit").status_code == 409
    with db.connection():
        assert ledger.check() == [] and LedgerTransaction.select().count() == 1


@pytest.mark.parametrize("changes, message", [
    ({"currency": "eur"}, "can only be returned"),
    ({"amount_total": 200_000}, "The maximum deposit is"),
    ({"amount_total": 100}, "The minimum deposit is"),
])
def test_a_held_payment_that_cannot_be_credited_says_why_and_stays_held(app, customer, changes, message):
    deposit = held_deposit(app, customer, **changes)
    answer = staff_post(staff_member(app), f"/staff/held/{deposit.id}/credit")
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    nothing_written(deposit, "held")


def test_staff_return_a_held_payment_to_the_card(app, customer):
    deposit = held_deposit(app, customer, currency="eur")
    staff = staff_member(app)
    answer = staff_post(staff, f"/staff/held/{deposit.id}/return")
    assert answer.status_code == 200 and "returned to the card" in answer.get_data(as_text=True)
    nothing_written(deposit, "returned")
    assert "returned to your card" in customer.get(f"/deposits/{deposit.reference}").get_data(as_text=True)
