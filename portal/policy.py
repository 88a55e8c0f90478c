"""The Payment & Refund Policy as data and pure rules.

This module is the single source of every number and rule of the policy. The static site
cites these values by name in its Markdown (``{{ terms.card_refund_days }}``) and the portal
decides every refund with the functions below, so the published text and the behaviour
cannot drift apart.

Each published version of the policy is one frozen ``Terms``. The terms that governed an
event govern its refund: a deposit made under one version is judged by that version's
window even after a later version takes effect.

Every rule is a pure function of facts and ``now`` that returns a ``Decision`` whose
``reason`` is a stable code. The code selects the translated message the portal shows and
(through ``CLAUSE_ANCHORS``) the heading of the policy page that explains it.

All datetimes must be timezone-aware; a naive one raises ``ValueError``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

POLICY_SLUG = "payment-refund"
CARD = "card"


# --- helpers -----------------------------------------------------------------------------


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def _whole(span: timedelta, unit: timedelta) -> int:
    count, rest = divmod(span, unit)
    if rest:
        raise ValueError(f"{span} is not a whole number of {unit}")
    return count


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value.isoformat()}")


@dataclass(frozen=True)
class Terms:
    """One published version of the Payment & Refund Policy."""

    version: str  # ISO date of the day it takes effect; also its permalink segment
    published_at: datetime
    effective_at: datetime
    material: bool  # a material change needs notice_period between publication and effect
    card_refund_window: timedelta
    crypto_currencies: tuple[str, ...]
    failed_sms_credit_within: timedelta
    support_response_hours: tuple[int, int]
    support_email: str
    notice_period: timedelta
    business_days: tuple[int, ...]  # date.weekday() numbers: Monday is 0
    business_timezone: str
    default_sms_wait: timedelta
    currency: str
    deposit_min_cents: int
    deposit_max_cents: int
    refund_abuse_max_refunds: int  # more failed-SMS refunds than this within the period flags
    refund_abuse_max_ratio_percent: int  # refunds per rental above this share flags ...
    refund_abuse_min_rentals: int  # ... once the account has at least this many rentals
    refund_abuse_period: timedelta

    def __post_init__(self) -> None:
        _require_aware("published_at", self.published_at)
        _require_aware("effective_at", self.effective_at)
        date.fromisoformat(self.version)
        if self.deposit_min_cents <= 0 or self.deposit_max_cents < self.deposit_min_cents:
            raise ValueError(f"Terms {self.version}: deposit limits are inconsistent")
        low, high = self.support_response_hours
        if not 0 < low <= high:
            raise ValueError(f"Terms {self.version}: support_response_hours must be rising")

    def citable(self) -> dict[str, object]:
        """Every value the policy text may cite, by the name the Markdown uses.

        Raw values (ints, strings, tuples, datetimes); the site formats them per language.
        """
        return {
            "version": self.version,
            "published_date": self.published_at,
            "effective_date": self.effective_at,
            "card_refund_days": _whole(self.card_refund_window, timedelta(days=1)),
            "crypto_currencies": self.crypto_currencies,
            "failed_sms_credit_hours": _whole(self.failed_sms_credit_within, timedelta(hours=1)),
            "support_response_min_hours": self.support_response_hours[0],
            "support_response_max_hours": self.support_response_hours[1],
            "support_email": self.support_email,
            "notice_period_days": _whole(self.notice_period, timedelta(days=1)),
            "business_days": self.business_days,
            "business_timezone": self.business_timezone,
            "sms_wait_minutes": _whole(self.default_sms_wait, timedelta(minutes=1)),
            "currency": self.currency,
            "deposit_min": self.deposit_min_cents,
            "deposit_max": self.deposit_max_cents,
            "refund_abuse_max_refunds": self.refund_abuse_max_refunds,
            "refund_abuse_max_ratio_percent": self.refund_abuse_max_ratio_percent,
            "refund_abuse_min_rentals": self.refund_abuse_min_rentals,
            "refund_abuse_period_days": _whole(self.refund_abuse_period, timedelta(days=1)),
        }


TERMS_FILE = Path(__file__).with_name("terms.toml")
_UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1)}


def load_terms(path: Path = TERMS_FILE) -> tuple[Terms, ...]:
    """Every version in the Terms file (one ``[[terms]]`` table each, see its comments),
    checked: every field given once with a value of its type, versions ordered by date.
    A mistake raises ValueError naming the version and the field."""
    import tomllib

    with path.open("rb") as file:
        tables = tomllib.load(file).get("terms", [])
    loaded = tuple(_terms_from(table, path.name) for table in tables)
    if not loaded or [t.effective_at for t in loaded] != sorted(t.effective_at for t in loaded) \
            or len({t.version for t in loaded}) != len(loaded):
        raise ValueError(f"{path.name}: the versions must be there, each once, ordered by the day they take effect")
    return loaded


def _terms_from(table: dict, file_name: str) -> Terms:
    where = f"{file_name}, version {table.get('version', '?')}"
    values: dict[str, object] = {"version": table.get("version")}
    for key, field in (("published", "published_at"), ("effective", "effective_at")):
        day = table.get(key)
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"{where}: {key} must be a date (YYYY-MM-DD)")
        values[field] = datetime.combine(day, time(0), tzinfo=timezone.utc)
    fields = {f.name: f.type for f in dataclasses.fields(Terms)}
    rest = {k: v for k, v in table.items() if k not in ("version", "published", "effective")}
    if set(rest) != set(fields) - set(values):
        raise ValueError(f"{where}: missing {sorted(set(fields) - set(values) - set(rest))}, "
                         f"unknown {sorted(set(rest) - set(fields))}")
    for name, value in rest.items():
        values[name] = _value(where, name, fields[name], value)
    return Terms(**values)


def _value(where: str, name: str, kind: str, value: object) -> object:
    """``value`` as the Terms field ``name`` of type ``kind`` (as written in Terms) holds it."""
    if kind == "timedelta":
        count, _, unit = str(value).partition(" ")
        if not count.isascii() or not count.isdigit() or unit.rstrip("s") not in _UNITS:
            raise ValueError(f'{where}: {name} must be a duration such as "7 days", "24 hours" or "20 minutes"')
        return int(count) * _UNITS[unit.rstrip("s")]
    expected = {"bool": bool, "int": int, "str": str}.get(kind)
    if kind.startswith("tuple["):
        item = int if "int" in kind else str
        if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{where}: {name} must be a list of {item.__name__}")
        return tuple(value)
    if expected is None or not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(f"{where}: {name} must be a {kind}")
    return value


TERMS: tuple[Terms, ...] = load_terms()

# The policy heading that explains each decision reason. Heading ids are stable across
# versions and languages; the site build fails if one of these is missing from a version.
CLAUSE_ANCHORS: dict[str, str] = {
    "card_refund.allowed": "card-deposit-refunds",
    "card_refund.window_passed": "card-deposit-refunds",
    "card_refund.spent_since": "card-deposit-refunds",
    "card_refund.crypto_final": "crypto-deposits",
    "card_refund.disputed": "card-deposit-refunds",
    "card_refund.outside_criteria": "non-refundable",  # staff may deny requests outside the criteria
    "sms_refund.allowed": "failed-sms-refunds",
    "sms_refund.window_open": "failed-sms-refunds",
    "sms_refund.sms_received": "non-refundable",
    "sms_refund.already_refunded": "failed-sms-refunds",
    "deposit.allowed": "deposit-limits",
    "deposit.below_minimum": "deposit-limits",
    "deposit.above_maximum": "deposit-limits",
    "abuse.ok": "refund-abuse",
    "abuse.too_many_refunds": "refund-abuse",
    "abuse.refund_ratio": "refund-abuse",
    "eu.withdrawal_waiver": "eu-withdrawal",
    # What the withdrawal function (Directive 2011/83/EU art. 11a) did with an item
    "withdrawal.card_refund": "card-deposit-refunds",
    "withdrawal.refund_requested": "card-deposit-refunds",
    "withdrawal.waived": "eu-withdrawal",
    "withdrawal.staff_review": "eu-withdrawal",
    "withdrawal.closed": "eu-withdrawal",
}

# Member states of the European Union (ISO 3166-1 alpha-2). Consumers there must waive the
# right of withdrawal before a deposit or a rental is performed at once.
EU_COUNTRIES: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)


@dataclass(frozen=True)
class Decision:
    """The answer of a rule: whether it is allowed, why, and the instant that matters.

    ``deadline`` is the last instant something is allowed (card refunds) or the instant
    from which it becomes allowed (failed-SMS refunds); ``None`` where no time applies.
    """

    allowed: bool
    reason: str
    deadline: datetime | None = None

    @property
    def anchor(self) -> str:
        """The id of the policy heading that explains this decision."""
        return CLAUSE_ANCHORS[self.reason]


# --- looking up versions -------------------------------------------------------------


def terms_in_force(at: datetime) -> Terms:
    """The version in force at ``at``: the latest one whose effective instant has come."""
    _require_aware("at", at)
    in_force = [t for t in TERMS if t.effective_at <= at]
    if not in_force:
        raise LookupError(f"no Terms in force at {at.isoformat()}")
    return in_force[-1]


def terms(version: str) -> Terms:
    """The Terms of one version, by its id (an ISO date)."""
    for candidate in TERMS:
        if candidate.version == version:
            return candidate
    raise LookupError(f"no Terms version {version!r}")


def upcoming_terms(at: datetime) -> Terms | None:
    """The next published version not yet in force at ``at``, if any."""
    _require_aware("at", at)
    return next((t for t in TERMS if t.published_at <= at < t.effective_at), None)


# --- rules -----------------------------------------------------------------------------


def card_refund_decision(
    *,
    method: str,
    deposited_at: datetime,
    spent_since: bool,
    now: datetime,
    terms: Terms | None = None,
    disputed: bool = False,
) -> Decision:
    """May this deposit be refunded to the card it came from?

    Card deposits: while ``now`` is at or before ``deposited_at + card_refund_window`` and
    nothing was spent since the deposit, unless the payment is disputed with the card's
    issuer (the dispute returns it, or decides it may stay). Crypto deposits: never (final).
    """
    _require_aware("deposited_at", deposited_at)
    _require_aware("now", now)
    governing = terms or terms_in_force(deposited_at)
    if method in governing.crypto_currencies:
        return Decision(False, "card_refund.crypto_final")
    if method != CARD:
        raise ValueError(f"unknown payment method {method!r}")
    deadline = deposited_at + governing.card_refund_window
    if now > deadline:
        return Decision(False, "card_refund.window_passed", deadline)
    if spent_since:
        return Decision(False, "card_refund.spent_since", deadline)
    if disputed:
        return Decision(False, "card_refund.disputed", deadline)
    return Decision(True, "card_refund.allowed", deadline)


def any_spend_after(deposited_at: datetime, spend_times: Iterable[datetime]) -> bool:
    """True when any spend happened at or after the deposit instant.

    Spending made before the deposit used earlier money and does not make it
    non-refundable; anything from the deposit instant on does.
    """
    _require_aware("deposited_at", deposited_at)
    found = False
    for spent_at in spend_times:
        _require_aware("spend time", spent_at)
        found = found or spent_at >= deposited_at
    return found


def sms_refund_decision(
    *,
    rented_at: datetime,
    window: timedelta,
    sms_received: bool,
    already_refunded: bool,
    now: datetime,
) -> Decision:
    """May this rental's price be credited back to the balance?

    Only once the wait window has passed (``now >= rented_at + window``) with no SMS
    received and no earlier refund. ``deadline`` is the instant the refund opens.
    """
    _require_aware("rented_at", rented_at)
    _require_aware("now", now)
    if window <= timedelta(0):
        raise ValueError("the wait window must be positive")
    opens_at = rented_at + window
    if already_refunded:
        return Decision(False, "sms_refund.already_refunded", opens_at)
    if sms_received:
        return Decision(False, "sms_refund.sms_received", opens_at)
    if now < opens_at:
        return Decision(False, "sms_refund.window_open", opens_at)
    return Decision(True, "sms_refund.allowed", opens_at)


def deposit_amount_decision(amount_cents: int, terms: Terms) -> Decision:
    """Is this deposit amount (in cents of ``terms.currency``) within the limits?"""
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise TypeError("amounts are integer minor units")
    if amount_cents < terms.deposit_min_cents:
        return Decision(False, "deposit.below_minimum")
    if amount_cents > terms.deposit_max_cents:
        return Decision(False, "deposit.above_maximum")
    return Decision(True, "deposit.allowed")


def refund_abuse_decision(*, refunds: int, rentals: int, terms: Terms) -> Decision:
    """Should an account be flagged for staff review, given its failed-SMS refunds and its
    rentals within ``terms.refund_abuse_period``? ``allowed`` False means: flag it."""
    if refunds < 0 or rentals < refunds:
        raise ValueError("refunds must be between 0 and the number of rentals")
    if refunds > terms.refund_abuse_max_refunds:
        return Decision(False, "abuse.too_many_refunds")
    if (
        rentals >= terms.refund_abuse_min_rentals
        and refunds * 100 > rentals * terms.refund_abuse_max_ratio_percent
    ):
        return Decision(False, "abuse.refund_ratio")
    return Decision(True, "abuse.ok")


def requires_withdrawal_waiver(country: str | None) -> bool:
    """EU consumers must consent to immediate performance (and lose the right of
    withdrawal) before a deposit or a rental."""
    return (country or "").upper() in EU_COUNTRIES


def first_response_due(opened_at: datetime, terms: Terms | None = None) -> datetime:
    """The latest promised first response to a ticket opened at ``opened_at``.

    Counts the upper bound of ``support_response_hours`` only on business days (whole
    days, midnight to midnight, in the business timezone). Returned in UTC.
    """
    _require_aware("opened_at", opened_at)
    from zoneinfo import ZoneInfo  # here: the site's every build imports this module, not this rule

    governing = terms or terms_in_force(opened_at)
    zone = ZoneInfo(governing.business_timezone)
    remaining = timedelta(hours=governing.support_response_hours[1])
    cursor = opened_at.astimezone(timezone.utc)
    while True:
        local_day = cursor.astimezone(zone).date()
        day_end = _local_midnight(local_day + timedelta(days=1), zone)
        if local_day.weekday() in governing.business_days:
            available = day_end - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
        cursor = day_end
