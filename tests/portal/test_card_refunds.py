"""Card-deposit refunds through the portal: the refund meter on each deposit, eligibility
checked when the ticket is opened and again when staff approve, approval moving the money
out of the wallet and creating the (demo) Stripe refund, denial with a reason, and the
refund's status following Stripe's signed webhooks."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from card_refund_steps import (balance, paid_card_deposit, purchase, reload, request_refund,
                               staff_member, user_id)
from portal.store import db
from portal.money import ledger
from portal.store.fields import utcnow
from portal.store.models import AuditEntry, CardRefund, Deposit, OutboxMessage, Ticket
from portal.payments import demo


def age(deposit, days=0, minutes=0):
    """Move a deposit's credit back in time (the ledger keeps its order)."""
    with db.connection():
        Deposit.update(credited_at=deposit.credited_at - timedelta(days=days, minutes=minutes)).where(
            Deposit.id == deposit.id).execute()


def meter_text(person, deposit):
    return person.get(f"/deposits/{deposit.reference}/refund-meter", htmx=True).get_data(as_text=True)


# case -> how the deposit got there, what the meter says, whether a refund ticket opens
ELIGIBILITY = [
    ("fresh", lambda d: None, "(6 days 23 hours left)", True),
    ("last day", lambda d: age(d, days=6, minutes=1), "(23 hours 58 minutes left)", True),
    ("last minute", lambda d: age(d, days=6, minutes=23 * 60 + 59), "seconds left)", True),
    ("window passed", lambda d: age(d, days=7, minutes=1), "Not refundable: the refund window has passed.", False),
    ("spent since", lambda d: _spend(d, 1), "Not refundable: spent since.", False),
    ("spent since and late", lambda d: (_spend(d, 1), age(d, days=8)), "Not refundable: the refund window has passed.", False),
]


def _spend(deposit, cents):
    with db.connection():
        purchase(deposit.user_id, cents)


@pytest.mark.parametrize("case, setup, shown, opens", ELIGIBILITY, ids=[c[0] for c in ELIGIBILITY])
def test_eligibility_on_the_meter_and_when_the_ticket_is_opened(customer, case, setup, shown, opens):
    deposit = paid_card_deposit(customer)
    setup(deposit)
    assert shown in meter_text(customer, deposit)
    listed = customer.get("/deposits").get_data(as_text=True)
    assert shown in listed
    assert ("Request a refund" in listed) is opens
    response = request_refund(customer, deposit)
    if opens:
        assert response.status_code == 204
        with db.connection():
            assert Ticket.get().deposit_id == deposit.id
    else:
        assert response.status_code == 422 and shown in response.get_data(as_text=True)
        assert "#card-deposit-refunds" in response.get_data(as_text=True)
        with db.connection():
            assert Ticket.select().count() == 0


def test_spending_before_a_deposit_does_not_make_it_non_refundable(customer):
    first = paid_card_deposit(customer, "10")
    _spend(first, 500)
    second = paid_card_deposit(customer, "20")
    assert "Not refundable: spent since." in meter_text(customer, first)
    assert "(6 days 23 hours left)" in meter_text(customer, second)
    assert request_refund(customer, second).status_code == 204


def test_a_crypto_deposit_is_final_and_a_forged_request_is_refused(customer):
    deposit = paid_card_deposit(customer, "30", "BTC")
    response = request_refund(customer, deposit)
    assert response.status_code == 422
    assert "Not refundable: crypto deposits are final." in response.get_data(as_text=True)
    assert "#crypto-deposits" in response.get_data(as_text=True)


def test_one_click_on_the_meter_opens_a_prefilled_card_refund_form(customer):
    deposit = paid_card_deposit(customer)
    page = customer.get(f"/deposits/{deposit.reference}").get_data(as_text=True)
    assert f'href="/tickets/new?deposit={deposit.reference}"' in page
    form = customer.get(f"/tickets/new?deposit={deposit.reference}").get_data(as_text=True)
    assert '<option value="card_refund" selected>' in form
    assert f'<option value="{deposit.reference}" selected>' in form
    assert f'value="Card refund of deposit {deposit.reference}"' in form


def test_a_second_request_for_the_same_deposit_is_refused(customer):
    deposit = paid_card_deposit(customer)
    assert request_refund(customer, deposit).status_code == 204
    again = request_refund(customer, deposit)
    assert again.status_code == 422
    assert "already been requested" in again.get_data(as_text=True)
    assert "Refund requested" in meter_text(customer, deposit)


@pytest.fixture
def refund_ticket(app, customer):
    deposit = paid_card_deposit(customer)
    location = request_refund(customer, deposit).headers["HX-Redirect"]
    return deposit, int(location.rsplit("/", 1)[1])


def decide(staff, ticket_id, **form):
    staff.refresh_token(f"/staff/tickets/{ticket_id}")
    return staff.post(f"/staff/tickets/{ticket_id}/decision", form, htmx=True)


def test_approval_refunds_the_card_and_takes_the_amount_from_the_wallet(app, customer, refund_ticket):
    deposit, ticket_id = refund_ticket
    staff = staff_member(app)
    assert balance() == 2500
    response = decide(staff, ticket_id, action="approve", note="ok")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["HX-Trigger"] == "balance-changed"
    assert "Refund approved" in response.get_data(as_text=True)
    assert balance() == 0
    with db.connection():
        refund = CardRefund.get()
        assert ledger.check() == []
        assert AuditEntry.get().action == "refund.approve"
        kinds = [m.kind for m in OutboxMessage.select().where(OutboxMessage.channel == "email")
                 .order_by(OutboxMessage.id)]
    assert (refund.state, refund.amount_cents) == ("succeeded", 2500)  # the demo's webhook came
    assert refund.processor_refund_id.startswith("re_demo_")
    assert reload(Deposit, deposit.id).state == "refunded"
    assert reload(Ticket, ticket_id).state == "approved"
    assert kinds == ["ticket_received", "refund_approved"]
    assert "Refunded to your card" in customer.get("/deposits").get_data(as_text=True)
    assert "Refund approved" in customer.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Card refund: <a href=\"/deposits/" in customer.get("/statement").get_data(as_text=True)
    # approving again moves nothing
    again = decide(staff, ticket_id, action="approve")
    assert again.status_code == 409 and "already been decided" in again.get_data(as_text=True)
    assert balance() == 0
    with db.connection():
        assert CardRefund.select().count() == 1


def test_staff_approval_checks_eligibility_again(app, customer, refund_ticket):
    deposit, ticket_id = refund_ticket
    _spend(deposit, 100)  # spent after the ticket was opened
    staff = staff_member(app)
    response = decide(staff, ticket_id, action="approve")
    assert response.status_code == 409
    assert "Not refundable: spent since." in response.get_data(as_text=True)
    assert balance() == 2400
    with db.connection():
        assert CardRefund.select().count() == 0 and Deposit.get_by_id(deposit.id).state == "succeeded"


@pytest.mark.parametrize("reason, shown", [
    ("card_refund.spent_since", "Not refundable: spent since."),
    ("card_refund.outside_criteria", "outside the refund criteria"),
])
def test_denial_with_a_reason_and_free_text(app, customer, refund_ticket, reason, shown):
    deposit, ticket_id = refund_ticket
    staff = staff_member(app)
    response = decide(staff, ticket_id, action="deny", reason=reason, note="See <clause> 3\nthanks")
    assert response.status_code == 200
    assert balance() == 2500
    page = customer.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Refund denied" in page and shown in page and "See &lt;clause&gt; 3\nthanks" in page
    with db.connection():
        audit = AuditEntry.get()
        mail = OutboxMessage.get(OutboxMessage.kind == "refund_denied")
    assert (audit.action, audit.reason) == ("refund.deny", reason)
    assert shown in mail.body and "See <clause> 3" in mail.body


def test_an_unknown_denial_reason_is_refused(app, refund_ticket):
    _, ticket_id = refund_ticket
    response = decide(staff_member(app), ticket_id, action="deny", reason="because")
    assert response.status_code == 422
    assert reload(Ticket, ticket_id).state == "open"


def send_refund_event(app, deposit, refund, status, event_id="evt_r1"):
    now = int(time.time())
    payload = demo.refund_event(refund_id=refund.processor_refund_id, payment_intent=deposit.payment_intent,
                                amount_cents=refund.amount_cents, currency="usd", status=status,
                                event_id=event_id, created=now, deposit_reference=deposit.reference)
    header = demo.stripe_signature_header(payload, app.config["STRIPE_WEBHOOK_SECRET"], now)
    return app.test_client().post("/webhooks/stripe", data=payload,
                                  headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def test_a_failed_refund_credits_the_amount_back_once_and_reopens_the_ticket(app, customer, refund_ticket):
    deposit, ticket_id = refund_ticket
    decide(staff_member(app), ticket_id, action="approve")
    deposit, refund = reload(Deposit, deposit.id), reload(CardRefund, 1)
    for attempt in range(3):  # delivered again and again
        answer = send_refund_event(app, deposit, refund, "failed", event_id=f"evt_f{attempt}")
        assert answer.status_code == 200 and answer.json["refund"] == "failed"
    assert balance() == 2500
    assert reload(Deposit, deposit.id).state == "refund_failed"
    assert reload(Ticket, ticket_id).state == "open"
    late = send_refund_event(app, deposit, refund, "succeeded", event_id="evt_late")
    assert late.json["refund"] == "failed" and balance() == 2500
    with db.connection():
        assert ledger.check() == []
        assert OutboxMessage.select().where(OutboxMessage.kind == "refund_failed").count() == 1
    assert "The card refund failed" in customer.get("/deposits").get_data(as_text=True)
    assert "Card refund failed, credited back: <a href=\"/deposits/" in customer.get("/statement").get_data(as_text=True)


def test_refund_events_for_unknown_refunds_are_acknowledged_and_ignored(app, customer):
    deposit = paid_card_deposit(customer)
    fake = CardRefund(processor_refund_id="re_unknown", amount_cents=100)
    other = Deposit(reference="dep_unknown", payment_intent="pi_unknown")
    answer = send_refund_event(app, other, fake, "succeeded")
    assert answer.status_code == 200 and answer.json["refund"] is None
    assert balance() == 2500 and reload(Deposit, deposit.id).state == "succeeded"


def test_a_suspended_customer_can_still_request_a_refund_but_cannot_deposit(app, customer):
    deposit = paid_card_deposit(customer)
    with db.connection():
        from portal.store.models import User
        User.update(status="suspended", status_reason="Chargeback review").where(
            User.id == user_id()).execute()
    page = customer.get("/dashboard").get_data(as_text=True)
    assert "Your account is suspended." in page and "Chargeback review" in page and "$25.00" in page
    refused = customer.deposit("10")
    assert refused.status_code == 422 and "deposits and rentals are not possible" in refused.get_data(as_text=True)
    assert request_refund(customer, deposit).status_code == 204
    with db.connection():
        assert Deposit.select().count() == 1
    assert utcnow()  # the clock is real here


@pytest.mark.parametrize("minutes_back, every", [(0, "every 60s"), (6 * 24 * 60 + 23 * 60 + 59, "every 1s")])
def test_the_meter_asks_again_every_second_when_its_seconds_count(customer, minutes_back, every):
    deposit = paid_card_deposit(customer)
    age(deposit, minutes=minutes_back)
    assert f'hx-trigger="balance-changed from:body, {every}"' in meter_text(customer, deposit)
