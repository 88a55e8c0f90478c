"""In headless Chromium: a customer on an old version of the policy sees the banner of what
changed once, on the first page after a newer version took effect, continues, and does not
see it again; the account page lists the acceptance."""

from __future__ import annotations

from datetime import timedelta

import pytest

import portal.routes.policy as policy_routes
from portal.policy import TERMS
from portal.store import db
from portal.store.models import User

pytestmark = pytest.mark.e2e

A, C = TERMS[0], TERMS[2]


def test_a_customer_on_an_old_version_sees_the_banner_once(page, portal_url, monkeypatch):
    page.goto(f"{portal_url}/register")
    page.fill("#email", "olga@example.com")
    page.fill("#password", "correct horse battery")
    page.select_option("#country", "US")
    page.check("input[name=accept_terms]")
    page.click("#register-form button[type=submit]")
    page.wait_for_url(f"{portal_url}/dashboard")
    with db.connection():  # she accepted the first version; the third one took effect three days ago
        User.update(terms_version=A.version, terms_banner_version="").where(User.email == "olga@example.com").execute()
    monkeypatch.setattr(policy_routes, "utcnow", lambda: C.effective_at + timedelta(days=3))

    page.goto(f"{portal_url}/dashboard")
    banner = page.locator("#terms-banner")
    assert f"Version {C.version} is in force since January 2, 2027" in banner.inner_text()
    banner.locator("summary").click()
    assert "Withdraw from contract here" in " ".join(banner.locator(".redline ins").all_inner_texts())
    banner.locator("button[type=submit]").click()
    page.wait_for_selector("#terms-banner [role=status]")
    assert f"you accepted version {C.version}" in banner.inner_text()

    page.reload()
    assert page.locator("#terms-banner").count() == 0
    page.goto(f"{portal_url}/account")
    history = page.locator("#terms-acceptances").inner_text()
    assert C.version in history and "by continuing after a change" in history
    assert page.locator("#terms-banner").count() == 0
