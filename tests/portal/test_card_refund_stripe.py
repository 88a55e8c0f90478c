"""With a Stripe key, an approved card refund becomes a Stripe Refund of the deposit's
PaymentIntent (here against a local fake of Stripe's API) with an idempotency key; its
status then follows Stripe's signed refund webhooks. A refund Stripe refuses is credited
back at once; one that cannot be sent stays pending and can be sent again."""

from __future__ import annotations

import time

import pytest

from card_refund_steps import approve_refund, balance, reload, staff_member
from portal.store import db
from portal.money import ledger
from portal.store.models import CardRefund, Deposit, Ticket
from portal.payments import demo
from portal_pg import free_port
from portal_testing import Person, make_app
from portal.payments.gateways import StripeGateway

SECRET = "whsec_test"


def signed(app, payload):
    now = int(time.time())
    return app.test_client().post("/webhooks/stripe", data=payload, headers={
        "Stripe-Signature": demo.stripe_signature_header(payload, SECRET, now),
        "Content-Type": "application/json"})


@pytest.fixture
def stripe_app(db_url, site_dir, fake_api):
    return make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET=SECRET,
                    STRIPE_API_BASE=fake_api.url)


def refund_ticket(app, fake_api):
    """A customer paid 42.50 through (fake) Stripe Checkout and asked for a refund."""
    fake_api.answer(200, {"id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.com/x"})
    someone = Person(app.test_client())
    someone.register()
    someone.deposit("42.50", "card")
    with db.connection():
        deposit = Deposit.get()
    now = int(time.time())
    assert signed(app, demo.checkout_completed_event(
        deposit_reference=deposit.reference, session_id="cs_test_1", payment_intent="pi_live_1",
        amount_cents=4250, currency="usd", event_id="evt_1", created=now)).status_code == 200
    someone.refresh_token("/tickets/new")
    location = someone.post("/tickets", {"category": "card_refund", "deposit": deposit.reference,
                                         "subject": "Refund", "body": "Please"}, htmx=True).headers["HX-Redirect"]
    return someone, reload(Deposit, deposit.id), int(location.rsplit("/", 1)[1])


def approve(app, ticket_id):
    staff = staff_member(app)
    return staff, approve_refund(staff, ticket_id)


def test_an_approved_refund_is_a_stripe_refund_settled_by_webhook(stripe_app, fake_api):
    customer, deposit, ticket_id = refund_ticket(stripe_app, fake_api)
    fake_api.answer(200, {"id": "re_live_1", "object": "refund", "status": "pending"})
    _, response = approve(stripe_app, ticket_id)
    assert response.status_code == 200
    sent = fake_api.requests[-1]
    assert sent.path == "/v1/refunds"
    assert sent.form() == {"payment_intent": "pi_live_1", "amount": "4250",
                           "metadata[deposit_reference]": deposit.reference}
    assert sent.header("Idempotency-Key") == f"card-refund:{deposit.reference}"
    assert balance() == 0 and reload(Deposit, deposit.id).state == "refunding"
    assert "pending at the card processor" in response.get_data(as_text=True)
    now = int(time.time())
    event = demo.refund_event(refund_id="re_live_1", payment_intent="pi_live_1", amount_cents=4250,
                              currency="usd", status="succeeded", event_id="evt_r", created=now)
    assert signed(stripe_app, event).json["refund"] == "succeeded"
    assert reload(Deposit, deposit.id).state == "refunded" and balance() == 0
    with db.connection():
        assert ledger.check() == []


def test_a_refund_stripe_refuses_is_credited_back_and_the_ticket_reopened(stripe_app, fake_api):
    _, deposit, ticket_id = refund_ticket(stripe_app, fake_api)
    fake_api.answer(400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
                                    "message": "Charge has already been refunded."}})
    _, response = approve(stripe_app, ticket_id)
    assert response.status_code == 200
    assert balance() == 4250
    assert reload(Deposit, deposit.id).state == "refund_failed"
    assert reload(Ticket, ticket_id).state == "open"
    with db.connection():
        assert CardRefund.get().failure_reason == "charge_already_refunded"
        assert ledger.check() == []


def test_a_refund_that_could_not_be_sent_stays_pending_and_is_sent_again(stripe_app, fake_api):
    _, deposit, ticket_id = refund_ticket(stripe_app, fake_api)
    reachable = stripe_app.extensions["card_gateway"]
    stripe_app.extensions["card_gateway"] = StripeGateway("sk_test_123", f"http://127.0.0.1:{free_port()}")
    staff, response = approve(stripe_app, ticket_id)
    assert response.status_code == 200 and balance() == 0
    assert "Send the refund again" in response.get_data(as_text=True)
    with db.connection():
        assert CardRefund.get().processor_refund_id is None
    stripe_app.extensions["card_gateway"] = reachable
    fake_api.answer(200, {"id": "re_live_2", "object": "refund", "status": "succeeded"})
    staff.refresh_token(f"/staff/tickets/{ticket_id}")
    resent = staff.post(f"/staff/tickets/{ticket_id}/refund", {}, htmx=True)
    assert resent.status_code == 200
    assert fake_api.requests[-1].header("Idempotency-Key") == f"card-refund:{deposit.reference}"
    assert reload(Deposit, deposit.id).state == "refunded" and balance() == 0
    with db.connection():
        assert CardRefund.get().processor_refund_id == "re_live_2"
