"""Money as integer minor units: parsing what people type, formatting per locale.

USD amounts are cents. Crypto amounts are integers of the coin's smallest unit (satoshi,
wei, USDT micro-units). Floats never appear; ``Decimal`` only for Babel's display.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, format_decimal

from portal.payments.crypto import CURRENCIES

COIN_DECIMALS = {code: coin.decimals for code, coin in CURRENCIES.items()}
_AMOUNT = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?")  # ASCII digits: \d takes any script's


class AmountError(ValueError):
    """Text that is not an amount; ``code`` selects the message shown to the user."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_cents(text: str | None) -> int:
    """``"12"``, ``"12.5"``, ``"12,50"`` -> 1200, 1250, 1250. Raises ``AmountError``."""
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if cleaned.startswith("$"):
        cleaned = cleaned[1:]
    if not cleaned:
        raise AmountError("amount.missing")
    match = _AMOUNT.fullmatch(cleaned)
    if not match:
        raise AmountError("amount.invalid")
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(fraction)


def format_money(cents: int, currency: str, locale: str) -> str:
    """``1234, "USD", "de"`` -> ``"12,34 $"``; exact for any integer."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise TypeError("amounts are integer minor units")
    return _formatted(cents, currency, locale)


@lru_cache(maxsize=8192)
def _formatted(cents: int, currency: str, locale: str) -> str:
    # A pure function of its arguments, and Babel's formatting is costly: remember it.
    return format_currency(Decimal(cents).scaleb(-2), currency, locale=locale)


def format_coin(minor: int, coin: str, locale: str) -> str:
    """An exact coin amount from its smallest unit: ``150000000, "BTC"`` -> ``"1.5 BTC"``."""
    value = Decimal(int(minor)).scaleb(-COIN_DECIMALS[coin])
    digits = format_decimal(value, format="#,##0." + "#" * COIN_DECIMALS[coin], locale=locale)
    return f"{digits} {coin}"
