"""The SMS-Activate handler protocol's words and tables, apart from what answers them.

Requests: GET or POST, parameters in the query string or the form; names are trimmed (one
client sends ``"country "``), unknown ones ignored. Answers: a plain-text word for text
actions, JSON for the JSON ones, and errors as the bare word with HTTP 200.

The protocol's country ids are those of ``portal.numbers.sms.countries`` (0 Russia,
16 United Kingdom, 187 USA, ...); its service codes are the catalog's own (wa, tg, go...).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Mapping

from portal.numbers.sms.countries import COUNTRIES

ERRORS = frozenset({
    "NO_KEY", "BAD_KEY", "BAD_ACTION", "BAD_SERVICE", "BAD_COUNTRY", "BAD_STATUS", "NO_BALANCE",
    "NO_NUMBERS", "NO_ACTIVATION", "WRONG_MAX_PRICE", "EARLY_CANCEL_DENIED", "ACCOUNT_INACTIVE",
    "BANNED", "TOO_MANY_REQUESTS",
})
USD = 840  # ISO 4217 numeric: the currency of every amount

COUNTRY_OF_ID: dict[int, str] = {country.sms_activate_id: iso for iso, country in COUNTRIES.items()}


class ProtocolError(Exception):
    """An answer in the protocol's error words (``WRONG_MAX_PRICE:<min>`` included)."""

    def __init__(self, word: str, detail: str = ""):
        assert word in ERRORS, word
        super().__init__(word)
        self.answer = f"{word}:{detail}" if detail else word


def parameters(*sources: Mapping[str, str]) -> dict[str, str]:
    """One mapping of every parameter, names and values trimmed; the first source wins."""
    merged: dict[str, str] = {}
    for source in sources:
        for name, value in source.items():
            merged.setdefault(str(name).strip(), str(value).strip())
    return merged


def country_id(iso: str) -> int:
    return COUNTRIES[iso].sms_activate_id


def country_iso(value: str | None) -> str:
    """The ISO code of a protocol country id; ``BAD_COUNTRY`` otherwise."""
    try:
        return COUNTRY_OF_ID[int(value or "")]
    except (ValueError, KeyError):
        raise ProtocolError("BAD_COUNTRY") from None


def dollars(cents: int) -> str:
    """``1234`` -> ``"12.34"``: the protocol's amounts, exactly."""
    return format(Decimal(cents).scaleb(-2), ".2f")


def max_price_cents(value: str | None) -> int | None:
    """``maxPrice`` in dollars as cents (None when absent); ``BAD_ACTION``-free: nonsense is ignored
    as the protocol's servers do."""
    if not value:
        return None
    try:
        amount = Decimal(value)
    except ArithmeticError:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return int((amount * 100).to_integral_value())


def stamp(moment: datetime | None) -> str | None:
    """The protocol's ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None


def digits(phone: str) -> str:
    return phone.lstrip("+")
