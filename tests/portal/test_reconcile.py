"""Reconciliation: a run of deposits, refunds and disputes in which every third webhook is
lost, then ``flask --app portal reconcile`` asks the (fake) processors what happened and
heals exactly what is missing, once, on both databases."""

from __future__ import annotations

import itertools
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from card_refund_steps import approve_refund, request_refund, staff_member
from portal.store import db
from portal.money import ledger
from portal.store.models import CardRefund, Deposit, Dispute, LedgerTransaction, ReconcileCheckpoint, Ticket, User
from portal.payments import demo
from portal_testing import Person, make_app, run_cli

WEBHOOK_SECRET = "whsec_test"
IPN_SECRET = "ipn_secret"


class FakeStripe:
    """Plays Stripe for a whole run: answers the portal's API calls, keeps every event it
    sends in its log (listed at ``GET /v1/events``, newest first, paged) and loses every
    third delivery of a webhook."""

    def __init__(self, app):
        self.app = app
        self.log: list[dict] = []
        self.sent = 0
        self.lost: list[str] = []
        self.ids = itertools.count(1)
        self.fail_listing = False

    def respond(self, request):
        path = urlsplit(request.path)
        if request.method == "POST" and path.path == "/v1/checkout/sessions":
            n = next(self.ids)
            return 200, {"id": f"cs_{n}", "object": "checkout.session", "url": f"https://checkout.example/{n}"}
        if request.method == "POST" and path.path == "/v1/refunds":
            return 200, {"id": f"re_{next(self.ids)}", "object": "refund", "status": "pending"}
        if request.method == "GET" and path.path == "/v1/events":
            return self._list(parse_qs(path.query))
        if request.method == "GET" and path.path == "/v1/payment/":
            return 200, {"data": []}
        return 404, {"error": {"type": "invalid_request_error", "message": f"no {path.path}"}}

    def _list(self, query):
        if self.fail_listing:
            return 500, {"error": {"type": "api_error", "message": "outage"}}
        since = int(query["created[gte]"][0])
        newest_first = [e for e in reversed(self.log) if e["created"] >= since]
        after = query.get("starting_after", [None])[0]
        if after:
            newest_first = newest_first[[e["id"] for e in newest_first].index(after) + 1:]
        limit = min(int(query["limit"][0]), 5)  # small pages: the library must page on
        return 200, {"object": "list", "url": "/v1/events", "has_more": len(newest_first) > limit,
                     "data": newest_first[:limit]}

    def send(self, payload: bytes) -> None:
        """Log the event; deliver it to the webhook unless it is the third of three."""
        event = json.loads(payload)
        self.log.append(event)
        self.sent += 1
        if self.sent % 3 == 0:
            self.lost.append(event["type"])
            return
        now = int(time.time())
        answer = self.app.test_client().post("/webhooks/stripe", data=payload, headers={
            "Stripe-Signature": demo.stripe_signature_header(payload, WEBHOOK_SECRET, now)})
        assert answer.status_code == 200, answer.get_data(as_text=True)


@pytest.fixture
def processor_app(db_url, site_dir, fake_api):
    app = make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                   STRIPE_API_BASE=fake_api.url, CRYPTO_API_KEY="np_key", CRYPTO_IPN_SECRET=IPN_SECRET,
                   CRYPTO_API_BASE=fake_api.url)
    stripe = FakeStripe(app)
    fake_api.respond = stripe.respond
    return app, stripe


def reconcile(app):
    return run_cli(app, "reconcile")


def pay(stripe, deposit, n):
    stripe.send(demo.checkout_completed_event(
        deposit_reference=deposit.reference, session_id=deposit.processor_ref, payment_intent=f"pi_{n}",
        amount_cents=deposit.amount_cents, currency="usd", event_id=f"evt_pay_{n}", created=int(time.time())))


def test_reconciling_after_every_third_webhook_was_lost_heals_the_books_exactly_once(processor_app, fake_api):
    app, stripe = processor_app
    people = []
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        person = Person(app.test_client())
        person.register(email=email)
        people.append(person)
    staff = staff_member(app)
    for n in range(9):
        assert people[n % 3].deposit(str(10 + n), "card").status_code == 204
    with db.connection():
        opened = list(Deposit.select().order_by(Deposit.id))
    for n, deposit in enumerate(opened):
        pay(stripe, deposit, n)

    with db.connection():
        credited = [d for d in Deposit.select().order_by(Deposit.id) if d.state == "succeeded"]
    refunded, disputed = credited[:3], credited[3:6]
    owners = {user_id: person for user_id, person in zip(sorted({d.user_id for d in opened}), people)}
    for deposit in refunded:
        assert request_refund(owners[deposit.user_id], deposit).status_code == 204
    with db.connection():
        tickets = list(Ticket.select().order_by(Ticket.id))
    for ticket in tickets:
        assert approve_refund(staff, ticket.id).status_code == 200
    with db.connection():
        refunds = list(CardRefund.select().order_by(CardRefund.id))
    for refund in refunds:
        with db.connection():
            deposit = Deposit.get_by_id(refund.deposit_id)
        stripe.send(demo.refund_event(
            refund_id=refund.processor_refund_id, payment_intent=deposit.payment_intent,
            amount_cents=refund.amount_cents, currency="usd", status="succeeded",
            event_id=f"evt_refund_{refund.id}", created=int(time.time()), deposit_reference=deposit.reference))
    for k, deposit in enumerate(disputed):
        with db.connection():
            deposit = Deposit.get_by_id(deposit.id)
        for event_type, status in (("charge.dispute.created", "needs_response"),
                                   ("charge.dispute.funds_withdrawn", "needs_response"),
                                   ("charge.dispute.closed", "lost" if k else "won")):
            stripe.send(demo.dispute_event(
                event_type, dispute_id=f"dp_{k}", payment_intent=deposit.payment_intent,
                amount_cents=deposit.credited_cents, currency="usd", status=status,
                event_id=demo.new_id("evt"), created=int(time.time())))
    assert (stripe.sent, len(stripe.lost)) == (21, 7)  # a third of what was sent never arrived

    result = reconcile(app)
    assert result.exit_code == 0, result.output
    assert f"{len(stripe.lost)} healed" in result.output
    assert result.output.count("healed stripe checkout.session.completed") == 3
    assert len([r for r in fake_api.requests if r.path.startswith("/v1/events")]) == 5  # 21 events, pages of 5
    with db.connection():
        deposits = list(Deposit.select().order_by(Deposit.id))
        assert all(d.state in ("succeeded", "refunded") for d in deposits), [d.state for d in deposits]
        for d in deposits:
            assert LedgerTransaction.select().where(
                LedgerTransaction.idempotency_key == f"deposit:{d.reference}").count() == 1
        assert [r.state for r in CardRefund.select()] == ["succeeded"] * 3
        assert all(Deposit.get_by_id(d.id).state == "refunded" for d in refunded)
        outcomes = {x.processor_id: (x.state, x.withdrawal_txn_id is not None,
                                     x.reinstatement_txn_id is not None) for x in Dispute.select()}
        assert outcomes == {"dp_0": ("won", True, True), "dp_1": ("lost", True, False),
                            "dp_2": ("lost", True, False)}
        assert ledger.check() == []
        expected = {}
        for d in deposits:
            kept = d.state != "refunded" and d.id not in (disputed[1].id, disputed[2].id)
            expected[d.user_id] = expected.get(d.user_id, 0) + (d.amount_cents if kept else 0)
        assert {u.id: ledger.balance(u.id) for u in User.select() if u.id in expected} == expected
        assert all(u.status == "active" for u in User.select())

    again = reconcile(app)
    assert again.exit_code == 0 and "0 healed" in again.output, again.output


def test_the_next_run_starts_from_the_checkpoint_and_an_outage_keeps_it(processor_app, fake_api):
    app, stripe = processor_app
    first = reconcile(app)
    assert first.exit_code == 0 and "0 healed" in first.output
    with db.connection():
        checkpoint = ReconcileCheckpoint.get().value
    stripe.fail_listing = True
    failed = reconcile(app)
    assert failed.exit_code == 1 and "could not be asked" in failed.output
    with db.connection():
        assert ReconcileCheckpoint.get().value == checkpoint
    stripe.fail_listing = False
    assert reconcile(app).exit_code == 0
    listed = [r for r in fake_api.requests if r.path.startswith("/v1/events")]
    asked_from = int(parse_qs(urlsplit(listed[-1].path).query)["created[gte]"][0])
    assert asked_from == checkpoint - 300


def test_a_lost_ipn_is_healed_from_the_invoice_payments(processor_app, fake_api):
    app, stripe = processor_app
    someone = Person(app.test_client())
    someone.register()
    invoices = itertools.count(500)

    def respond(request):
        path = urlsplit(request.path)
        if path.path == "/v1/invoice":
            n = next(invoices)
            return 200, {"id": n, "invoice_url": f"https://pay.example/{n}"}
        if path.path == "/v1/payment/":
            assert request.header("x-api-key") == "np_key"
            invoice_id = parse_qs(path.query)["invoiceId"][0]
            with db.connection():
                deposit = Deposit.get(Deposit.processor_ref == invoice_id)
            body = demo.ipn_body(payment_id=9, order_id=deposit.reference, status="finished",
                                 pay_currency="USDT", price_amount_cents=3000,
                                 pay_amount_minor=30_000_000, actually_paid_minor=30_000_000)
            return 200, {"data": [json.loads(demo.signed_ipn(body, "-").body)], "page": 0, "total": 1}
        return stripe.respond(request)

    fake_api.respond = respond
    assert someone.deposit("30", "USDT").status_code == 204
    result = reconcile(app)
    assert result.exit_code == 0 and "1 healed" in result.output, result.output
    with db.connection():
        deposit = Deposit.get()
        assert (deposit.state, ledger.balance(deposit.user_id)) == ("succeeded", 3000)
    assert "0 healed" in reconcile(app).output


def test_reconciling_in_demo_mode_says_there_is_nothing_to_ask(app):
    result = reconcile(app)
    assert result.exit_code == 0 and "skipped card: the demo processor keeps no history" in result.output
