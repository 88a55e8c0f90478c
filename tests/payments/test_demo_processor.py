"""The demo processor signs exactly what the real webhook parsers accept."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.payments import card, crypto, demo
from portal.payments.errors import InvalidWebhook

STRIPE_SECRET = "whsec_demo"
IPN_SECRET = "ipn-demo"
NOW = 1_750_000_000


def parse_stripe(payload: bytes, at: int = NOW):
    return card.parse_event(payload, demo.stripe_signature_header(payload, STRIPE_SECRET, at), STRIPE_SECRET, now=NOW)


def test_stripe_signature_header_is_stripes_scheme():
    payload = b'{"id": "evt_1"}'
    header = demo.stripe_signature_header(payload, STRIPE_SECRET, 1234)
    expected = hmac.new(STRIPE_SECRET.encode(), b"1234." + payload, hashlib.sha256).hexdigest()
    assert header == f"t=1234,v1={expected}"


def test_a_stale_demo_signature_is_refused_like_any_other():
    payload = demo.checkout_expired_event(
        deposit_reference="dep_1", session_id="cs_1", amount_cents=100, currency="usd", event_id="evt_1", created=NOW
    )
    with pytest.raises(InvalidWebhook, match="signature.expired"):
        parse_stripe(payload, at=NOW - 301)


def test_checkout_completed_event_round_trip():
    payload = demo.checkout_completed_event(
        deposit_reference="dep_9",
        session_id="cs_demo_1",
        payment_intent="pi_demo_1",
        amount_cents=4999,
        currency="usd",
        event_id="evt_demo_1",
        created=NOW - 5,
    )
    assert card.checkout_outcome(parse_stripe(payload)) == card.CardPayment(
        deposit_reference="dep_9",
        session_id="cs_demo_1",
        payment_intent="pi_demo_1",
        amount_cents=4999,
        currency="USD",
        paid=True,
        failed=False,
        expired=False,
        event_id="evt_demo_1",
        event_type="checkout.session.completed",
        created=NOW - 5,
    )


def test_checkout_expired_event_round_trip():
    payload = demo.checkout_expired_event(
        deposit_reference="dep_9", session_id="cs_demo_1", amount_cents=4999, currency="usd", event_id="evt_2", created=NOW
    )
    outcome = card.checkout_outcome(parse_stripe(payload))
    assert (outcome.paid, outcome.failed, outcome.expired, outcome.payment_intent) == (False, False, True, None)


def test_checkout_event_looks_like_stripes():
    payload = demo.checkout_event(
        "checkout.session.async_payment_failed",
        deposit_reference="dep_9",
        session_id="cs_demo_1",
        payment_intent="pi_demo_1",
        amount_cents=4999,
        currency="USD",
        event_id="evt_3",
        created=NOW,
    )
    event = json.loads(payload)
    assert (event["object"], event["livemode"], event["data"]["object"]["object"]) == ("event", False, "checkout.session")
    assert event["data"]["object"]["currency"] == "usd"
    assert event["data"]["object"]["payment_status"] == "unpaid"
    assert card.checkout_outcome(parse_stripe(payload)).failed is True


@pytest.mark.parametrize(
    "status, event_type",
    [("pending", "refund.created"), ("succeeded", "refund.updated"), ("failed", "refund.failed"), ("canceled", "refund.updated")],
)
def test_refund_event_round_trip(status, event_type):
    payload = demo.refund_event(
        refund_id="re_demo_1",
        payment_intent="pi_demo_1",
        amount_cents=700,
        currency="usd",
        status=status,
        event_id="evt_r",
        created=NOW,
        deposit_reference="dep_9",
    )
    update = card.refund_outcome(parse_stripe(payload))
    assert (update.refund_id, update.payment_intent, update.amount_cents, update.status, update.event_type) == (
        "re_demo_1",
        "pi_demo_1",
        700,
        status,
        event_type,
    )
    assert update.deposit_reference == "dep_9"
    assert (update.failure_reason is not None) is (status == "failed")


class Recorder:
    """A ``deliver`` that keeps what the demo gateways send, and answers 200."""

    def __init__(self):
        self.sent = []

    def __call__(self, path, body, headers):
        self.sent.append((path, body, headers))
        return 200


def card_gateway():
    return demo.DemoCardGateway("whsec_demo", Recorder())


def crypto_gateway():
    return demo.DemoCryptoGateway(IPN_SECRET, Recorder())


CHECKOUT = dict(success_url="/back", cancel_url="/back", customer_email=None)
INVOICE = dict(ipn_callback_url="/webhooks/crypto", success_url="/back", cancel_url="/back")


def test_demo_checkout_session_and_invoice_urls():
    gateway = card_gateway()
    session = gateway.start_checkout(deposit_reference="dep_1", amount_cents=500, currency="usd", **CHECKOUT)
    invoice = crypto_gateway().create_invoice(deposit_reference="dep_1", amount_cents=500, pay_currency="ETH",
                                              **INVOICE)
    assert re.fullmatch(r"cs_demo_[0-9a-f]{24}", session.id)
    assert re.fullmatch(r"inv_demo_[0-9a-f]{24}", invoice.id)
    assert session.url == f"/demo/checkout/{session.id}"
    assert invoice.url == f"/demo/invoice/{invoice.id}"
    again = gateway.start_checkout(deposit_reference="dep_1", amount_cents=500, currency="usd", **CHECKOUT)
    assert again.id != session.id


def test_a_demo_refund_is_pending_and_its_success_is_announced_by_a_signed_event():
    gateway = card_gateway()
    refund = gateway.refund(payment_intent="pi_demo_1", amount_cents=100, idempotency_key="k",
                            deposit_reference="dep_1")
    assert refund.status == "pending" and refund.id.startswith("re_demo_")
    [(path, body, headers)] = gateway.deliver.sent
    event = card.parse_event(body, headers["Stripe-Signature"], "whsec_demo")
    update = card.refund_outcome(event)
    assert (path, update.refund_id, update.status, update.amount_cents) == ("/webhooks/stripe", refund.id,
                                                                              "succeeded", 100)


def test_a_demo_invoice_payment_is_a_signed_ipn_of_the_quoted_coins_less_the_fee():
    gateway = crypto_gateway()
    quote = gateway.quote("BTC", 9000)
    gateway.pay_invoice(deposit_reference="dep_1", coin="BTC", amount_cents=9000)
    [(path, body, headers)] = gateway.deliver.sent
    update = crypto.parse_ipn(body, headers[crypto.SIGNATURE_HEADER], IPN_SECRET)
    assert (path, quote.pay_minor, update.paid_minor) == ("/webhooks/crypto", 100_000, 100_000 - 1_000)


@pytest.mark.parametrize(
    "call",
    [
        lambda: card_gateway().start_checkout(deposit_reference="d", amount_cents=0, currency="usd", **CHECKOUT),
        lambda: card_gateway().start_checkout(deposit_reference="d", amount_cents=1.5, currency="usd", **CHECKOUT),
        lambda: crypto_gateway().create_invoice(deposit_reference="d", amount_cents=-1, pay_currency="BTC",
                                                **INVOICE),
    ],
)
def test_demo_refuses_bad_amounts(call):
    with pytest.raises(ValueError):
        call()


def test_demo_invoice_refuses_unknown_coin():
    with pytest.raises(KeyError):
        crypto_gateway().create_invoice(deposit_reference="d", amount_cents=100, pay_currency="LTC", **INVOICE)


def ipn(coin: str, paid_minor: int, pay_minor: int = 10**6, status: str = "finished", cents: int = 1000):
    return demo.ipn_body(
        payment_id=5077125051,
        order_id="dep_9",
        status=status,
        pay_currency=coin,
        price_amount_cents=cents,
        pay_amount_minor=pay_minor,
        actually_paid_minor=paid_minor,
    )


@pytest.mark.parametrize("status", crypto.STATUSES)
def test_ipn_round_trip_for_every_status(status):
    signed = demo.signed_ipn(ipn("BTC", 30_000, 30_000, status=status, cents=2000), IPN_SECRET)
    update = crypto.parse_ipn(signed.body, signed.signature, IPN_SECRET)
    assert update == crypto.IpnUpdate(
        payment_id="5077125051",
        order_id="dep_9",
        status=status,
        pay_currency="BTC",
        paid_minor=30_000,
        pay_amount_minor=30_000,
        settled_usd_cents=2000,
        is_finished=status == "finished",
        is_failed=status in ("failed", "expired"),
    )


def test_ipn_body_looks_like_nowpayments():
    body = ipn("USDT", 12_340_000, 12_340_000, cents=1234)
    assert body["pay_currency"] == "usdttrc20" and body["price_currency"] == "usd"
    assert body["price_amount"] == Decimal("12.34") and body["actually_paid"] == Decimal("12.34")
    assert set(body) >= {"payment_id", "payment_status", "pay_address", "pay_amount", "outcome_amount", "outcome_currency", "fee"}
    raw = demo.signed_ipn(body, IPN_SECRET).body
    assert b'"price_amount":12.34,' in raw and b'"actually_paid":12.34,' in raw


def test_ipn_amounts_a_double_cannot_hold_are_sent_as_strings():
    body = ipn("ETH", 1_234_567_890_123_456_789)
    assert body["actually_paid"] == "1.234567890123456789"
    assert ipn("ETH", 10**15)["actually_paid"] == Decimal("0.001")


def test_ipn_signed_for_another_secret_is_refused():
    signed = demo.signed_ipn(ipn("BTC", 1), "not-the-secret")
    with pytest.raises(InvalidWebhook, match="signature.mismatch"):
        crypto.parse_ipn(signed.body, signed.signature, IPN_SECRET)


@given(
    coin=st.sampled_from(sorted(crypto.CURRENCIES)),
    paid_minor=st.integers(min_value=0, max_value=10**26),
    pay_minor=st.integers(min_value=1, max_value=10**26),
    cents=st.integers(min_value=1, max_value=10**9),
)
def test_ipn_amounts_survive_the_wire_exactly(coin, paid_minor, pay_minor, cents):
    signed = demo.signed_ipn(ipn(coin, paid_minor, pay_minor, cents=cents), IPN_SECRET)
    update = crypto.parse_ipn(signed.body, signed.signature, IPN_SECRET)
    assert (update.paid_minor, update.pay_amount_minor) == (paid_minor, pay_minor)
    assert update.settled_usd_cents == cents * min(paid_minor, pay_minor) // pay_minor


@pytest.mark.parametrize("event_type", sorted(demo.CHECKOUT_SESSION_STATES))
def test_every_checkout_event_the_demo_builds_is_read_back(event_type):
    payload = demo.checkout_event(
        event_type,
        deposit_reference="dep_9",
        session_id="cs_demo_1",
        payment_intent="pi_demo_1",
        amount_cents=1,
        currency="usd",
        event_id="evt_4",
        created=NOW,
    )
    outcome = card.checkout_outcome(parse_stripe(payload))
    assert outcome.event_type == event_type
    assert outcome.paid is event_type.endswith(("completed", "succeeded"))
    assert set(demo.CHECKOUT_SESSION_STATES) == card.CHECKOUT_EVENTS
