"""What keyboards and screen readers need from the portal's HTML: a skip link to the main
content on every page, each refused field marked invalid and described by its error, a
description and one heading per section for every page."""

from __future__ import annotations

import pytest
from lxml import html

from portal_testing import Person

# (page with the form, where it posts, what is sent, the fields that must be refused)
REFUSED_FORMS = [
    ("/register", "/register", {"email": "not-an-email", "password": "short", "country": "ZZ", "language": "xx"},
     ["email", "password", "country", "language", "accept_terms"]),
    ("/login", "/login", {"email": "nobody@example.com", "password": "wrong password"}, ["email", "password"]),
    ("/deposits/new", "/deposits", {"amount": "1", "method": "card"}, ["amount"]),
    ("/deposits/new", "/deposits", {"amount": "25", "method": "gold"}, ["method"]),
    ("/account", "/account/preferences", {"language": "xx", "country": "ZZ", "time_zone": "Mars/Olympus"},
     ["language", "country", "time_zone"]),
    ("/account", "/account/password", {"current_password": "wrong password", "new_password": "short",
                                       "confirm_password": "other"}, ["current_password"]),
    ("/tickets/new", "/tickets", {"category": "nonsense", "subject": " ", "body": " "}, ["subject", "category", "body"]),
]


def signed_in(app, path) -> Person:
    someone = Person(app.test_client())
    if path not in ("/register", "/login"):
        assert someone.register(email="kim@example.com").status_code == 303
    someone.refresh_token(path)
    return someone


@pytest.mark.parametrize("page, action, data, fields", REFUSED_FORMS, ids=[f[1] + ":" + ",".join(f[3]) for f in REFUSED_FORMS])
def test_a_refused_field_is_marked_invalid_and_described_by_its_error(app, page, action, data, fields):
    someone = signed_in(app, page)
    response = someone.post(action, data, htmx=True)
    assert response.status_code in (401, 422)
    doc = html.fromstring(response.get_data(as_text=True))
    for name in fields:
        controls = doc.xpath(f"//*[@name='{name}']")
        assert controls, f"no field {name}"
        for control in controls:
            assert control.get("aria-invalid") == "true", f"{name} is not marked invalid"
            described = doc.get_element_by_id(control.get("aria-describedby"))
            assert described.text_content().strip(), f"{name}'s description is empty"
    others = [c.get("name") for c in doc.xpath("//*[@aria-invalid='true']") if c.get("name") not in fields]
    assert others == []


def test_an_accepted_field_is_not_marked(customer):
    page = html.fromstring(customer.get("/deposits/new").get_data(as_text=True))
    assert page.xpath("//*[@aria-invalid]") == []


PAGES = ["/login", "/register", "/dashboard", "/deposits", "/deposits/new", "/statement", "/account", "/tickets",
         "/tickets/new", "/rentals"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_skip_link_a_description_and_headed_sections(customer, path):
    response = customer.get(path)
    assert response.status_code == 200
    doc = html.fromstring(response.get_data(as_text=True))
    first_link = doc.xpath("//body//a")[0]
    assert first_link.get("href") == "#main" and first_link.text_content().strip() == "Skip to content"
    assert doc.xpath("//main/@id") == ["main"]
    description = doc.xpath("//meta[@name='description']/@content")
    assert len(description) == 1 and len(description[0]) > 40
    for section in doc.xpath("//section"):
        assert section.xpath("./h2|./h3|./*[1][self::h2 or self::h3]"), f"a section of {path} has no heading"


def test_the_deposit_and_ticket_pages_have_no_section_without_a_heading(customer):
    from portal.store import db
    from portal.store.models import Deposit, Ticket

    customer.deposit("25")
    customer.refresh_token("/tickets/new")
    customer.post("/tickets", {"category": "other", "subject": "Invoice", "body": "Where is it?"}, htmx=True)
    with db.connection():
        paths = [f"/deposits/{Deposit.get().reference}", f"/tickets/{Ticket.get().id}"]
    for path in paths:
        doc = html.fromstring(customer.get(path).get_data(as_text=True))
        headless = [s.get("id") for s in doc.xpath("//section") if not s.xpath("./h2|./h3")]
        assert headless == [], f"{path}: sections without a heading: {headless}"
