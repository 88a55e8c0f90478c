"""Numbers in headless Chromium: rent with the simulator set never to deliver and a short
wait window, wait for the window to pass, request the refund and see the balance restored;
rent with delivery and see the SMS text in full, final, with no refund button. All without
a page reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.numbers import catalog
from portal.store import db
from portal.money import ledger
from portal.store.models import Service, User
from tests.e2e.test_portal_flow import register

pytestmark = pytest.mark.e2e
WINDOWS = {"wa": 3, "tg": 10}  # seconds: short wait windows for the test


def _short_windows() -> None:
    catalog.seed_demo()
    for code, seconds in WINDOWS.items():
        Service.update(wait_seconds=seconds).where(Service.code == code).execute()


@pytest.fixture(scope="module")
def portal_url(start_portal):
    return start_portal({"SMS_PROVIDER": "simulator", "SMS_SIMULATOR": "default=deliver:1s;wa=never"},
                        prepare=_short_windows)


def fund(email: str, cents: int) -> None:
    with db.connection():
        user = User.get(User.email == email)
        ledger.post(f"e2e:{email}", "deposit",
                    [(ledger.house("card_clearing"), -cents), (ledger.wallet(user.id), cents)])


def wait_for_balance(page, text: str) -> None:
    page.wait_for_function(f"document.querySelector('#balance').innerText.includes('{text}')")


def open_numbers(page, base, email):
    register(page, base, email, "US")
    fund(email, 1000)
    page.wait_for_load_state("networkidle")  # no request of the dashboard cut off by leaving it
    page.goto(f"{base}/rentals")
    assert "$10.00" in page.inner_text("#balance")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads


def test_no_sms_in_the_window_then_refund_restores_the_balance(page, portal_url):
    open_numbers(page, portal_url, "nora@example.com")
    page.select_option("#filter-service", "wa")
    # The filtered list replaces the whole one when htmx swaps it in: wait for that.
    expect(page.locator("#offers tbody tr")).to_have_count(1)
    page.wait_for_selector("#offers button[value='US:wa']")
    page.click("#offers button[value='US:wa']")
    row = page.wait_for_selector("#rental-list .rental")
    assert "Waiting for the SMS" in row.inner_text()
    assert "Number rented: +1" in page.inner_text("#rental-list .rental")  # with its row, while it waits
    wait_for_balance(page, "$8.80")
    page.wait_for_selector("#rental-list .rental button.refund", timeout=15_000)
    assert "No SMS arrived within the wait window." in page.inner_text("#rental-list .rental")
    page.click("#rental-list .rental button.refund")
    page.wait_for_selector("#rental-list .rental.state-refunded")
    assert "$1.20 was credited to your balance." in page.inner_text("#rental-list .rental")
    assert page.locator("#rental-list button.refund").count() == 0
    wait_for_balance(page, "$10.00")
    assert page.evaluate("window.__sameDocument") is True


def test_a_delivered_sms_is_shown_in_full_and_cannot_be_refunded(page, portal_url):
    open_numbers(page, portal_url, "otto@example.com")
    page.select_option("#filter-service", "tg")
    page.wait_for_selector("#offers button[value='US:tg']")
    page.click("#offers button[value='US:tg']")
    sms = page.wait_for_selector("#rental-list .rental blockquote.sms", timeout=15_000)
    text = sms.inner_text()
    assert text.startswith("Telegram code: ") and "Do not give this code to anyone" in text
    row = page.inner_text("#rental-list .rental")
    assert "Final: an SMS was received, so this number is not refundable." in row
    assert page.locator("#rental-list button.refund").count() == 0
    page.wait_for_timeout(2500)  # the row stopped polling: still final, still no button
    assert page.locator("#rental-list .rental.state-received").count() == 1
    assert page.locator("#rental-list button.refund").count() == 0
    assert "$9.10" in page.inner_text("#balance")  # Telegram in the US: $0.90, not refunded
    assert page.evaluate("window.__sameDocument") is True
