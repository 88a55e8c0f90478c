"""Demo data for ``make run``: a customer, an EU customer, a staff user, the number catalog
(with short wait windows when ``DEMO_WAIT_SECONDS`` asks for them), and a month of another
demo customer's rentals, so the delivery statistics show real figures."""

from __future__ import annotations

import random
from datetime import timedelta

from portal.accounts import users
from portal.money import deposits, postings
from portal.numbers import catalog, delivery, rentals
from portal.numbers.sms import Simulator, SimulatorConfig
from portal.store.fields import utcnow
from portal.store.db import money_transaction
from portal.store.models import Deposit, Service, User
from portal.policy import TERMS, terms_in_force
from portal.site_versions import published

DEMO_USERS = (
    ("customer", "customer@demo.1001sms.com", "demo-customer-1", "en", "US", False),
    ("EU customer", "eu@demo.1001sms.com", "demo-eu-customer-1", "de", "DE", False),
    ("staff", "staff@demo.1001sms.com", "demo-staff-1", "en", "GB", True),
)


def seed(config) -> list[tuple[str, str, str]]:
    """Create the demo users that do not exist yet; return every (role, email, password)."""
    terms = published(config["SITE_DIR"], terms_in_force(utcnow()).version, "en")
    for _role, email, password, language, country, staff in DEMO_USERS:
        if User.get_or_none(User.email == email) is None:
            user = users.register(email=email, password=password, language=language,
                                     country=country, accepted=True, terms=terms,
                                     params=config["ARGON2"])
            if staff:
                User.update(is_staff=True).where(User.id == user.id).execute()
    # The number catalog (services x countries with prices), on sale since before the history
    catalog.seed_demo(now=_history_start())
    _history(config, terms)
    delivery.refresh()
    if config.get("DEMO_WAIT_SECONDS"):
        # A rental keeps the window it was rented with; new rentals get the short one.
        Service.update(wait_seconds=config["DEMO_WAIT_SECONDS"]).execute()
    return [(role, email, password) for role, email, password, *_ in DEMO_USERS]


HISTORY_USER = "history@demo.1001sms.com"
# (country, service, rentals over 30 days, share that gets an SMS, typical seconds to it)
HISTORY = (("US", "wa", 40, 0.92, 25), ("US", "tg", 30, 0.97, 12), ("GB", "wa", 25, 0.8, 40),
           ("DE", "tg", 20, 0.9, 18), ("US", "go", 6, 0.5, 60))


def _history_start():
    """Thirty days ago, or when the first Terms took effect if that is later (nothing could
    be rented before)."""
    return max(utcnow() - timedelta(days=30), TERMS[0].effective_at + timedelta(minutes=1))


def _history(config, terms) -> None:
    """A month of rentals by a demo customer, through the real rental path on a simulator
    whose clock is set to each rental's moment (once: not again when the user exists)."""
    if User.get_or_none(User.email == HISTORY_USER) is not None:
        return
    user = users.register(email=HISTORY_USER, password=random.SystemRandom().randbytes(16).hex(),
                          language="en", country="US", accepted=True, terms=terms, params=config["ARGON2"])
    funds, at = 50_000, _history_start()
    with money_transaction():  # a settled demo crypto deposit pays for the history
        deposit = Deposit.create(reference=deposits.new_reference(), user=user, method="USDT",
                                 amount_cents=funds, state="succeeded", terms_version=terms.version,
                                 pay_currency="USDT", processor_status="finished", credited_cents=funds,
                                 created_at=at, updated_at=at, credited_at=at)
        posting = postings.deposit_credit(deposit, funds, "crypto_clearing")
        Deposit.update(txn=posting.txn).where(Deposit.id == deposit.id).execute()
    chance, now, start = random.Random(1001), utcnow(), _history_start()
    span = (now - start).total_seconds() - 3600
    for country, service, count, share, typical in HISTORY:
        for _ in range(count):
            at = start + timedelta(seconds=chance.uniform(60, span))
            delivers = chance.random() < share
            delay = max(3, round(chance.lognormvariate(0, 0.5) * typical))
            behaviour = f"default=deliver:{delay}s" if delivers else "default=never"
            clock = [at]
            provider = Simulator(SimulatorConfig.parse(behaviour), now=lambda: clock[0])
            try:
                rental = rentals.rent(user, country, service, provider=provider, now=at)
            except rentals.RentalRefused:  # a catalog seeded later than this moment
                continue
            clock[0] = at + timedelta(seconds=delay) if delivers else rental.ends_at
            rentals.sync(rental, provider=provider, now=clock[0])
