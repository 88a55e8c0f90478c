"""Every page a customer sees, in both languages and in the states a customer meets (errors
shown, a deposit credited, a number rented, an SMS received, a refund made), in headless
Chromium: none scrolls sideways at 375 px, and axe-core (vendored, WCAG 2.1 A and AA) finds
no violation. The pages of the policy site, served on the portal's origin, too. Screenshots
of the dashboard and the numbers page at 375 and 1280 px go to ``UX_SHOTS`` (default
``/tmp/ux-shots``), to be looked at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.numbers import catalog
from portal.store import db
from portal.store.models import Service

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE, DESKTOP = 375, 1280
SHOTS = Path(os.environ.get("UX_SHOTS", "/tmp/ux-shots"))
PASSWORD = "correct horse battery"
SITE_PAGES = ["/", "/{lang}/", "/{lang}/contact/", "/{lang}/payment-refund/", "/{lang}/payment-refund/history/",
              "/{lang}/payment-refund/2026-11-24/", "/{lang}/payment-refund/2027-01-01/",
              "/{lang}/payment-refund/2027-01-01/changes/", "/404.html"]


def _short_windows() -> None:
    catalog.seed_demo()
    Service.update(wait_seconds=3).where(Service.code == "wa").execute()


@pytest.fixture(scope="module")
def portal_url(start_portal):
    return start_portal({"SMS_PROVIDER": "simulator", "SMS_SIMULATOR": "default=deliver:1s;wa=never"},
                        prepare=_short_windows)


@pytest.fixture
def audited(browser, request):
    """A page whose scripts may be joined by axe (the portal's CSP forbids injected ones),
    in a browser whose time zone is the test's ``zone`` parameter, if it has one."""
    zone = getattr(request, "param", None) or (request.node.callspec.params.get("zone")
                                                if hasattr(request.node, "callspec") else None)
    context = browser.new_context(bypass_csp=True, viewport={"width": DESKTOP, "height": 900},
                                  timezone_id=zone or "UTC")
    page = context.new_page()
    yield page
    context.close()


def too_wide(page) -> list[str]:
    """What makes the page scroll sideways at the phone width: the page's width and the
    outermost elements reaching past the right edge."""
    page.set_viewport_size({"width": PHONE, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE:
        return []
    culprits = page.evaluate("""(limit) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > limit + 0.5)
        .filter(e => !(e.parentElement && e.parentElement.getBoundingClientRect().right > limit + 0.5))
        .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                         (e.className ? '.' + String(e.className).split(' ').join('.') : '') +
                         ' ' + Math.round(e.getBoundingClientRect().right) + 'px')""", PHONE)
    return [f"{width}px wide at {PHONE}px: {', '.join(culprits)}"]


def violations(page) -> list[str]:
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
                          ".then(r => r.violations.map(v => v.id + ': ' + v.help + ' at ' +"
                          " v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))", WCAG_21_AA)
    return found


def audit(page, label: str, problems: list[str]) -> None:
    problems += [f"{label}: {p}" for p in too_wide(page) + violations(page)]


def visit(page, url: str, label: str, problems: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    audit(page, label, problems)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (PHONE, DESKTOP):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def register(page, base, email, lang, country, problems):
    page.goto(f"{base}/register")
    page.select_option("#language", lang)
    page.fill("#email", email)
    page.fill("#password", "short")
    page.select_option("#country", country)
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#password-error")
    audit(page, f"{lang} /register with errors", problems)
    page.fill("#password", PASSWORD)
    page.check("input[name=accept_terms]")
    page.click("#register-form button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def deposit(page, base, lang, problems):
    page.goto(f"{base}/deposits/new")
    page.fill("#amount", "1")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_selector("#amount-error")
    audit(page, f"{lang} /deposits/new with an error", problems)
    page.fill("#amount", "25")
    if page.locator("#consent").count():
        page.check("#consent")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_url("**/demo/checkout/**")
    audit(page, f"{lang} demo checkout", problems)
    page.click("#demo-pay")
    page.wait_for_selector("#demo-result.status-succeeded")
    audit(page, f"{lang} demo checkout paid", problems)


def rent(page, base, country, service, lang, problems):
    page.goto(f"{base}/rentals")
    page.select_option("#filter-service", service)
    page.wait_for_selector(f"#offers button[value='{country}:{service}']")
    if page.locator("#rent-consent").count():
        page.check("#rent-consent")
    page.click(f"#offers button[value='{country}:{service}']")
    page.wait_for_selector("#rental-list .rental")


@pytest.mark.parametrize("lang, country, zone, shown_zone", [("en", "US", "America/New_York", "EST"),
                                                             ("de", "DE", "Europe/Berlin", "MEZ")])
def test_every_customer_page_fits_a_phone_and_axe_finds_nothing(audited, portal_url, lang, country, zone,
                                                                 shown_zone):
    page, base, problems = audited, portal_url, []
    register(page, base, f"audit-{lang}@example.com", lang, country, problems)
    deposit(page, base, lang, problems)
    rent(page, base, country, "wa", lang, problems)  # never delivered: refundable after 3 s
    audit(page, f"{lang} /rentals with a number waiting", problems)
    page.wait_for_selector("#rental-list .rental button.refund", timeout=15_000)
    audit(page, f"{lang} /rentals with a refund offered", problems)
    page.click("#rental-list .rental button.refund")
    page.wait_for_selector("#rental-list .rental.state-refunded")
    audit(page, f"{lang} /rentals after a refund", problems)
    rent(page, base, country, "tg", lang, problems)  # its SMS comes after 1 s
    page.wait_for_selector("#rental-list .rental blockquote.sms", timeout=15_000)
    audit(page, f"{lang} /rentals with an SMS received", problems)
    shoot(page, f"numbers-{lang}")
    rental = page.locator("#rental-list .rental").first.get_attribute("id").removeprefix("rental-")

    page.goto(f"{base}/tickets/new")
    page.fill("#subject", " ")
    page.fill("#body", " ")
    page.click("#ticket-form button[type=submit]")
    page.wait_for_selector(".error")
    audit(page, f"{lang} /tickets/new with errors", problems)
    page.select_option("#category", "other")
    page.fill("#subject", "A question")
    page.fill("#body", "Where is my invoice?")
    page.click("#ticket-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    audit(page, f"{lang} a ticket", problems)

    page.goto(f"{base}/account")
    for field in ("#current_password", "#new_password", "#confirm_password"):
        page.fill(field, "wrong password")
    page.click("#password-form button[type=submit]")
    page.wait_for_selector("#password-form .error")
    audit(page, f"{lang} /account with an error", problems)

    for path in ["/dashboard", "/rentals", f"/rentals/{rental}", "/deposits", "/statement", "/tickets"]:
        visit(page, base + path, f"{lang} {path}", problems)
    page.goto(f"{base}/dashboard")
    page.wait_for_load_state("networkidle")
    shoot(page, f"dashboard-{lang}")
    # The account took the browser's time zone at registration; every time names it.
    assert page.locator("#deposit-list a").first.inner_text().endswith(shown_zone)
    deposit_link = page.locator("#deposit-list a").first.get_attribute("href")
    visit(page, base + deposit_link, f"{lang} a deposit", problems)

    page.click("form[action='/logout'] button")
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/login")
    page.fill("#email", f"audit-{lang}@example.com")
    page.fill("#password", "wrong password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-form .error")
    audit(page, f"{lang} /login with an error", problems)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_site_page_fits_a_phone_and_axe_finds_nothing(audited, portal_url, lang):
    problems: list[str] = []
    for path in SITE_PAGES:
        url = portal_url + path.format(lang=lang)
        visit(audited, url, f"{lang} {path.format(lang=lang)}", problems)
    assert problems == [], "\n".join(problems)


def focused(page) -> str:
    return page.evaluate("""() => { const e = document.activeElement;
        return e === document.body ? 'body' : e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
               (e.name ? '[name=' + e.name + ']' : '') + (e.value && e.tagName === 'BUTTON' ? '=' + e.value : ''); }""")


def focus_settles(page) -> str:
    """Where the focus is once htmx has settled (polled from Python: the page's CSP forbids
    the evaluated predicates of wait_for_function)."""
    for _ in range(50):
        where = focused(page)
        if where != "body":
            return where
        page.wait_for_timeout(100)
    return "body"


def test_the_keyboard_keeps_its_place(page, portal_url):
    page.goto(f"{portal_url}/register")
    page.keyboard.press("Tab")
    assert focused(page) == "a" and page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Enter")
    assert focused(page) == "main#main"

    page.fill("#email", "keys@example.com")
    page.fill("#password", "short")
    page.select_option("#country", "US")
    page.focus("#password")
    page.keyboard.press("Enter")  # refused: the form comes back, focus on the first refused field
    page.wait_for_selector("#password-error")
    assert focus_settles(page) == "input#password[name=password]"
    page.problems[:] = [p for p in page.problems if "status of 422" not in p]
    page.fill("#password", PASSWORD)
    page.check("input[name=accept_terms]")
    page.click("#register-form button[type=submit]")
    page.wait_for_url(f"{portal_url}/dashboard")

    with db.connection():
        from portal.money import ledger
        from portal.store.models import User
        user = User.get(User.email == "keys@example.com")
        ledger.post("e2e:keys", "deposit", [(ledger.house("card_clearing"), -1000), (ledger.wallet(user.id), 1000)])
    page.goto(f"{portal_url}/rentals")
    page.select_option("#filter-service", "tg")
    expect(page.locator("#offers tbody tr")).to_have_count(1)  # the filtered list is swapped in
    page.focus("#offers button[value='US:tg']")
    page.keyboard.press("Enter")  # the button is disabled while the rental is made
    page.wait_for_selector("#rental-list .rental")
    page.wait_for_timeout(300)  # the swaps have settled
    assert focus_settles(page) == "button[name=offer]=US:tg"
