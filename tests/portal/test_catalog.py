"""The catalog: the demo seed (20 countries x 15 services), the price in force at any
instant from dated rows, and what a new price accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.numbers import catalog
from portal.accounts.users import FormError
from portal.store.models import Price, Service
from test_rentals import T0


def price_rows(country: str, service: str) -> list[Price]:
    """Every stored price of one country x service, newest first: a change never edits a row."""
    return list(Price.select(Price, Service).join(Service)
                .where(Price.country == country, Service.code == service)
                .order_by(Price.effective_at.desc(), Price.id.desc()))


@pytest.fixture
def seeded(connected):
    return catalog.seed_demo(now=T0)


def test_the_demo_catalog_has_20_countries_by_15_services(seeded):
    assert seeded == 300 == Price.select().count()
    assert Service.select().count() == 15
    assert len(catalog.countries_on_sale(T0)) == 20
    assert len(catalog.offers(T0)) == 300
    assert catalog.seed_demo(now=T0) == 0  # seeding again adds nothing


def test_wait_windows_come_from_the_service_or_the_terms_default(seeded):
    windows = {s.code: s.wait_seconds for s in catalog.services()}
    assert windows["wa"] == 20 * 60 and windows["go"] == 15 * 60 and windows["wb"] == 30 * 60


@pytest.mark.parametrize("base, country, cents", [(80, "US", 120), (80, "IN", 40), (25, "IN", 15),
                                                  (90, "GB", 135), (10, "IN", 10)])
def test_demo_prices_are_whole_multiples_of_five_cents(base, country, cents):
    assert catalog.demo_price(base, country) == cents


# (seconds after T0 of each new price, the instant asked, the price in force; None: none yet)
HISTORY = [
    ([], -1, None),
    ([], 0, 120),
    ([10], 9, 120),
    ([10], 10, 250),
    ([10, 20], 15, 250),
    ([10, 20], 3600, 300),
    ([10, 10], 10, 300),  # two changes at the same instant: the later row wins
]


@pytest.mark.parametrize("changes, asked, expected", HISTORY, ids=[str(i) for i in range(len(HISTORY))])
def test_the_price_in_force_is_the_latest_row_effective_by_then(seeded, changes, asked, expected):
    for index, seconds in enumerate(changes):
        catalog.set_price("US", "wa", ["2.50", "3.00"][index], now=T0 + timedelta(seconds=seconds))
    at = T0 + timedelta(seconds=asked)
    found = catalog.offer("US", "wa", at)
    assert (found.price_cents if found else None) == expected
    listed = [o.price_cents for o in catalog.offers(at, country="US", service="wa")]
    assert listed == ([expected] if expected else [])


def test_a_price_change_is_a_new_row(seeded):
    catalog.set_price("US", "wa", "2.50", now=T0 + timedelta(seconds=5))
    assert [p.price_cents for p in price_rows("US", "wa")] == [250, 120]


BAD_PRICES = [
    ("XX", "wa", "1", "country", "country.invalid"),
    ("US", "zz", "1", "service", "rental.unknown_service"),
    ("US", "wa", "", "amount", "amount.missing"),
    ("US", "wa", "abc", "amount", "amount.invalid"),
    ("US", "wa", "0", "amount", "price.out_of_range"),
    ("US", "wa", "100.01", "amount", "price.out_of_range"),
    ("US", "wa", "1.005", "amount", "amount.invalid"),
]


@pytest.mark.parametrize("country, service, amount, field, code", BAD_PRICES)
def test_bad_prices_are_refused_and_nothing_is_written(seeded, country, service, amount, field, code):
    with pytest.raises(FormError) as refused:
        catalog.set_price(country, service, amount, now=T0)
    assert refused.value.errors[field] == code
    assert Price.select().count() == 300


def test_a_country_not_on_sale_can_be_priced_and_is_then_offered(seeded):
    assert catalog.offer("NG", "wa", T0) is None
    catalog.set_price("NG", "wa", "0.75", now=T0)
    assert catalog.offer("NG", "wa", T0).price_cents == 75 and "NG" in catalog.countries_on_sale(T0)
