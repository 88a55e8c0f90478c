"""With real processor keys the portal opens a Stripe Checkout Session or a crypto invoice
through the payment adapters (here against a local fake of their APIs) and sends the
customer there; the money then arrives by the same signed webhooks as in demo mode."""

from __future__ import annotations

import time

from portal_testing import Person, make_app
from portal.store import db
from portal.money import ledger
from portal.store.models import Deposit
from portal.payments import demo


def test_a_card_deposit_opens_a_stripe_checkout_session_and_is_credited_by_its_webhook(db_url, site_dir, fake_api):
    fake_api.answer(200, {"id": "cs_test_1", "object": "checkout.session",
                          "url": "https://checkout.stripe.com/c/pay/cs_test_1"})
    app = make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET="whsec_test",
                   STRIPE_API_BASE=fake_api.url)
    someone = Person(app.test_client())
    someone.register()
    response = someone.deposit("42.50", "card")
    assert response.headers["HX-Redirect"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    with db.connection():
        deposit = Deposit.get()
    sent = fake_api.requests[0]
    assert sent.path == "/v1/checkout/sessions"
    assert sent.form()["metadata[deposit_reference]"] == deposit.reference
    assert sent.form()["line_items[0][price_data][unit_amount]"] == "4250"
    assert sent.header("Idempotency-Key") == f"checkout:{deposit.reference}"
    assert (deposit.processor_ref, deposit.state) == ("cs_test_1", "checkout")
    now = int(time.time())
    payload = demo.checkout_completed_event(
        deposit_reference=deposit.reference, session_id="cs_test_1", payment_intent="pi_live_1",
        amount_cents=4250, currency="usd", event_id="evt_live_1", created=now)
    answer = app.test_client().post("/webhooks/stripe", data=payload, headers={
        "Stripe-Signature": demo.stripe_signature_header(payload, "whsec_test", now)})
    assert answer.status_code == 200
    with db.connection():
        assert ledger.balance(deposit.user_id) == 4250
        assert Deposit.get().payment_intent == "pi_live_1"


def test_a_crypto_deposit_opens_a_processor_invoice(db_url, site_dir, fake_api):
    fake_api.answer(200, {"id": 5077, "invoice_url": "https://nowpayments.io/payment/?iid=5077"})
    app = make_app(db_url, site_dir, CRYPTO_API_KEY="np_key", CRYPTO_IPN_SECRET="ipn_secret",
                   CRYPTO_API_BASE=fake_api.url)
    someone = Person(app.test_client())
    someone.register()
    response = someone.deposit("30", "USDT")
    assert response.headers["HX-Redirect"] == "https://nowpayments.io/payment/?iid=5077"
    sent = fake_api.requests[0]
    assert sent.path == "/v1/invoice" and sent.header("x-api-key") == "np_key"
    assert b'"ipn_callback_url":"http://localhost/webhooks/crypto"' in sent.body.replace(b" ", b"")
    with db.connection():
        assert Deposit.get().processor_ref == "5077"


def test_a_real_processor_needs_its_webhook_secret(db_url, site_dir):
    import pytest

    with pytest.raises(RuntimeError, match="STRIPE_WEBHOOK_SECRET"):
        make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET="")


def test_the_factory_chooses_one_gateway_of_each_kind_from_the_settings(db_url, site_dir):
    from portal.payments.demo import DemoCardGateway, DemoCryptoGateway
    from portal.payments.gateways import NowPaymentsGateway, StripeGateway

    demo_app = make_app(db_url, site_dir)
    assert isinstance(demo_app.extensions["card_gateway"], DemoCardGateway)
    assert isinstance(demo_app.extensions["crypto_gateway"], DemoCryptoGateway)
    real = make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test_1", STRIPE_WEBHOOK_SECRET="whsec_1",
                    CRYPTO_API_KEY="np_1", CRYPTO_IPN_SECRET="ipn_1", CRYPTO_API_BASE="http://127.0.0.1:9")
    assert real.extensions["card_gateway"] == StripeGateway("sk_test_1", None)
    assert real.extensions["crypto_gateway"] == NowPaymentsGateway("np_1", "http://127.0.0.1:9")
    someone = Person(real.test_client())
    someone.register()
    assert someone.get("/demo/checkout/cs_demo_x").status_code == 404
    assert someone.get("/demo/invoice/inv_demo_x").status_code == 404
