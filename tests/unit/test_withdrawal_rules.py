"""The withdrawal function's rules (portal.consent.withdrawal_rules) as tables: which item
gets which outcome, with the card-refund rule's real decisions at the window's edges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.consent import withdrawal_rules as rules
from portal.policy import CLAUSE_ANCHORS, TERMS, card_refund_decision, terms

DEPOSITED = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
WINDOW = terms("2026-11-24").card_refund_window
TICK = timedelta(microseconds=1)


def refund(now, method="card", spent=False, disputed=False):
    return card_refund_decision(method=method, deposited_at=DEPOSITED, spent_since=spent, now=now,
                                terms=TERMS[0], disputed=disputed)


@pytest.mark.parametrize("case, credited, decision, consented, requested, outcome", [
    ("unspent, at the deposit", True, refund(DEPOSITED), True, False, rules.CARD_REFUND),
    ("unspent, last instant of the window", True, refund(DEPOSITED + WINDOW), True, False, rules.CARD_REFUND),
    ("unspent, no consent recorded", True, refund(DEPOSITED + WINDOW), False, False, rules.CARD_REFUND),
    ("window passed by a microsecond, consented", True, refund(DEPOSITED + WINDOW + TICK), True, False, rules.WAIVED),
    ("window passed, no consent", True, refund(DEPOSITED + WINDOW + TICK), False, False, rules.STAFF_REVIEW),
    ("spent since, consented", True, refund(DEPOSITED + TICK, spent=True), True, False, rules.WAIVED),
    ("spent since, no consent", True, refund(DEPOSITED + TICK, spent=True), False, False, rules.STAFF_REVIEW),
    ("crypto, consented", True, refund(DEPOSITED, method="BTC"), True, False, rules.WAIVED),
    ("crypto, no consent", True, refund(DEPOSITED, method="BTC"), False, False, rules.STAFF_REVIEW),
    ("disputed, consented", True, refund(DEPOSITED, disputed=True), True, False, rules.WAIVED),
    ("refund already requested", True, refund(DEPOSITED), True, True, rules.REFUND_REQUESTED),
    ("refund requested, window since passed", True, refund(DEPOSITED + WINDOW + TICK), True, True,
     rules.REFUND_REQUESTED),
    ("not credited (refunded, disputed away)", False, None, True, False, rules.CLOSED),
    ("not credited, even if refundable", False, refund(DEPOSITED), True, False, rules.CLOSED),
])
def test_a_deposit_withdrawal(case, credited, decision, consented, requested, outcome):
    got = rules.deposit_outcome(credited=credited, refund=decision, consented=consented,
                                refund_requested=requested)
    assert got.reason == outcome, case
    assert got.allowed == (outcome == rules.CARD_REFUND)
    if outcome == rules.CARD_REFUND:
        assert got.deadline == DEPOSITED + WINDOW  # the refund window's end


@pytest.mark.parametrize("refunded, consented, outcome", [
    (False, True, rules.WAIVED),
    (False, False, rules.STAFF_REVIEW),
    (True, True, rules.CLOSED),
    (True, False, rules.CLOSED),
])
def test_a_rental_withdrawal(refunded, consented, outcome):
    got = rules.rental_outcome(refunded=refunded, consented=consented)
    assert (got.allowed, got.reason) == (False, outcome)


@pytest.mark.parametrize("outcome", rules.OUTCOMES)
def test_every_outcome_has_a_clause(outcome):
    assert CLAUSE_ANCHORS[outcome] in ("card-deposit-refunds", "eu-withdrawal")
