"""The built policy site in a real headless Chromium: it loads without console errors,
and a reader can find the policy, switch language, and see what an upcoming version changes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sitegen.pipeline import build
from sitegen.options import Options

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site_url(tmp_path_factory, serve_directory):
    root = tmp_path_factory.mktemp("site")
    build(Options(out=root / "out", cache=root / "cache", now=datetime(2026, 11, 25, 12, tzinfo=timezone.utc)))
    return serve_directory(root / "out")


def test_a_reader_finds_the_policy_and_what_changes(page, site_url):
    page.goto(site_url + "/")
    page.get_by_role("link", name="English").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payment & Refund Policy").click()
    assert page.url == site_url + "/en/payment-refund/"
    assert page.locator("h1").inner_text() == "Payment & Refund Policy"
    banner = page.locator(".banner-upcoming")
    assert "January 1, 2027" in banner.inner_text()
    banner.get_by_role("link", name="See what changes").click()
    assert page.url == site_url + "/en/payment-refund/2027-01-01/changes/"
    assert page.locator(".redline ins").count() > 0
    assert page.locator(".redline del").count() > 0


def test_switching_language_keeps_the_page(page, site_url):
    page.goto(site_url + "/en/payment-refund/2026-11-24/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()
    assert page.url == site_url + "/de/payment-refund/2026-11-24/"
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Zahlungs- und Rückerstattungsrichtlinie" in page.locator("h1").inner_text()


def test_clause_links_land_on_the_clause(page, site_url):
    page.goto(site_url + "/en/payment-refund/#card-deposit-refunds")
    heading = page.locator("#card-deposit-refunds")
    assert heading.is_visible()
    assert heading.evaluate("el => el.getBoundingClientRect().top") < 200


def test_print_stylesheet_hides_navigation(page, site_url):
    page.goto(site_url + "/en/payment-refund/")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert page.locator(".policy-text").is_visible()
