"""The policy site on the portal's origin: ``/`` leads a visitor to sign in or register and
a signed-in customer to the dashboard; the site's pages link the portal's sign-in; the
site's fingerprinted assets are cached for a year, its pages briefly."""

from __future__ import annotations

import hashlib
import re

import pytest
from lxml import html


def links(body: str) -> dict[str, str]:
    return {a.text_content().strip(): a.get("href") for a in html.fromstring(body).iter("a")}


def test_a_visitor_at_the_root_finds_sign_in_and_register(person):
    response = person.get("/")
    assert response.status_code == 200
    found = links(response.get_data(as_text=True))
    assert found["Log in"] == "/login" and found["Create account"] == "/register"
    assert person.get(found["Log in"]).status_code == 200
    assert person.get(found["Create account"]).status_code == 200


@pytest.mark.parametrize("path, log_in, register", [
    ("/en/", "Log in", "Create account"),
    ("/en/payment-refund/", "Log in", "Create account"),
    ("/de/", "Anmelden", "Konto eröffnen"),
    ("/de/contact/", "Anmelden", "Konto eröffnen"),
])
def test_every_site_page_links_sign_in_and_register(person, path, log_in, register):
    found = links(person.get(path).get_data(as_text=True))
    assert found[log_in] == "/login" and found[register] == "/register"


def test_a_signed_in_customer_at_the_root_reaches_the_dashboard(customer):
    response = customer.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert customer.get("/", follow_redirects=True).request.path == "/dashboard"


def test_the_root_is_not_cached_across_signing_in(person):
    assert "no-cache" in person.get("/").headers["Cache-Control"]


def test_the_sites_stylesheets_are_fingerprinted_and_cached_for_a_year(person):
    page = person.get("/en/payment-refund/").get_data(as_text=True)
    stylesheets = [link.get("href") for link in html.fromstring(page).iter("link") if link.get("rel") == "stylesheet"]
    assert len(stylesheets) == 2
    for href in stylesheets:
        assert re.fullmatch(r"/assets/(site|print)\.[0-9a-f]{16}\.css", href)
        response = person.get(href)
        assert response.status_code == 200
        assert hashlib.sha256(response.get_data()).hexdigest()[:16] == href.rsplit(".", 2)[1]
        assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.immutable
    assert person.get("/en/payment-refund/").cache_control.max_age == 300


@pytest.mark.parametrize("path, seconds", [
    ("assets/site.0123456789abcdef.css", 365 * 24 * 3600), ("assets/site.css", 300), ("assets/favicon.svg", 300),
    ("en/index.html", 300), ("index.html", 0), ("assets/x.0123456789ABCDEF.css", 300),
])
def test_how_long_a_browser_keeps_each_file(path, seconds):
    from portal.routes.site import max_age

    assert max_age(path) == seconds
