"""Tables of cases for every rule of portal.policy, at every boundary."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from portal import policy
from portal.policy import (
    TERMS,
    Decision,
    any_spend_after,
    card_refund_decision,
    deposit_amount_decision,
    first_response_due,
    refund_abuse_decision,
    requires_withdrawal_waiver,
    sms_refund_decision,
    terms,
    terms_in_force,
    upcoming_terms,
)

UTC = timezone.utc
V1, V2 = TERMS[0], TERMS[1]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


DEPOSIT = at("2026-11-24T10:00:00")
DEADLINE = DEPOSIT + timedelta(days=7)


# --- versions ------------------------------------------------------------------------


def test_seed_numbers_are_the_first_version():
    assert V1.version == "2026-11-24"
    assert V1.card_refund_window == timedelta(days=7)
    assert V1.crypto_currencies == ("BTC", "ETH", "USDT")
    assert V1.failed_sms_credit_within == timedelta(hours=24)
    assert V1.support_response_hours == (24, 48)
    assert V1.support_email == "support@1001sms.com"
    assert V1.notice_period == timedelta(days=30)
    assert V1.business_days == (0, 1, 2, 3, 4)
    assert V1.business_timezone == "UTC"


def test_versions_are_ordered_and_unique():
    assert [t.effective_at for t in TERMS] == sorted(t.effective_at for t in TERMS)
    assert len({t.version for t in TERMS}) == len(TERMS)
    for t in TERMS:
        assert t.version == t.effective_at.date().isoformat()
        assert t.published_at <= t.effective_at


def test_material_versions_give_the_notice_period():
    for t in TERMS[1:]:
        if t.material:
            assert t.effective_at - t.published_at >= t.notice_period


@pytest.mark.parametrize(
    "instant, version",
    [
        ("2026-11-24T00:00:00", "2026-11-24"),
        ("2026-12-31T23:59:59", "2026-11-24"),
        ("2027-01-01T00:00:00", "2027-01-01"),
        ("2027-01-01T23:59:59", "2027-01-01"),
        ("2027-01-02T00:00:00", "2027-01-02"),  # the third version: where the EU withdrawal function is
        ("2030-06-01T12:00:00", "2027-01-02"),
    ],
)
def test_terms_in_force(instant, version):
    assert terms_in_force(at(instant)).version == version


def test_no_terms_before_the_first_version():
    with pytest.raises(LookupError):
        terms_in_force(at("2026-11-23T23:59:59"))


@pytest.mark.parametrize(
    "instant, upcoming",
    [
        ("2026-11-24T12:00:00", None),  # the second version is not published yet
        ("2026-11-25T00:00:00", "2027-01-01"),
        ("2026-12-31T23:59:59", "2027-01-01"),
        ("2026-12-02T00:00:00", "2027-01-01"),  # two are upcoming: the earlier one first
        ("2027-01-01T00:00:00", "2027-01-02"),  # the second in force, the third upcoming
        ("2027-01-02T00:00:00", None),  # in force, no longer upcoming
    ],
)
def test_upcoming_terms(instant, upcoming):
    found = upcoming_terms(at(instant))
    assert (found.version if found else None) == upcoming


def test_terms_by_version():
    assert terms("2027-01-01") is V2
    with pytest.raises(LookupError):
        terms("1999-01-01")


def test_every_citable_value_is_derived_from_a_field():
    cited = V1.citable()
    assert cited["card_refund_days"] == 7
    assert cited["failed_sms_credit_hours"] == 24
    assert cited["support_response_max_hours"] == 48
    assert cited["notice_period_days"] == 30


def test_terms_reject_inconsistent_values():
    with pytest.raises(ValueError):
        policy.Terms(**{**V1.__dict__, "deposit_min_cents": 0})
    with pytest.raises(ValueError):
        policy.Terms(**{**V1.__dict__, "support_response_hours": (48, 24)})
    with pytest.raises(ValueError):
        policy.Terms(**{**V1.__dict__, "published_at": datetime(2026, 11, 24)})


# --- card refunds --------------------------------------------------------------------

CARD_CASES = [
    # method, now, spent_since, allowed, reason
    ("card", DEPOSIT, False, True, "card_refund.allowed"),
    ("card", DEPOSIT + timedelta(days=3), False, True, "card_refund.allowed"),
    ("card", DEADLINE - timedelta(seconds=1), False, True, "card_refund.allowed"),
    ("card", DEADLINE, False, True, "card_refund.allowed"),  # the deadline instant counts
    ("card", DEADLINE + timedelta(seconds=1), False, False, "card_refund.window_passed"),
    ("card", DEADLINE + timedelta(microseconds=1), False, False, "card_refund.window_passed"),
    ("card", DEPOSIT + timedelta(days=30), False, False, "card_refund.window_passed"),
    ("card", DEPOSIT + timedelta(hours=1), True, False, "card_refund.spent_since"),
    ("card", DEADLINE, True, False, "card_refund.spent_since"),
    ("card", DEADLINE + timedelta(seconds=1), True, False, "card_refund.window_passed"),
    ("BTC", DEPOSIT, False, False, "card_refund.crypto_final"),
    ("ETH", DEPOSIT + timedelta(minutes=1), False, False, "card_refund.crypto_final"),
    ("USDT", DEPOSIT, True, False, "card_refund.crypto_final"),
]


@pytest.mark.parametrize("method, now, spent, allowed, reason", CARD_CASES)
def test_card_refund_decision(method, now, spent, allowed, reason):
    decision = card_refund_decision(
        method=method, deposited_at=DEPOSIT, spent_since=spent, now=now
    )
    assert (decision.allowed, decision.reason) == (allowed, reason)
    if method == "card":
        assert decision.deadline == DEADLINE
    else:
        assert decision.deadline is None


@pytest.mark.parametrize("now, spent, reason", [
    (DEPOSIT, False, "card_refund.disputed"),
    (DEADLINE, False, "card_refund.disputed"),
    (DEPOSIT, True, "card_refund.spent_since"),
    (DEADLINE + timedelta(seconds=1), False, "card_refund.window_passed"),
])
def test_a_disputed_card_deposit_is_not_refundable(now, spent, reason):
    decision = card_refund_decision(method="card", deposited_at=DEPOSIT, spent_since=spent, now=now,
                                    disputed=True)
    assert (decision.allowed, decision.reason, decision.deadline) == (False, reason, DEADLINE)


def test_card_refund_deadline_in_other_timezones_is_the_same_instant():
    berlin = ZoneInfo("Europe/Berlin")
    decision = card_refund_decision(
        method="card",
        deposited_at=DEPOSIT.astimezone(berlin),
        spent_since=False,
        now=DEADLINE.astimezone(berlin),
    )
    assert decision.allowed and decision.deadline == DEADLINE


def test_the_terms_of_the_deposit_govern_its_refund():
    # A made-up later version with a shorter window must not shorten an earlier deposit's.
    shorter = policy.Terms(**{**V2.__dict__, "card_refund_window": timedelta(days=2)})
    now = DEPOSIT + timedelta(days=5)
    kept = card_refund_decision(method="card", deposited_at=DEPOSIT, spent_since=False, now=now)
    assert kept.allowed
    judged_by_shorter = card_refund_decision(
        method="card", deposited_at=DEPOSIT, spent_since=False, now=now, terms=shorter
    )
    assert judged_by_shorter.reason == "card_refund.window_passed"


def test_deposit_at_the_version_change_uses_the_new_version():
    deposit = V2.effective_at
    decision = card_refund_decision(method="card", deposited_at=deposit, spent_since=False, now=deposit)
    assert decision.deadline == deposit + V2.card_refund_window


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError):
        card_refund_decision(method="paypal", deposited_at=DEPOSIT, spent_since=False, now=DEPOSIT)


@pytest.mark.parametrize(
    "spends, expected",
    [
        ([], False),
        ([DEPOSIT - timedelta(seconds=1)], False),  # spent before the deposit: earlier money
        ([DEPOSIT - timedelta(days=3), DEPOSIT - timedelta(hours=1)], False),
        ([DEPOSIT], True),  # at the deposit instant
        ([DEPOSIT + timedelta(seconds=1)], True),
        ([DEPOSIT - timedelta(days=1), DEPOSIT + timedelta(days=6)], True),
    ],
)
def test_any_spend_after(spends, expected):
    assert any_spend_after(DEPOSIT, spends) is expected


# --- failed-SMS refunds -------------------------------------------------------------

RENTED = at("2026-11-24T12:00:00")
WINDOW = timedelta(minutes=20)
OPENS = RENTED + WINDOW

SMS_CASES = [
    # now, sms_received, already_refunded, allowed, reason
    (RENTED, False, False, False, "sms_refund.window_open"),
    (OPENS - timedelta(seconds=1), False, False, False, "sms_refund.window_open"),
    (OPENS, False, False, True, "sms_refund.allowed"),
    (OPENS + timedelta(seconds=1), False, False, True, "sms_refund.allowed"),
    (OPENS + timedelta(days=10), False, False, True, "sms_refund.allowed"),
    (OPENS, True, False, False, "sms_refund.sms_received"),
    (RENTED, True, False, False, "sms_refund.sms_received"),
    (OPENS, False, True, False, "sms_refund.already_refunded"),
    (OPENS, True, True, False, "sms_refund.already_refunded"),
]


@pytest.mark.parametrize("now, received, refunded, allowed, reason", SMS_CASES)
def test_sms_refund_decision(now, received, refunded, allowed, reason):
    decision = sms_refund_decision(
        rented_at=RENTED, window=WINDOW, sms_received=received, already_refunded=refunded, now=now
    )
    assert decision == Decision(allowed, reason, OPENS)


def test_sms_window_must_be_positive():
    with pytest.raises(ValueError):
        sms_refund_decision(
            rented_at=RENTED, window=timedelta(0), sms_received=False, already_refunded=False, now=OPENS
        )


# --- support response times ----------------------------------------------------------

DUE_CASES = [
    # opened (UTC), due (UTC)                     -- 2026-11-27 is a Friday
    ("2026-11-27T17:00:00", "2026-12-01T17:00:00"),  # Friday 17:00 -> Tuesday 17:00
    ("2026-11-28T12:00:00", "2026-12-02T00:00:00"),  # Saturday noon -> Wednesday 00:00
    ("2026-11-29T23:59:59", "2026-12-02T00:00:00"),  # Sunday night -> Wednesday 00:00
    ("2026-11-30T00:00:00", "2026-12-02T00:00:00"),  # Monday midnight -> Wednesday 00:00
    ("2026-11-30T09:30:00", "2026-12-02T09:30:00"),  # Monday morning -> Wednesday
    ("2026-12-02T10:00:00", "2026-12-04T10:00:00"),  # Wednesday -> Friday
    ("2026-12-03T10:00:00", "2026-12-07T10:00:00"),  # Thursday -> Monday
    ("2026-11-27T00:00:00", "2026-12-01T00:00:00"),  # Friday 00:00 -> Tuesday 00:00
    ("2026-11-27T23:59:59", "2026-12-01T23:59:59"),  # Friday's last second counts 1 s
]


@pytest.mark.parametrize("opened, due", DUE_CASES)
def test_first_response_due(opened, due):
    assert first_response_due(at(opened)) == at(due)


def test_first_response_due_in_a_business_timezone_with_dst():
    berlin = policy.Terms(**{**V1.__dict__, "business_timezone": "Europe/Berlin"})
    # Friday 2027-03-26 17:00 Berlin (CET, UTC+1); DST starts Sunday 28 March.
    opened = datetime(2027, 3, 26, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    due = first_response_due(opened, berlin)
    assert due == datetime(2027, 3, 30, 17, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert due.tzinfo == UTC


# --- deposits, abuse, EU --------------------------------------------------------------


@pytest.mark.parametrize(
    "cents, reason",
    [
        (499, "deposit.below_minimum"),
        (500, "deposit.allowed"),
        (100_000, "deposit.allowed"),
        (100_001, "deposit.above_maximum"),
        (0, "deposit.below_minimum"),
        (-500, "deposit.below_minimum"),
    ],
)
def test_deposit_amount_decision(cents, reason):
    assert deposit_amount_decision(cents, V1).reason == reason


@pytest.mark.parametrize("bad", [5.0, "500", True])
def test_deposit_amount_must_be_integer_cents(bad):
    with pytest.raises(TypeError):
        deposit_amount_decision(bad, V1)


@pytest.mark.parametrize(
    "refunds, rentals, reason",
    [
        (0, 0, "abuse.ok"),
        (10, 100, "abuse.ok"),
        (11, 100, "abuse.too_many_refunds"),
        (3, 5, "abuse.ok"),  # too few rentals to judge a ratio
        (3, 6, "abuse.ok"),  # exactly 50 %
        (4, 6, "abuse.refund_ratio"),
        (6, 6, "abuse.refund_ratio"),
    ],
)
def test_refund_abuse_decision(refunds, rentals, reason):
    assert refund_abuse_decision(refunds=refunds, rentals=rentals, terms=V1).reason == reason


@pytest.mark.parametrize(
    "country, required",
    [("DE", True), ("de", True), ("FR", True), ("US", False), ("GB", False), (None, False), ("", False)],
)
def test_requires_withdrawal_waiver(country, required):
    assert requires_withdrawal_waiver(country) is required


# --- naive datetimes ---------------------------------------------------------------

NAIVE = datetime(2026, 11, 24, 12, 0)

NAIVE_CALLS = [
    lambda: terms_in_force(NAIVE),
    lambda: upcoming_terms(NAIVE),
    lambda: first_response_due(NAIVE),
    lambda: card_refund_decision(method="card", deposited_at=NAIVE, spent_since=False, now=DEPOSIT),
    lambda: card_refund_decision(method="card", deposited_at=DEPOSIT, spent_since=False, now=NAIVE),
    lambda: sms_refund_decision(rented_at=NAIVE, window=WINDOW, sms_received=False, already_refunded=False, now=OPENS),
    lambda: sms_refund_decision(rented_at=RENTED, window=WINDOW, sms_received=False, already_refunded=False, now=NAIVE),
    lambda: any_spend_after(DEPOSIT, [NAIVE]),
]


@pytest.mark.parametrize("call", NAIVE_CALLS)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_every_reason_has_a_clause_anchor():
    for decision in [
        card_refund_decision(method=m, deposited_at=DEPOSIT, spent_since=s, now=n)
        for m, n, s, _, _ in CARD_CASES
    ]:
        assert decision.anchor
