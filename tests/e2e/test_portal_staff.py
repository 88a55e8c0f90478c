"""Card refunds in headless Chromium: a customer deposits by demo card, requests a refund
from the deposit's refund meter, staff approve it in the console, and the customer's
balance and deposit state update. A customer who rented a number after depositing sees
"not refundable: spent since", and a forged refund request is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

import test_portal_flow as portal_flow
from portal.numbers import catalog
from portal.store import db
from portal.store.models import User

TICKET_PAGE = re.compile(r"/tickets/\d+$")

pytestmark = pytest.mark.e2e


def register(page, base, email):
    portal_flow.register(page, base, email, "US")


def goto(page, url):
    """Navigate once the current page has settled (an aborted favicon load is a failure)."""
    page.wait_for_load_state("networkidle")
    page.goto(url)


def deposit_by_demo_card(page, base, amount="25"):
    goto(page, f"{base}/deposits/new")
    page.fill("#amount", amount)
    page.check("input[name=method][value=card]")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_url("**/demo/checkout/**")
    page.click("#demo-pay")
    page.wait_for_selector("#demo-result.status-succeeded")


def make_staff(email):
    with db.connection():
        User.update(is_staff=True).where(User.email == email).execute()


def rent_a_number(page, base):
    """The customer rents a number on the Numbers page (the demo catalog, seeded here)."""
    with db.connection():
        catalog.seed_demo()
    goto(page, f"{base}/rentals")
    page.select_option("#filter-service", "wa")
    page.click("#offers button[value='US:wa']")
    page.wait_for_selector("#rental-list .rental")


def test_refund_requested_from_the_meter_and_approved_by_staff(browser, page, portal_url):
    register(page, portal_url, "rita@example.com")
    deposit_by_demo_card(page, portal_url)
    goto(page, f"{portal_url}/deposits")
    meter = page.locator(".refund-meter").first
    assert "Refundable until" in meter.inner_text() and "(6 days 23 hours left)" in meter.inner_text()
    meter.locator("a.refund-request").click()
    page.wait_for_url("**/tickets/new?deposit=dep_*")
    assert page.locator("#category").input_value() == "card_refund"
    page.fill("#body", "I topped up by mistake.\nPlease refund.")
    page.click("#ticket-form button[type=submit]")
    page.wait_for_url(TICKET_PAGE)  # not "**/tickets/*": the form's own URL, /tickets/new?..., matches it
    assert "I topped up by mistake.\nPlease refund." in page.inner_text(".thread .plain")
    assert page.inner_text(".due")  # the first-response due time is shown

    staff_context = browser.new_context()
    staff = staff_context.new_page()
    register(staff, portal_url, "steve@staff.example.com")
    make_staff("steve@staff.example.com")
    goto(staff, f"{portal_url}/staff/")
    staff.click("#staff-queue a")
    staff.wait_for_selector("#approve-refund")
    assert "Refundable until" in staff.inner_text("#customer-deposits")
    staff.click("#approve-refund")
    staff.wait_for_selector("text=Refund approved and sent to the card processor.")
    # The processor's answer comes by webhook, after the request (the demo's is sent by a job).
    ticket_url = staff.url
    for _ in range(40):
        if "Refunded to your card" in staff.inner_text("#customer-deposits"):
            break
        staff.wait_for_timeout(250)
        goto(staff, ticket_url)
    assert "Refunded to your card" in staff.inner_text("#customer-deposits")
    goto(staff, f"{portal_url}/staff/audit")
    assert "refund.approve" in staff.inner_text("#audit-log")
    staff_context.close()

    goto(page, f"{portal_url}/deposits")
    assert "$0.00" in page.inner_text("#balance")
    assert "Refunded to your card" in page.inner_text("#deposit-list")
    assert "Refunded" in page.inner_text("#deposit-list td:nth-child(5)")


def test_spent_since_is_shown_and_a_forged_request_is_refused(page, portal_url):
    register(page, portal_url, "sid@example.com")
    deposit_by_demo_card(page, portal_url)
    rent_a_number(page, portal_url)
    goto(page, f"{portal_url}/deposits")
    assert "Not refundable: spent since." in page.inner_text(".refund-meter")
    assert page.locator("a.refund-request").count() == 0
    reference = page.locator("#deposit-list a").first.get_attribute("href").rsplit("/", 1)[1]
    goto(page, f"{portal_url}/tickets/new")
    forged = page.evaluate("""async (reference) => {
        const token = document.querySelector('input[name=csrf_token]').value;
        const body = new URLSearchParams({csrf_token: token, category: 'card_refund', deposit: reference,
                                          subject: 'Refund', body: 'Refund it anyway'});
        const response = await fetch('/tickets', {method: 'POST', body, headers: {'HX-Request': 'true'}});
        return {status: response.status, text: await response.text()};
    }""", reference)
    assert forged["status"] == 422 and "Not refundable: spent since." in forged["text"]
    goto(page, f"{portal_url}/tickets")
    assert "No tickets yet." in page.inner_text("#ticket-list")
    # the refused request answered 422, which Chromium reports on the console: expected here
    page.problems[:] = [p for p in page.problems if "status of 422" not in p]


def test_a_demo_dispute_restricts_the_account_and_staff_submit_evidence_and_win_it(browser, page, portal_url):
    register(page, portal_url, "dora@example.com")
    deposit_by_demo_card(page, portal_url, "30")
    goto(page, f"{portal_url}/deposits")
    reference = page.locator("#deposit-list a").first.get_attribute("href").rsplit("/", 1)[1]

    staff_context = browser.new_context()
    staff = staff_context.new_page()
    register(staff, portal_url, "dan@staff.example.com")
    make_staff("dan@staff.example.com")
    goto(staff, f"{portal_url}/staff/disputes/")
    staff.fill("#demo-dispute-deposit", reference)
    staff.click("#open-demo-dispute")
    staff.wait_for_selector(f"#staff-disputes a:has-text('{reference}')")
    assert "Evidence due" in staff.inner_text("#staff-disputes")

    goto(page, f"{portal_url}/dashboard")
    assert "disputed with your card" in page.inner_text(".standing-notice")
    expect(page.locator("#balance")).to_contain_text("$0.00")

    staff.click(f"#staff-disputes a:has-text('{reference}')")
    staff.wait_for_selector("#submit-evidence")
    evidence = staff.inner_text(".evidence")
    assert "refund_policy_disclosure" in evidence and "dora@example.com" in evidence
    staff.click("#submit-evidence")
    staff.wait_for_selector("text=The evidence was submitted to the card processor.")
    expect(staff.locator(".dispute-state")).to_contain_text("Under review by the bank")
    staff.click("#demo-won")
    staff.wait_for_selector("text=The demo bank decided the dispute in our favour.")
    expect(staff.locator(".dispute-state")).to_contain_text("Won")
    staff_context.close()

    goto(page, f"{portal_url}/dashboard")
    assert "$30.00" in page.inner_text("#balance")
    assert page.locator(".standing-notice").count() == 0
