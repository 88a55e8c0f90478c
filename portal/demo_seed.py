"""Demo data for ``make run``: a customer, an EU customer, a staff user and the number
catalog (with short wait windows when ``DEMO_WAIT_SECONDS`` asks for them)."""

from __future__ import annotations

from portal.accounts import users
from portal.numbers import catalog
from portal.store.fields import utcnow
from portal.store.models import Service, User
from portal.policy import terms_in_force
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
    catalog.seed_demo()  # the number catalog: services x countries with prices
    if config.get("DEMO_WAIT_SECONDS"):
        # A rental keeps the window it was rented with; new rentals get the short one.
        Service.update(wait_seconds=config["DEMO_WAIT_SECONDS"]).execute()
    return [(role, email, password) for role, email, password, *_ in DEMO_USERS]
