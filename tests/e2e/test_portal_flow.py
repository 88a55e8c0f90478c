"""The portal in headless Chromium: register, deposit through the demo card checkout and
see the balance fragment update without a reload; an EU customer without consent is
refused in the form."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def register(page, base, email, country, language="en"):
    page.goto(f"{base}/register")
    page.fill("#email", email)
    page.fill("#password", "correct horse battery")
    page.select_option("#language", language)
    page.select_option("#country", country)
    page.check("input[name=accept_terms]")
    page.click("#register-form button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def test_register_deposit_by_demo_card_and_the_balance_updates_without_a_reload(page, portal_url):
    register(page, portal_url, "erin@example.com", "US")
    assert "$0.00" in page.inner_text("#balance")
    page.click("text=Add funds")
    page.fill("#amount", "25")
    page.check("input[name=method][value=card]")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_url("**/demo/checkout/**")
    assert "DEMO PROCESSOR" in page.inner_text(".demo-banner")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.click("#demo-pay")
    page.wait_for_selector("#demo-result.status-succeeded")
    page.wait_for_function("document.querySelector('#balance').innerText.includes('$25.00')")
    assert page.evaluate("window.__sameDocument") is True


def test_an_eu_customer_without_consent_is_refused_in_the_form(page, portal_url):
    register(page, portal_url, "eva@example.com", "DE", language="de")
    page.goto(f"{portal_url}/deposits/new")
    consent = page.locator("#consent")
    assert not consent.is_checked()
    page.fill("#amount", "25")
    page.click("#deposit-form button[type=submit]")
    error = page.wait_for_selector("#consent-error")
    assert "Widerrufsrecht" in error.inner_text()
    assert page.url == f"{portal_url}/deposits/new"
    # The refusal answered 422, which Chromium reports on the console: expected here.
    page.problems[:] = [p for p in page.problems if "status of 422" not in p]
    consent.check()
    page.click("#deposit-form button[type=submit]")
    page.wait_for_url("**/demo/checkout/**")
