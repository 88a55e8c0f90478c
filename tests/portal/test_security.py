"""Security headers, the htmx configuration, no inline scripts, escaping, serving the
static policy site on the same origin, and row ids in URLs that no row can have."""

from __future__ import annotations

import pytest
from lxml import html

from portal.store import db

PAGES = ["/login", "/register", "/dashboard", "/deposits/new", "/statement", "/account",
         "/en/payment-refund/", "/does-not-exist"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(customer, path):
    headers = customer.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS


def test_a_customers_pages_are_not_cached_but_the_policy_site_may_be(customer):
    assert customer.get("/dashboard").headers["Cache-Control"] == "private, no-store"
    assert "no-store" not in customer.get("/en/payment-refund/").headers.get("Cache-Control", "")


def test_hsts_only_over_https(customer):
    response = customer.client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", ["/login", "/register", "/dashboard", "/deposits/new", "/statement", "/account"])
def test_pages_have_no_inline_scripts_or_styles_and_a_strict_htmx_config(customer, path):
    tree = html.fromstring(customer.get(path).get_data(as_text=True))
    scripts = tree.xpath("//script")
    assert scripts and all(s.get("src") and not (s.text or "").strip() for s in scripts)
    assert not tree.xpath("//*[@style]") and not tree.xpath("//style")
    assert not [a for el in tree.iter() for a in el.attrib if a.startswith(("on", "hx-on"))]
    import json
    config = json.loads(tree.xpath("//meta[@name='htmx-config']/@content")[0])
    assert config["selfRequestsOnly"] is True and config["allowEval"] is False
    assert '"X-CSRFToken"' in tree.xpath("//body/@hx-headers")[0]


def test_user_input_is_escaped_when_shown_back(person):
    response = person.register(email='<script>alert(1)</script>@x.com')
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@x.com" in body


def test_htmx_is_vendored_and_pinned(app):
    response = app.test_client().get("/static/htmx.min.js")
    assert response.status_code == 200 and b"2.0.8" in response.data


@pytest.mark.parametrize("path, expected", [
    ("/en/payment-refund/", 200), ("/de/payment-refund/", 200), ("/index.html", 200),
    ("/versions.json", 200), ("/en/nothing-here/", 404), ("/../pyproject.toml", 404),
    ("/%2e%2e/pyproject.toml", 404),
])
def test_the_policy_site_is_served_on_the_same_origin(app, path, expected):
    assert app.test_client().get(path).status_code == expected


def test_the_footer_links_the_policy_in_force(customer):
    page = customer.get("/dashboard").get_data(as_text=True)
    assert 'href="/en/payment-refund/"' in page


def test_oversized_requests_are_refused(customer):
    customer.refresh_token("/deposits/new")
    response = customer.post("/deposits", {"amount": "x" * 300_000, "method": "card"})
    assert response.status_code == 413


def test_hsts_behind_a_trusted_https_proxy(db_url, site_dir):
    from portal_testing import make_app

    proxied = make_app(db_url, site_dir, TRUST_PROXY=1)
    response = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    untrusted = make_app(db_url, site_dir, TRUST_PROXY=0)
    response = untrusted.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_without_the_published_policy_registration_answers_503_and_writes_nothing(db_url, tmp_path):
    from portal.store import db
    from portal.store.models import User
    from portal_testing import make_app

    app = make_app(db_url, str(tmp_path))  # an empty SITE_DIR: no versions.json
    response = app.test_client().get("/register")
    assert response.status_code == 503 and "being published" in response.get_data(as_text=True)
    with db.connection():
        assert User.select().count() == 0


ID_ROUTES = [("GET", "/tickets/{}"), ("POST", "/tickets/{}/replies"), ("GET", "/staff/tickets/{}"),
             ("POST", "/staff/tickets/{}/replies"), ("POST", "/staff/tickets/{}/close"),
             ("POST", "/staff/tickets/{}/decision"), ("POST", "/staff/tickets/{}/refund"),
             ("POST", "/staff/accounts/{}/standing"), ("GET", "/staff/disputes/{}"),
             ("POST", "/staff/disputes/{}/evidence"), ("POST", "/staff/disputes/{}/demo/won"),
             ("POST", "/staff/held/{}/credit"), ("POST", "/staff/held/{}/return")]
# Ids no row can have: beyond a 64-bit signed integer (SQLite raised OverflowError), zero,
# and ticket 1 written with other digits than ASCII ones (Werkzeug's int read them as 1).
NO_SUCH_IDS = [2**63, 2**64, 10**30, "9" * 5000, 2**63 - 1, 0, "01", "%D9%A1", "%EF%BC%91", "%F0%9D%9F%8F"]


@pytest.fixture
def staff_with_ticket_1(customer):
    from portal.store.models import Ticket, User

    customer.refresh_token("/tickets/new")
    customer.post("/tickets", {"subject": "Hi", "category": "other", "body": "Hello"}, htmx=True)
    with db.connection():
        User.update(is_staff=True).execute()
        assert [t.id for t in Ticket.select()] == [1]
    assert customer.get("/tickets/1").status_code == 200
    return customer


@pytest.mark.parametrize("method, path", ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
@pytest.mark.parametrize("row_id", NO_SUCH_IDS, ids=lambda row_id: str(row_id)[:24])
def test_ids_no_row_can_have_answer_404(staff_with_ticket_1, method, path, row_id):
    url = path.format(row_id)
    if method == "GET":
        response = staff_with_ticket_1.get(url)
    else:
        response = staff_with_ticket_1.post(url, {"body": "x", "action": "approve", "reason": "x"})
    assert response.status_code == 404


def test_every_integer_in_a_route_is_a_row_id(app):
    """The stock ``int`` converter takes any size and any script's digits: no route uses it."""
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert [rule for rule in rules if "<int" in rule or "<float" in rule] == []
    assert any("<id:" in rule for rule in rules)
