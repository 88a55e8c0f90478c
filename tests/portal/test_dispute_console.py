"""Card disputes in the staff console: the list with its deadlines, the evidence assembled
from what the portal knows, submitted with one click (to Stripe through the official
library, or to the demo processor), and the demo processor's own disputes."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest

from card_refund_steps import balance, paid_card_deposit, staff_member
from portal.store import db
from portal.store.models import AuditEntry, Deposit, Dispute, User
from portal.payments import demo
from portal_testing import Person, make_app
from test_disputes import DUE_BY, OPENED, WITHDRAWN, deliver, standing


def open_demo_dispute(staff, deposit):
    staff.refresh_token("/staff/disputes/")
    return staff.post("/staff/disputes/demo", {"deposit": deposit.reference}, htmx=True)


def the_dispute():
    with db.connection():
        return Dispute.get()


def test_only_staff_see_disputes(app, customer):
    assert customer.get("/staff/disputes/").status_code == 404
    assert customer.get("/staff/disputes/1").status_code == 404


def test_staff_open_a_demo_dispute_and_the_bank_decides_it(app, customer):
    deposit = paid_card_deposit(customer, "25")
    staff = staff_member(app)
    answer = open_demo_dispute(staff, deposit)
    assert answer.status_code == 200 and deposit.reference in answer.get_data(as_text=True)
    assert (balance(), standing()) == (0, "restricted")
    assert "disputed with your card" in customer.get("/dashboard").get_data(as_text=True)
    listed = staff.get("/staff/disputes/").get_data(as_text=True)
    assert "Evidence due" in listed and deposit.reference in listed
    dispute = the_dispute()
    staff.refresh_token(f"/staff/disputes/{dispute.id}")
    won = staff.post(f"/staff/disputes/{dispute.id}/demo/won", htmx=True)
    assert won.status_code == 200 and "Won" in won.get_data(as_text=True)
    assert (balance(), standing(), the_dispute().state) == (2500, "active", "won")
    again = staff.post(f"/staff/disputes/{dispute.id}/demo/lost", htmx=True)
    assert again.status_code == 409 and the_dispute().state == "won"


@pytest.mark.parametrize("reference", ["dep_nothing", ""])
def test_a_demo_dispute_needs_a_credited_card_deposit(app, customer, reference):
    staff = staff_member(app)
    staff.refresh_token("/staff/disputes/")
    answer = staff.post("/staff/disputes/demo", {"deposit": reference}, htmx=True)
    assert answer.status_code == 422 and "credited card deposit" in answer.get_data(as_text=True)


def test_the_evidence_names_the_terms_the_consents_and_the_service_and_is_submitted_once(app):
    eu = Person(app.test_client())
    eu.register(email="eva@example.com", country="DE")
    deposit = paid_card_deposit(eu, "25", consent="yes")
    with db.connection():
        customer = User.get(User.email == "eva@example.com")
    staff = staff_member(app)
    open_demo_dispute(staff, deposit)
    dispute = the_dispute()
    page = staff.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    for shown in ("refund_policy_disclosure", "access_activity_log", "service_date",
                  "customer_email_address", "uncategorized_text", customer.terms_version,
                  customer.terms_sha256, f"/en/payment-refund/{customer.terms_version}/",
                  "consent to immediate performance", "127.0.0.1", "eva@example.com",
                  "The customer never asked us for a refund"):
        assert shown in page, shown
    staff.refresh_token(f"/staff/disputes/{dispute.id}")
    submitted = staff.post(f"/staff/disputes/{dispute.id}/evidence", htmx=True)
    assert submitted.status_code == 200 and "was submitted" in submitted.get_data(as_text=True)
    stored = the_dispute()
    assert stored.state == "under_review" and stored.evidence_submitted_at is not None
    evidence = json.loads(stored.evidence)
    assert evidence["customer_email_address"] == "eva@example.com"
    assert evidence["customer_purchase_ip"] == "127.0.0.1"
    with db.connection():
        assert AuditEntry.get(AuditEntry.action == "dispute.evidence").note == dispute.processor_id
    assert staff.post(f"/staff/disputes/{dispute.id}/evidence", htmx=True).status_code == 409


@pytest.fixture
def stripe_app(db_url, site_dir, fake_api):
    return make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET="whsec_test",
                    STRIPE_API_BASE=fake_api.url)


def stripe_paid_deposit(app, person):
    person.deposit("25", "card")
    with db.connection():
        deposit = Deposit.get()
    now = int(time.time())
    payload = demo.checkout_completed_event(
        deposit_reference=deposit.reference, session_id=deposit.processor_ref, payment_intent="pi_live_9",
        amount_cents=2500, currency="usd", event_id="evt_paid", created=now)
    assert app.test_client().post("/webhooks/stripe", data=payload, headers={
        "Stripe-Signature": demo.stripe_signature_header(payload, "whsec_test", now)}).status_code == 200
    with db.connection():
        return Deposit.get()


def test_evidence_goes_to_stripe_through_the_official_library(stripe_app, fake_api):
    fake_api.answer(200, {"id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/1"})
    someone = Person(stripe_app.test_client())
    someone.register()
    deposit = stripe_paid_deposit(stripe_app, someone)
    deliver(stripe_app, deposit, [OPENED, WITHDRAWN], dispute_id="dp_live_1")
    staff = staff_member(stripe_app)
    dispute = the_dispute()
    assert dispute.due_by.timestamp() == DUE_BY
    fake_api.answer(200, {"id": "dp_live_1", "object": "dispute", "status": "under_review"})
    staff.refresh_token(f"/staff/disputes/{dispute.id}")
    assert staff.post(f"/staff/disputes/{dispute.id}/evidence", htmx=True).status_code == 200
    sent = fake_api.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/disputes/dp_live_1")
    assert sent.header("Idempotency-Key") == "dispute-evidence:dp_live_1"
    form = {k: v[0] for k, v in parse_qs(sent.body.decode()).items()}
    assert form["submit"] == "true" and form["evidence[customer_email_address]"] == "ann@example.com"
    assert "rented" in form["evidence[access_activity_log]"] or "No number" in form["evidence[access_activity_log]"]
    assert the_dispute().evidence_submitted_at is not None


def test_a_processor_refusing_the_evidence_leaves_it_unsubmitted(stripe_app, fake_api):
    fake_api.answer(200, {"id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/1"})
    someone = Person(stripe_app.test_client())
    someone.register()
    deposit = stripe_paid_deposit(stripe_app, someone)
    deliver(stripe_app, deposit, [OPENED], dispute_id="dp_live_2")
    staff = staff_member(stripe_app)
    dispute = the_dispute()
    fake_api.answer(400, {"error": {"type": "invalid_request_error", "message": "past due"}})
    staff.refresh_token(f"/staff/disputes/{dispute.id}")
    answer = staff.post(f"/staff/disputes/{dispute.id}/evidence", htmx=True)
    assert answer.status_code == 502 and "did not take the evidence" in answer.get_data(as_text=True)
    assert the_dispute().evidence_submitted_at is None
