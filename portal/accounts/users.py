"""Customer accounts: registration, argon2id passwords, the sign-in rate limits shared by all
workers (per account and per client address: ``portal.accounts.attempts``), language, country and
password changes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError

from portal.accounts import attempts, sessions, time_zones
from portal.money import ledger
from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import User
from portal.site_versions import Published
from portal.terms import acceptances

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MIN_PASSWORD, MAX_PASSWORD = 10, 256
LANGUAGES = ("en", "de")
# ISO 3166-1 alpha-2 codes offered on forms; EU members are decided by portal.policy.
COUNTRIES = tuple(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "GB CH NO IS LI US CA MX BR AR AU NZ JP KR CN IN SG ID PH TH VN TR UA RU IL AE ZA NG EG".split()
)


class FormError(ValueError):
    """Invalid input: ``errors`` maps a field name to a message code."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class Limited(FormError):
    """Too many attempts from the client's address; the message is the form's own."""

    def __init__(self, code: str):
        super().__init__({"form": code})


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    limited: bool = False


def hasher(params: dict) -> PasswordHasher:
    return PasswordHasher(type=Type.ID, **params)


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def _check_password(password: str, field: str = "password") -> dict[str, str]:
    if len(password) < MIN_PASSWORD:
        return {field: "password.too_short"}
    if len(password) > MAX_PASSWORD:
        return {field: "password.too_long"}
    return {}


def _check_profile(language: str, country: str, time_zone: str = time_zones.DEFAULT) -> dict[str, str]:
    errors = {}
    if language not in LANGUAGES:
        errors["language"] = "language.invalid"
    if country not in COUNTRIES:
        errors["country"] = "country.invalid"
    if not time_zones.is_zone(time_zone):
        errors["time_zone"] = "time_zone.invalid"
    return errors


def register(*, email: str, password: str, language: str, country: str, accepted: bool,
             terms: Published, params: dict, limit: attempts.Limit | None = None,
             time_zone: str | None = None, ip: str = "") -> User:
    """Create a customer with a wallet, recording the accepted Terms version and its hash
    (and that acceptance, from the client address ``ip``, in the acceptance history); times
    are shown in the browser's ``time_zone`` (UTC when it told none we know).

    Whether an email address has an account shows in the answer (created, or
    ``email.taken``), so a client asking gets only so many answers: ``limit``, counted per
    client address (``None`` for the demo seed and benchmarks: no client asks), then
    ``Limited``. A form with mistakes tells nothing and is not counted.
    """
    email = normalize_email(email)
    errors = {} if EMAIL.match(email) and len(email) <= 254 else {"email": "email.invalid"}
    errors |= _check_password(password or "")
    errors |= _check_profile(language, (country or "").upper())
    if not accepted:
        errors["accept_terms"] = "terms.not_accepted"
    if errors:
        raise FormError(errors)
    if limit is not None and attempts.reserve([limit]) is None:
        raise Limited("registration.limited")
    try:
        with database.atomic():
            user = User.create(
                email=email, password_hash=hasher(params).hash(password), language=language,
                country=country.upper(), time_zone=time_zones.from_browser(time_zone),
                terms_version=terms.version, terms_sha256=terms.sha256,
                terms_accepted_at=utcnow(),
            )
            ledger.open_wallet(user)
            acceptances.record_registration(user, ip)
    except IntegrityError as taken:
        raise FormError({"email": "email.taken"}) from taken
    return user


def authenticate(email: str, password: str, *, address: str, params: dict, max_failures: int,
                 max_failures_per_address: int, window: int) -> LoginResult:
    """The user for these credentials, or ``None``; ``limited`` once ``max_failures``
    failures for the account, or ``max_failures_per_address`` for any accounts from the
    client ``address``, happened within ``window`` seconds (then no password is checked).

    The attempt is reserved before the password is checked (counted and recorded in one
    step: racing requests check no more passwords than the limit) and handed back when the
    password was right; a wrong one leaves it as the failure.
    """
    key = normalize_email(email)[:254]
    reservation = attempts.reserve([
        attempts.Limit(attempts.ACCOUNT, key, max_failures, window),
        attempts.Limit(attempts.ADDRESS, address, max_failures_per_address, window),
    ])
    if reservation is None:
        return LoginResult(None, limited=True)
    user = User.get_or_none(User.email == key)
    ph = hasher(params)
    try:
        if user is None:
            ph.hash(password or "-")  # same work whether or not the account exists
            raise VerificationError("no such user")
        ph.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return LoginResult(None)
    attempts.release(reservation)
    if ph.check_needs_rehash(user.password_hash):
        User.update(password_hash=ph.hash(password)).where(User.id == user.id).execute()
    return LoginResult(user)


def update_preferences(user: User, *, language: str, country: str, time_zone: str) -> None:
    country = (country or "").upper()
    errors = _check_profile(language, country, time_zone)
    if errors:
        raise FormError(errors)
    User.update(language=language, country=country, time_zone=time_zone).where(User.id == user.id).execute()
    user.language, user.country, user.time_zone = language, country, time_zone


def change_password(user: User, *, current: str, new: str, confirm: str, params: dict,
                    session_id: str | None) -> User:
    """Change the password; every session of the user but ``session_id`` ends."""
    ph = hasher(params)
    try:
        ph.verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError) as wrong:
        raise FormError({"current_password": "password.wrong"}) from wrong
    errors = _check_password(new or "", "new_password")
    if not errors and new != confirm:
        errors = {"confirm_password": "password.mismatch"}
    if errors:
        raise FormError(errors)
    with database.atomic():
        User.update(password_hash=ph.hash(new)).where(User.id == user.id).execute()
        sessions.end_all_but(user.id, session_id)
    return User.get_by_id(user.id)
