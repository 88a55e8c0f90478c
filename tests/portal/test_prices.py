"""The staff price page: staff only (anyone else gets 404), a new price per row from now
on, and refusals in the row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.numbers import catalog
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import Price, User
from portal_testing import Person
from test_catalog import price_rows


@pytest.fixture
def staff(app):
    with db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(hours=1))
    someone = Person(app.test_client())
    assert someone.register(email="sam@example.com").status_code == 303
    with db.connection():
        User.update(is_staff=True).where(User.email == "sam@example.com").execute()
    return someone


@pytest.mark.parametrize("method, path", [("get", "/staff/prices"), ("get", "/staff/prices?country=DE"),
                                          ("post", "/staff/prices")])
def test_anyone_but_staff_gets_404(customer, person, method, path):
    for who in (customer, person):
        if method == "get":
            assert who.get(path).status_code == 404
        else:
            who.refresh_token("/login")
            assert who.post(path, {"country": "US", "service": "wa", "amount": "1"}).status_code == 404


def test_staff_see_every_service_of_a_country_with_its_price(staff):
    page = staff.get("/staff/prices?country=DE").get_data(as_text=True)
    assert page.count('<tr id="price-DE-') == 15 and "$1.10" in page  # Germany, WhatsApp
    table = staff.get("/staff/prices?country=NG", htmx=True).get_data(as_text=True)
    assert table.lstrip().startswith('<table id="price-table"') and table.count("not on offer") == 15
    assert staff.get("/staff/prices?country=ZZ").status_code == 404


def test_staff_set_a_new_price_from_now_on(staff):
    staff.refresh_token("/staff/prices")
    response = staff.post("/staff/prices", {"country": "DE", "service": "wa", "amount": "2.35"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<tr id="price-DE-wa">')
    assert "$2.35" in body and "Saved" in body
    with db.connection():
        assert [p.price_cents for p in price_rows("DE", "wa")] == [235, 110]
        assert price_rows("DE", "wa")[0].created_by.email == "sam@example.com"


@pytest.mark.parametrize("amount, message", [("", "Enter an amount."), ("-1", "Enter an amount in US dollars"),
                                             ("0", "Enter a price greater than zero"),
                                             ("٢", "Enter an amount in US dollars"),
                                             ("２.５０", "Enter an amount in US dollars")])
def test_bad_prices_answer_in_the_row(staff, amount, message):
    staff.refresh_token("/staff/prices")
    response = staff.post("/staff/prices", {"country": "DE", "service": "wa", "amount": amount}, htmx=True)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with db.connection():
        assert Price.select().count() == 300


def test_unknown_rows_answer_404(staff):
    staff.refresh_token("/staff/prices")
    assert staff.post("/staff/prices", {"country": "DE", "service": "zz", "amount": "1"}).status_code == 404
    assert staff.post("/staff/prices", {"country": "ZZ", "service": "wa", "amount": "1"}).status_code == 404
