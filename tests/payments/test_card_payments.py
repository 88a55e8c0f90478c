"""Tables of cases for portal.payments.card: signatures, event outcomes, API requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import stripe

from portal.payments import card, demo
from portal.payments.errors import InvalidWebhook, ProcessorError

SECRET = "whsec_test_secret"
NOW = 1_750_000_000


def sign(payload: bytes, *, secret: str = SECRET, at: int = NOW) -> str:
    """Stripe's scheme, computed here independently of the library and of demo.py."""
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def completed(**changes) -> dict:
    event = json.loads(
        demo.checkout_completed_event(
            deposit_reference="dep_42",
            session_id="cs_test_1",
            payment_intent="pi_test_1",
            amount_cents=2500,
            currency="usd",
            event_id="evt_1",
            created=NOW,
        )
    )
    event["data"]["object"].update(changes)
    return event


def as_event(event: dict) -> stripe.Event:
    payload = json.dumps(event).encode()
    return card.parse_event(payload, sign(payload), SECRET, now=NOW)


GOOD = json.dumps(completed()).encode()

SIGNATURE_CASES = [
    # (name, payload, header, secret, expected reason or None for accepted)
    ("valid", GOOD, sign(GOOD), SECRET, None),
    ("header missing", GOOD, None, SECRET, "signature.missing"),
    ("header empty", GOOD, "", SECRET, "signature.missing"),
    ("tampered body", GOOD.replace(b"2500", b"9500"), sign(GOOD), SECRET, "signature.mismatch"),
    ("wrong secret", GOOD, sign(GOOD, secret="whsec_other"), SECRET, "signature.mismatch"),
    ("stale by 301 s", GOOD, sign(GOOD, at=NOW - 301), SECRET, "signature.expired"),
    ("old by exactly 300 s", GOOD, sign(GOOD, at=NOW - 300), SECRET, None),
    ("future by 301 s", GOOD, sign(GOOD, at=NOW + 301), SECRET, "signature.future"),
    ("ahead by exactly 300 s", GOOD, sign(GOOD, at=NOW + 300), SECRET, None),
    ("timestamp swapped", GOOD, sign(GOOD, at=NOW - 1).replace(f"t={NOW - 1}", f"t={NOW}"), SECRET, "signature.mismatch"),
    ("no v1 scheme", GOOD, f"t={NOW},v0=abc", SECRET, "signature.mismatch"),
    ("no timestamp", GOOD, "v1=abc", SECRET, "signature.malformed"),
    ("timestamp not a number", GOOD, "t=soon,v1=abc", SECRET, "signature.malformed"),
    ("timestamp in arabic-indic digits", GOOD,
     sign(GOOD).replace(f"t={NOW}", "t=" + str(NOW).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))),
     SECRET, "signature.malformed"),
    ("timestamp with underscores", GOOD, sign(GOOD).replace(f"t={NOW}", f"t={NOW:_}"), SECRET,
     "signature.malformed"),
    ("garbage header", GOOD, "garbage", SECRET, "signature.malformed"),
    ("second of two v1 matches", GOOD, sign(GOOD) + ",v1=" + "0" * 64, SECRET, None),
    ("rotated secret listed first", GOOD, f"t={NOW},v1={'0' * 64}," + sign(GOOD).split(",")[1], SECRET, None),
    ("malformed JSON", b'{"id": "evt_1",', sign(b'{"id": "evt_1",'), SECRET, "payload.malformed"),
    ("JSON array", b"[]", sign(b"[]"), SECRET, "payload.malformed"),
    ("not an event", b'{"object": "charge"}', sign(b'{"object": "charge"}'), SECRET, "payload.malformed"),
    ("not UTF-8", b"\xff\xfe", f"t={NOW},v1={'0' * 64}", SECRET, "payload.malformed"),
]


@pytest.mark.parametrize(
    "payload, header, secret, reason",
    [case[1:] for case in SIGNATURE_CASES],
    ids=[case[0] for case in SIGNATURE_CASES],
)
def test_parse_event_signature(payload, header, secret, reason):
    if reason is None:
        event = card.parse_event(payload, header, secret, now=NOW)
        assert isinstance(event, stripe.Event)
        assert (event.id, event.type) == ("evt_1", "checkout.session.completed")
    else:
        with pytest.raises(InvalidWebhook) as caught:
            card.parse_event(payload, header, secret, now=NOW)
        assert caught.value.reason == reason


def test_parse_event_without_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        card.parse_event(GOOD, sign(GOOD), "", now=NOW)


@pytest.mark.parametrize("age, accepted", [(290, True), (310, False)])
def test_stale_rule_agrees_with_the_library_on_the_real_clock(age, accepted):
    signed_at = int(time.time()) - age
    header = sign(GOOD, at=signed_at)
    try:
        stripe.WebhookSignature.verify_header(GOOD, header, SECRET, tolerance=300)
        library_accepts = True
    except stripe.SignatureVerificationError:
        library_accepts = False
    try:
        card.parse_event(GOOD, header, SECRET)
        ours_accepts = True
    except InvalidWebhook as exc:
        assert exc.reason == "signature.expired"
        ours_accepts = False
    assert library_accepts is ours_accepts is accepted


def test_tolerance_is_a_parameter():
    header = sign(GOOD, at=NOW - 100)
    card.parse_event(GOOD, header, SECRET, tolerance=100, now=NOW)
    with pytest.raises(InvalidWebhook, match="signature.expired"):
        card.parse_event(GOOD, header, SECRET, tolerance=99, now=NOW)


OUTCOME_CASES = [
    # (event type, session changes, (paid, failed, expired))
    ("checkout.session.completed", {"payment_status": "paid"}, (True, False, False)),
    ("checkout.session.completed", {"payment_status": "unpaid"}, (False, False, False)),
    ("checkout.session.completed", {"payment_status": "no_payment_required"}, (False, False, False)),
    ("checkout.session.async_payment_succeeded", {"payment_status": "paid"}, (True, False, False)),
    ("checkout.session.async_payment_failed", {"payment_status": "unpaid"}, (False, True, False)),
    ("checkout.session.expired", {"payment_status": "unpaid", "status": "expired"}, (False, False, True)),
]


@pytest.mark.parametrize("event_type, changes, flags", OUTCOME_CASES)
def test_checkout_outcome_for_every_event_type(event_type, changes, flags):
    event = completed(**changes)
    event["type"] = event_type
    outcome = card.checkout_outcome(as_event(event))
    assert (outcome.paid, outcome.failed, outcome.expired) == flags
    assert outcome == card.CardPayment(
        deposit_reference="dep_42",
        session_id="cs_test_1",
        payment_intent="pi_test_1",
        amount_cents=2500,
        currency="USD",
        paid=flags[0],
        failed=flags[1],
        expired=flags[2],
        event_id="evt_1",
        event_type=event_type,
        created=NOW,
    )
    assert type(outcome.amount_cents) is int


@pytest.mark.parametrize(
    "event_type", ["payment_intent.succeeded", "charge.refunded", "refund.updated", "customer.created"]
)
def test_checkout_outcome_ignores_other_event_types(event_type):
    event = completed()
    event["type"] = event_type
    assert card.checkout_outcome(as_event(event)) is None


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"payment_intent": {"id": "pi_expanded", "object": "payment_intent"}}, {"payment_intent": "pi_expanded"}),
        ({"payment_intent": None}, {"payment_intent": None}),
        ({"currency": "eur"}, {"currency": "EUR"}),
        ({"amount_total": 0}, {"amount_cents": 0}),
        ({"amount_total": 10**12}, {"amount_cents": 10**12}),
        ({"client_reference_id": None}, {"deposit_reference": "dep_42"}),
        ({"metadata": {}}, {"deposit_reference": "dep_42"}),
    ],
)
def test_checkout_outcome_fields(changes, expected):
    outcome = card.checkout_outcome(as_event(completed(**changes)))
    assert {name: getattr(outcome, name) for name in expected} == expected


def test_checkout_outcome_for_a_session_without_our_reference_is_none():
    assert card.checkout_outcome(as_event(completed(client_reference_id=None, metadata={}))) is None


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"amount_total": 25.0}, "payload.amount"),
        ({"amount_total": 2500.5}, "payload.amount"),
        ({"amount_total": "2500"}, "payload.amount"),
        ({"amount_total": True}, "payload.amount"),
        ({"amount_total": None}, "payload.amount"),
        ({"amount_total": -1}, "payload.amount"),
        ({"currency": None}, "payload.currency"),
        ({"currency": "dollars"}, "payload.currency"),
        ({"object": "payment_intent"}, "payload.malformed"),
        ({"payment_intent": 7}, "payload.malformed"),
        ({"metadata": {"deposit_reference": "dep_other"}}, "payload.malformed"),
    ],
)
def test_checkout_outcome_refuses_bad_sessions(changes, reason):
    with pytest.raises(InvalidWebhook) as caught:
        card.checkout_outcome(as_event(completed(**changes)))
    assert caught.value.reason == reason


def refund_event(event_type: str, **changes) -> dict:
    event = json.loads(
        demo.refund_event(
            refund_id="re_1",
            payment_intent="pi_test_1",
            amount_cents=1500,
            currency="usd",
            status="succeeded",
            event_id="evt_r",
            created=NOW,
            deposit_reference="dep_42",
        )
    )
    event["type"] = event_type
    event["data"]["object"].update(changes)
    return event


@pytest.mark.parametrize(
    "event_type, refund_status, status",
    [
        ("refund.created", "pending", "pending"),
        ("refund.created", "requires_action", "pending"),
        ("refund.updated", "succeeded", "succeeded"),
        ("refund.updated", "canceled", "canceled"),
        ("refund.updated", "failed", "failed"),
        ("refund.failed", "failed", "failed"),
        ("charge.refund.updated", "succeeded", "succeeded"),
    ],
)
def test_refund_outcome(event_type, refund_status, status):
    update = card.refund_outcome(as_event(refund_event(event_type, status=refund_status)))
    assert update == card.RefundUpdate(
        refund_id="re_1",
        payment_intent="pi_test_1",
        amount_cents=1500,
        status=status,
        event_id="evt_r",
        event_type=event_type,
        deposit_reference="dep_42",
        failure_reason=None,
    )


def charge(**changes) -> dict:
    obj = {
        "id": "ch_1",
        "object": "charge",
        "amount": 2500,
        "amount_refunded": 1500,
        "payment_intent": "pi_test_1",
        "refunded": False,
        "metadata": {"deposit_reference": "dep_42"},
    }
    obj.update(changes)
    return {"id": "evt_c", "object": "event", "created": NOW, "type": "charge.refunded", "data": {"object": obj}}


@pytest.mark.parametrize(
    "refunds, refund_id",
    [
        (None, None),
        ({"object": "list", "data": []}, None),
        ({"object": "list", "data": [{"id": "re_only", "object": "refund"}]}, "re_only"),
        ({"object": "list", "data": [{"id": "re_2"}, {"id": "re_1"}]}, None),
    ],
)
def test_refund_outcome_of_charge_refunded(refunds, refund_id):
    event = charge(refunds=refunds) if refunds is not None else charge()
    update = card.refund_outcome(as_event(event))
    assert (update.refund_id, update.payment_intent, update.amount_cents, update.status) == (
        refund_id,
        "pi_test_1",
        1500,
        "succeeded",
    )


@pytest.mark.parametrize(
    "event, reason",
    [
        (refund_event("refund.updated", status="exploded"), "payload.status"),
        (refund_event("refund.updated", amount=15.0), "payload.amount"),
        (refund_event("refund.updated", object="charge"), "payload.malformed"),
        (charge(amount_refunded="1500"), "payload.amount"),
        (charge(object="refund"), "payload.malformed"),
    ],
)
def test_refund_outcome_refuses_bad_objects(event, reason):
    with pytest.raises(InvalidWebhook) as caught:
        card.refund_outcome(as_event(event))
    assert caught.value.reason == reason


def test_refund_outcome_ignores_checkout_events():
    assert card.refund_outcome(as_event(completed())) is None


SESSION_ANSWER = {
    "id": "cs_test_abc",
    "object": "checkout.session",
    "url": "https://checkout.stripe.com/c/pay/cs_test_abc",
}


def create_session(fake_api, **overrides):
    arguments = dict(
        api_key="sk_test_123",
        deposit_reference="dep_42",
        amount_cents=2500,
        currency="USD",
        success_url="https://portal.example/deposits/dep_42?paid=1",
        cancel_url="https://portal.example/deposits/dep_42",
        customer_email="ann@example.com",
        idempotency_key="checkout-dep_42",
        api_base=fake_api.url,
    )
    arguments.update(overrides)
    return card.create_checkout_session(**arguments)


def test_create_checkout_session_sends_one_line_payment_session(fake_api):
    fake_api.answer(200, SESSION_ANSWER)
    session = create_session(fake_api)
    assert session == card.CheckoutSession(id="cs_test_abc", url=SESSION_ANSWER["url"])
    [request] = fake_api.requests
    assert (request.method, request.path) == ("POST", "/v1/checkout/sessions")
    assert request.header("Authorization") == "Bearer sk_test_123"
    assert request.header("Idempotency-Key") == "checkout-dep_42"
    assert request.header("Stripe-Version") == stripe.api_version
    assert request.form() == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "2500",
        "line_items[0][price_data][product_data][name]": card.DEFAULT_PRODUCT_NAME,
        "client_reference_id": "dep_42",
        "metadata[deposit_reference]": "dep_42",
        "payment_intent_data[metadata][deposit_reference]": "dep_42",
        "success_url": "https://portal.example/deposits/dep_42?paid=1",
        "cancel_url": "https://portal.example/deposits/dep_42",
        "customer_email": "ann@example.com",
    }


def test_create_checkout_session_without_email_sends_none(fake_api):
    fake_api.answer(200, SESSION_ANSWER)
    create_session(fake_api, customer_email=None)
    assert "customer_email" not in fake_api.requests[0].form()


def test_api_key_is_per_call_not_global(fake_api):
    fake_api.answer(200, SESSION_ANSWER)
    fake_api.answer(200, SESSION_ANSWER)
    create_session(fake_api, api_key="sk_test_first")
    create_session(fake_api, api_key="sk_test_second")
    assert [r.header("Authorization") for r in fake_api.requests] == [
        "Bearer sk_test_first",
        "Bearer sk_test_second",
    ]
    assert stripe.api_key is None


@pytest.mark.parametrize("amount", [0, -5, 25.0, "2500", True, None])
def test_create_checkout_session_refuses_bad_amounts_before_any_request(fake_api, amount):
    with pytest.raises(ValueError):
        create_session(fake_api, amount_cents=amount)
    assert fake_api.requests == []


def test_stripe_refusal_becomes_processor_error(fake_api):
    fake_api.answer(
        400,
        {"error": {"type": "invalid_request_error", "code": "amount_too_small", "message": "Amount must be at least $0.50"}},
    )
    with pytest.raises(ProcessorError) as caught:
        create_session(fake_api, amount_cents=10)
    assert (caught.value.http_status, caught.value.code) == (400, "amount_too_small")
    assert "at least $0.50" in str(caught.value)


def test_create_refund(fake_api):
    fake_api.answer(200, {"id": "re_abc", "object": "refund", "status": "pending", "amount": 1500})
    result = card.create_refund(
        api_key="sk_test_123",
        payment_intent="pi_test_1",
        amount_cents=1500,
        idempotency_key="refund-ticket-7",
        api_base=fake_api.url,
        deposit_reference="dep_42",
    )
    assert result == card.RefundResult(id="re_abc", status="pending")
    [request] = fake_api.requests
    assert (request.method, request.path) == ("POST", "/v1/refunds")
    assert request.header("Authorization") == "Bearer sk_test_123"
    assert request.header("Idempotency-Key") == "refund-ticket-7"
    assert request.form() == {
        "payment_intent": "pi_test_1",
        "amount": "1500",
        "metadata[deposit_reference]": "dep_42",
    }


@pytest.mark.parametrize(
    "stripe_status, status",
    [("succeeded", "succeeded"), ("requires_action", "pending"), ("failed", "failed"), ("canceled", "canceled")],
)
def test_create_refund_status(fake_api, stripe_status, status):
    fake_api.answer(200, {"id": "re_abc", "object": "refund", "status": stripe_status})
    result = card.create_refund(
        api_key="sk_test_123", payment_intent="pi_1", amount_cents=1, idempotency_key="k", api_base=fake_api.url
    )
    assert result.status == status
    assert "metadata[deposit_reference]" not in fake_api.requests[0].form()


def test_create_refund_requires_an_idempotency_key(fake_api):
    with pytest.raises(ValueError):
        card.create_refund(
            api_key="sk_test_123", payment_intent="pi_1", amount_cents=1, idempotency_key="", api_base=fake_api.url
        )
    assert fake_api.requests == []
