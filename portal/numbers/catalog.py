"""The number catalog: services with their wait windows, and dated prices per country x
service.

Prices change without notice: a change is a new ``Price`` row effective from its instant,
never an edit, so the price of any moment can be read back. A rental records the price row
it was bought at (and its amount); a refund credits that amount, whatever the price now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.accounts.users import FormError
from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import Price, Service, User
from portal.money.amounts import AmountError, parse_cents
from portal.policy import terms_in_force
from portal.numbers.sms.countries import COUNTRIES

MAX_PRICE_CENTS = 100_00  # a sanity bound on what staff can type

# The demo catalog: (code, name, base price in cents, wait window in minutes or None for
# the Terms' default window). Codes are the SMS-Activate protocol's service codes.
DEMO_SERVICES = (
    ("wa", "WhatsApp", 80, None), ("tg", "Telegram", 60, None), ("go", "Google", 50, 15),
    ("fb", "Facebook", 40, None), ("ig", "Instagram", 45, None), ("tw", "X (Twitter)", 35, None),
    ("ds", "Discord", 30, 10), ("vi", "Viber", 25, None), ("wb", "WeChat", 90, 30),
    ("mm", "Microsoft", 30, 15), ("wx", "Apple", 70, None), ("am", "Amazon", 40, None),
    ("ub", "Uber", 35, 10), ("oi", "Tinder", 45, None), ("lf", "TikTok", 40, None),
)
# Percent of the base price per country (what numbers cost upstream, roughly).
DEMO_COUNTRY_FACTORS = {
    "US": 150, "CA": 140, "GB": 150, "DE": 140, "FR": 130, "NL": 130, "SE": 130,
    "ES": 110, "IT": 110, "PL": 90, "PT": 100, "RO": 80, "UA": 60, "KZ": 60, "TR": 70,
    "IN": 50, "ID": 50, "PH": 55, "VN": 50, "BR": 70,
}


@dataclass(frozen=True)
class Offer:
    """What a customer can rent now: a country, a service and its current price row."""

    country: str
    service: Service
    price: Price

    @property
    def price_cents(self) -> int:
        return self.price.price_cents

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.service.wait_seconds)


def services() -> list[Service]:
    return list(Service.select().order_by(Service.name))


def _current(query, now: datetime) -> dict[tuple[str, int], Price]:
    latest: dict[tuple[str, int], Price] = {}
    for price in query.where(Price.effective_at <= now).order_by(Price.effective_at, Price.id):
        latest[(price.country, price.service_id)] = price
    return latest


def offers(now: datetime | None = None, *, country: str = "", service: str = "") -> list[Offer]:
    """Every country x service on sale at ``now``, optionally only one country or service;
    sorted by country, then service name."""
    now = now or utcnow()
    query = Price.select(Price, Service).join(Service)
    if country:
        query = query.where(Price.country == country)
    if service:
        query = query.where(Service.code == service)
    found = [Offer(p.country, p.service, p) for p in _current(query, now).values()]
    return sorted(found, key=lambda o: (o.country, o.service.name.casefold()))


def offer(country: str, service: str, now: datetime | None = None) -> Offer | None:
    """The offer of one country x service at ``now``, or None when it is not on sale."""
    now = now or utcnow()
    price = (Price.select(Price, Service).join(Service)
             .where(Price.country == country, Service.code == service, Price.effective_at <= now)
             .order_by(Price.effective_at.desc(), Price.id.desc()).first())
    return Offer(country, price.service, price) if price else None


def countries_on_sale(now: datetime | None = None) -> list[str]:
    return sorted({o.country for o in offers(now)})


def set_price(country: str, service: str, amount_text: str, *, by: User | None = None,
              now: datetime | None = None) -> Price:
    """A new price for one country x service, effective at ``now``; ``FormError`` (message
    codes) when the country, the service or the amount is not acceptable."""
    now = now or utcnow()
    errors = {}
    if country not in COUNTRIES:
        errors["country"] = "country.invalid"
    found = Service.get_or_none(Service.code == service)
    if found is None:
        errors["service"] = "rental.unknown_service"
    try:
        cents = parse_cents(amount_text)
        if not 0 < cents <= MAX_PRICE_CENTS:
            errors["amount"] = "price.out_of_range"
    except AmountError as bad:
        errors["amount"] = bad.code
    if errors:
        raise FormError(errors)
    return Price.create(country=country, service=found, price_cents=cents, effective_at=now,
                        created_by=by, created_at=now)


def demo_price(base_cents: int, country: str) -> int:
    """A demo price: the base scaled by the country's factor, rounded to 5 cents (>= 10)."""
    scaled = base_cents * DEMO_COUNTRY_FACTORS[country]
    return max(10, (scaled + 250) // 500 * 5)


def seed_demo(now: datetime | None = None) -> int:
    """Create the demo catalog (15 services x 20 countries) unless services exist; returns
    the number of price rows created."""
    now = now or utcnow()
    if Service.select().exists():
        return 0
    default_wait = terms_in_force(now).default_sms_wait
    with database.atomic():
        rows = _create_demo(now, default_wait)
    return rows


def _create_demo(now: datetime, default_wait: timedelta) -> int:
    rows = 0
    for code, name, base, minutes in DEMO_SERVICES:
        wait = timedelta(minutes=minutes) if minutes else default_wait
        service = Service.create(code=code, name=name, wait_seconds=int(wait.total_seconds()))
        for country in DEMO_COUNTRY_FACTORS:
            Price.create(country=country, service=service, price_cents=demo_price(base, country),
                         effective_at=now, created_at=now)
            rows += 1
    return rows
