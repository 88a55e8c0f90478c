"""The one check every adapter applies to an amount it is asked to charge or refund."""

from __future__ import annotations


def positive_cents(amount_cents: int) -> int:
    """``amount_cents`` if it is a positive ``int`` (not a float, bool or string)."""
    if type(amount_cents) is not int or amount_cents <= 0:
        raise ValueError(f"amount_cents must be a positive int, got {amount_cents!r}")
    return amount_cents
