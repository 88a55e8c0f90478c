"""The EU withdrawal function in headless Chromium: an EU customer deposits by demo card
with the waiver consent, receives its receipt (in the outbox), opens "Withdraw from
contract here" from the footer, withdraws from the unspent deposit in two steps and
follows the acknowledgement to the card-refund ticket it opened."""

from __future__ import annotations

import pytest

import test_portal_flow as portal_flow
from portal.store import db
from portal.store.models import Consent, OutboxMessage, User

pytestmark = pytest.mark.e2e


def test_an_eu_customer_consents_gets_the_receipt_withdraws_and_sees_the_ticket(page, portal_url):
    portal_flow.register(page, portal_url, "wanda@example.com", "DE")
    page.click("text=Add funds")
    page.fill("#amount", "25")
    page.check("#consent")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_url("**/demo/checkout/**")
    page.click("#demo-pay")
    page.wait_for_selector("#demo-result.status-succeeded")
    with db.connection():
        consent = Consent.select().join(User).where(User.email == "wanda@example.com").get()
        receipt = OutboxMessage.get(OutboxMessage.key == f"mail:consent_receipt:{consent.receipt_id}")
    assert receipt.target == "wanda@example.com" and consent.text in receipt.body

    page.wait_for_load_state("networkidle")
    page.goto(f"{portal_url}/account")
    page.click(f"a[href='/account/receipts/{consent.receipt_id}']")
    page.wait_for_selector("#consent-receipt")
    assert consent.receipt_id in page.inner_text("#consent-receipt")

    page.click("footer >> text=Withdraw from contract here")
    page.wait_for_url(f"{portal_url}/withdraw")
    item = page.locator(f"#item-{consent.subject}")
    item.check()
    assert "becomes a card refund request" in page.inner_text("#withdrawal-choose")
    page.click("#withdrawal-choose button[type=submit]")
    page.wait_for_selector("#withdrawal-confirm")
    assert consent.subject in page.inner_text("#withdrawal-confirm")
    page.click("#withdrawal-confirm-button")
    page.wait_for_url("**/withdraw/requests/*")
    assert "We received your withdrawal" in page.inner_text("#withdrawal-received")
    page.click("#withdrawal-received a.ticket-link")
    page.wait_for_url("**/tickets/*")
    assert f"Card refund of deposit {consent.subject}" in page.inner_text("main")
    with db.connection():
        acknowledgement = OutboxMessage.get(OutboxMessage.kind == "withdrawal_received")
    assert acknowledgement.target == "wanda@example.com" and consent.subject in acknowledgement.body
