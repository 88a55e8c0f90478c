"""The deposit form: limits from the Terms, methods, the EU withdrawal waiver, and the
demo processor pages (card and crypto) all the way to a credited balance."""

from __future__ import annotations

import pytest

from portal_testing import Person
from portal.store import db
from portal.money import ledger
from portal.store.models import Consent, Deposit
from portal.policy import TERMS

BAD_DEPOSITS = [
    ("no amount", dict(amount=""), "Enter an amount."),
    ("letters", dict(amount="ten"), "Enter an amount in US dollars"),
    ("negative", dict(amount="-5"), "Enter an amount in US dollars"),
    ("three decimals", dict(amount="5.001"), "Enter an amount in US dollars"),
    ("float exponent", dict(amount="1e3"), "Enter an amount in US dollars"),
    # digits of other scripts (Python's \\d and int() take them): each made a $10.00 deposit
    ("arabic-indic digits", dict(amount="١٠"), "Enter an amount in US dollars"),
    ("extended arabic-indic digits", dict(amount="۱۰"), "Enter an amount in US dollars"),
    ("devanagari digits", dict(amount="१०"), "Enter an amount in US dollars"),
    ("fullwidth digits", dict(amount="１０"), "Enter an amount in US dollars"),
    ("mathematical bold digits", dict(amount="𝟏𝟎"), "Enter an amount in US dollars"),
    ("an ascii and an arabic-indic digit", dict(amount="1٠"), "Enter an amount in US dollars"),
    ("fullwidth cents", dict(amount="10.５０"), "Enter an amount in US dollars"),
    ("superscript digits", dict(amount="¹⁰"), "Enter an amount in US dollars"),
    ("below minimum", dict(amount="4.99"), "The minimum deposit is $5.00."),
    ("above maximum", dict(amount="1000.01"), "The maximum deposit is $1,000.00."),
    ("unknown method", dict(method="paypal"), "Choose a payment method."),
    ("no method", dict(method=""), "Choose a payment method."),
]


@pytest.mark.parametrize("case, change, message", BAD_DEPOSITS, ids=[c[0] for c in BAD_DEPOSITS])
def test_bad_deposits_answer_in_the_form_and_write_nothing(customer, case, change, message):
    customer.refresh_token("/deposits/new")
    data = {"amount": "25", "method": "card", **change}
    response = customer.post("/deposits", data, htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<form id=\"deposit-form\"")  # the fragment alone
    assert message in body
    with db.connection():
        assert Deposit.select().count() == 0


def test_limit_refusals_link_the_policy_clause(customer):
    customer.refresh_token("/deposits/new")
    body = customer.post("/deposits", {"amount": "1", "method": "card"}, htmx=True).get_data(as_text=True)
    assert '/en/payment-refund/2026-11-24/#deposit-limits"' in body


@pytest.mark.parametrize("amount, cents", [("5", 500), ("25.5", 2550), ("25,50", 2550), ("$1000", 100_000), (" 12.34 ", 1234)])
def test_valid_amounts_open_a_deposit_in_exact_cents(customer, amount, cents):
    customer.refresh_token("/deposits/new")
    response = customer.post("/deposits", {"amount": amount, "method": "card"}, htmx=True)
    assert response.status_code == 204
    with db.connection():
        deposit = Deposit.get()
    assert deposit.amount_cents == cents and deposit.state == "checkout"
    assert response.headers["HX-Redirect"] == f"/demo/checkout/{deposit.processor_ref}"


def test_the_limits_come_from_the_terms():
    assert (TERMS[-1].deposit_min_cents, TERMS[-1].deposit_max_cents) == (500, 100_000)


@pytest.fixture
def eu_customer(app):
    someone = Person(app.test_client())
    assert someone.register(email="eva@example.com", country="AT").status_code == 303
    return someone


def test_the_eu_consent_box_is_shown_unticked_only_to_eu_customers(customer, eu_customer):
    eu_form = eu_customer.get("/deposits/new").get_data(as_text=True)
    assert 'name="consent" value="yes" id="consent">' in eu_form  # no "checked"
    assert 'name="consent"' not in customer.get("/deposits/new").get_data(as_text=True)


def test_an_eu_customer_without_consent_is_refused_and_nothing_is_written(eu_customer):
    eu_customer.refresh_token("/deposits/new")
    response = eu_customer.post("/deposits", {"amount": "25", "method": "card"}, htmx=True)
    assert response.status_code == 422
    assert "lose your right of withdrawal" in response.get_data(as_text=True)
    with db.connection():
        assert Deposit.select().count() == 0 and Consent.select().count() == 0


def test_an_eu_consent_is_stored_with_version_hash_ip_and_user_agent(eu_customer, site_dir):
    import json
    from pathlib import Path

    eu_customer.refresh_token("/deposits/new")
    response = eu_customer.post("/deposits", {"amount": "25", "method": "BTC", "consent": "yes"},
                                htmx=True, headers={"User-Agent": "TestBrowser/1.0"})
    assert response.status_code == 204
    with db.connection():
        consent = Consent.get()
        deposit = Deposit.get()
    versions = json.loads((Path(site_dir) / "versions.json").read_text())["payment-refund"]
    assert (consent.action, consent.subject) == ("deposit", deposit.reference)
    assert consent.terms_sha256 == versions[consent.terms_version]["en"]["sha256"]
    assert (consent.ip, consent.user_agent) == ("127.0.0.1", "TestBrowser/1.0")
    page = eu_customer.get("/account").get_data(as_text=True)
    assert deposit.reference in page and consent.terms_sha256[:16] in page


def test_card_deposit_through_the_demo_checkout(customer):
    customer.refresh_token("/deposits/new")
    checkout = customer.post("/deposits", {"amount": "25", "method": "card"}, htmx=True).headers["HX-Redirect"]
    page = customer.get(checkout).get_data(as_text=True)
    assert "DEMO PROCESSOR" in page and "Balance: <strong>$0.00</strong>" in page
    customer.refresh_token(checkout)
    paid = customer.post(checkout + "/pay", htmx=True)
    assert paid.status_code == 200
    assert paid.headers["HX-Trigger"] == "balance-changed"
    assert paid.get_data(as_text=True).lstrip().startswith('<div id="demo-result" class="status-succeeded">')
    balance = customer.get("/dashboard/balance", htmx=True).get_data(as_text=True)
    assert balance.strip().startswith('<span id="balance"') and "$25.00" in balance


def test_crypto_deposit_through_the_demo_invoice_is_credited_net_and_final(customer):
    customer.refresh_token("/deposits/new")
    invoice = customer.post("/deposits", {"amount": "30", "method": "BTC"}, htmx=True).headers["HX-Redirect"]
    customer.refresh_token(invoice)
    assert customer.post(invoice + "/pay", htmx=True).status_code == 200
    with db.connection():
        deposit = Deposit.get()
        assert ledger.balance(deposit.user_id) == deposit.credited_cents < 3000
    assert int(deposit.paid_minor) > 0 and deposit.pay_currency == "BTC"
    page = customer.get(f"/deposits/{deposit.reference}").get_data(as_text=True)
    assert "final and non-refundable" in page


def test_a_cancelled_demo_checkout_expires_the_deposit(customer):
    customer.refresh_token("/deposits/new")
    checkout = customer.post("/deposits", {"amount": "25", "method": "card"}, htmx=True).headers["HX-Redirect"]
    customer.refresh_token(checkout)
    response = customer.post(checkout + "/cancel", htmx=True)
    assert "Expired" in response.get_data(as_text=True)
    with db.connection():
        assert Deposit.get().state == "expired"


def test_the_deposit_status_polls_while_pending_and_announces_the_credit(app, customer):
    customer.refresh_token("/deposits/new")
    checkout = customer.post("/deposits", {"amount": "25", "method": "card"}, htmx=True).headers["HX-Redirect"]
    with db.connection():
        reference = Deposit.get().reference
    pending = customer.get(f"/deposits/{reference}", htmx=True)
    assert 'hx-trigger="every 2s"' in pending.get_data(as_text=True)
    assert "HX-Trigger" not in pending.headers
    customer.refresh_token(checkout)
    customer.post(checkout + "/pay", htmx=True)
    done = customer.get(f"/deposits/{reference}", htmx=True)
    assert done.headers["HX-Trigger"] == "balance-changed"
    assert "every 2s" not in done.get_data(as_text=True)


def test_processor_unavailable_fails_the_deposit_with_a_clear_message(db_url, site_dir):
    from portal_testing import make_app

    app = make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x",
                   STRIPE_API_BASE="http://127.0.0.1:9")
    someone = Person(app.test_client())
    someone.register()
    someone.refresh_token("/deposits/new")
    response = someone.post("/deposits", {"amount": "25", "method": "card"}, htmx=True)
    assert response.status_code == 502
    assert "cannot be reached" in response.get_data(as_text=True)
    with db.connection():
        assert Deposit.get().state == "failed"


def test_without_htmx_the_form_leads_to_the_deposit_page_which_links_the_checkout(customer):
    customer.refresh_token("/deposits/new")
    response = customer.post("/deposits", {"amount": "25", "method": "card"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/deposits/dep_")
    page = customer.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="/demo/checkout/cs_' in page and "Waiting for payment" in page
