"""The withdrawal function (Directive 2011/83/EU art. 11a): what an EU customer can
withdraw from, and recording a withdrawal with what became of each item.

``candidates`` lists the customer's credited deposits and rentals not refunded, each with
the outcome ``withdrawal_rules`` gives it now. ``withdraw`` records one request per form
(its token: a form sent twice is one request) with its items, in one transaction with their
effects: an unspent card deposit inside its window opens the same card-refund ticket as the
refund meter (``support.tickets.open_ticket``, which checks eligibility again), and the
acknowledgement of receipt is written to the outbox, in the customer's language, with the
request's date and time and what it covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from peewee import IntegrityError

from portal.accounts import time_zones
from portal.accounts.users import FormError
from portal.consent import receipts, withdrawal_rules as rules
from portal.money import card_refunds
from portal.policy import Decision
from portal.store.db import money_transaction
from portal.store.fields import utcnow
from portal.store.models import (
    Consent, Deposit, Rental, Service, User, WithdrawalItem, WithdrawalRequest,
)
from portal.support import notifications, tickets
from portal.web.links import absolute
from portal.web.i18n import in_language

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,43}")
LISTED = 100  # the newest deposits and rentals offered (each kind)
KINDS = ("deposit", "rental")


@dataclass(frozen=True)
class Item:
    """A deposit or rental the customer may withdraw from, and what withdrawing does."""

    kind: str
    reference: str
    amount_cents: int
    at: datetime
    decision: Decision
    detail: str  # the card-refund rule's reason, for a deposit
    consent: Consent | None
    ticket_id: int | None  # the open card-refund request
    terms_version: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.reference}"


def _consents(user_id: int, references: list[str]) -> dict[tuple[str, str], Consent]:
    if not references:
        return {}
    rows = Consent.select().where(Consent.user == user_id, Consent.action.in_(KINDS),
                                  Consent.subject.in_(references)).order_by(Consent.id)
    return {(c.action, c.subject): c for c in rows}


def candidates(user: User, now: datetime | None = None) -> list[Item]:
    """What the customer may withdraw from: credited deposits, then rentals not refunded,
    newest first, each with its outcome now (a few queries whatever their number)."""
    now = now or utcnow()
    deposits = list(Deposit.select().where(Deposit.user == user.id, Deposit.state == "succeeded")
                    .order_by(Deposit.id.desc()).limit(LISTED))
    rentals = list(Rental.select(Rental, Service).join(Service)
                   .where(Rental.user == user.id, Rental.state != "refunded")
                   .order_by(Rental.id.desc()).limit(LISTED))
    consents = _consents(user.id, [d.reference for d in deposits] + [r.reference for r in rentals])
    meters = card_refunds.meters(deposits, now)
    items = []
    for deposit in deposits:
        meter, consent = meters[deposit.id], consents.get(("deposit", deposit.reference))
        decision = rules.deposit_outcome(credited=True, refund=meter.decision, consented=consent is not None,
                                         refund_requested=meter.request is not None)
        items.append(Item("deposit", deposit.reference, deposit.credited_cents or deposit.amount_cents,
                          deposit.credited_at or deposit.created_at, decision,
                          meter.decision.reason if meter.decision else "", consent,
                          meter.request.id if meter.request else None, deposit.terms_version))
    for rental in rentals:
        consent = consents.get(("rental", rental.reference))
        decision = rules.rental_outcome(refunded=False, consented=consent is not None)
        items.append(Item("rental", rental.reference, rental.price_cents, rental.rented_at, decision,
                          "", consent, None, rental.terms_version))
    return items


def pick(items: list[Item], chosen: list[str]) -> list[Item]:
    """The items named by ``chosen`` (``kind:reference``), or ``FormError``: none chosen, or
    one that is not the customer's to withdraw from (nothing is recorded then)."""
    by_key = {item.key: item for item in items}
    chosen = list(dict.fromkeys(chosen))
    if not chosen:
        raise FormError({"items": "withdrawal.nothing_chosen"})
    if any(key not in by_key for key in chosen):
        raise FormError({"items": "withdrawal.item_unknown"})
    return [by_key[key] for key in chosen]


def request_key(user_id: int, token: str) -> str | None:
    """The idempotency key of one withdrawal form, or None for a missing or malformed token."""
    return f"withdraw:{user_id}:{token}" if TOKEN.fullmatch(token or "") else None


def withdraw(user: User, *, token: str, chosen: list[str], now: datetime | None = None) -> WithdrawalRequest:
    """Record the withdrawal from the ``chosen`` items and carry it out, or ``FormError``
    (nothing written). The same form sent again returns the request it made."""
    now = now or utcnow()
    key = request_key(user.id, token)
    if key is None:
        raise FormError({"items": "withdrawal.form_expired"})
    earlier = WithdrawalRequest.get_or_none(WithdrawalRequest.key == key)
    if earlier is not None:
        return earlier
    picked = pick(candidates(user, now), chosen)
    zone = time_zones.of_account(user.time_zone)
    try:
        with money_transaction():
            request = WithdrawalRequest.create(user=user, key=key, language=user.language or "en",
                                               time_zone=zone, created_at=now)
            for item in picked:
                _carry_out(user, request, item, now)
            _acknowledge(user, request)
    except IntegrityError:
        earlier = WithdrawalRequest.get_or_none(WithdrawalRequest.key == key)
        if earlier is None:
            raise
        return earlier  # the same form, sent twice at once: the other one won
    return request


def _carry_out(user: User, request: WithdrawalRequest, item: Item, now: datetime) -> WithdrawalItem:
    outcome, ticket_id = item.decision.reason, item.ticket_id
    if outcome == rules.CARD_REFUND:
        outcome, ticket_id = _refund_request(user, request, item, now)
    return WithdrawalItem.create(request=request, kind=item.kind, reference=item.reference, outcome=outcome,
                                 detail=item.detail, ticket=ticket_id, consent=item.consent)


def _refund_request(user: User, request: WithdrawalRequest, item: Item, now: datetime) -> tuple[str, int | None]:
    """Open the card-refund ticket, as the refund meter's link does; what it became when the
    deposit stopped being refundable meanwhile."""
    with in_language(user.language or "en"):
        subject = f"{_('Card refund of deposit')} {item.reference}"
        body = _("Withdrawal from the contract through the withdrawal function (request %(number)s).",
                 number=request.id)
    try:
        ticket = tickets.open_ticket(user, category="card_refund", subject=subject, body=body,
                                     deposit_reference=item.reference, now=now)
    except FormError as refused:
        if refused.errors.get("deposit") == "ticket.refund_requested":
            deposit = Deposit.get(Deposit.user == user.id, Deposit.reference == item.reference)
            open_request = tickets.open_refund_request(deposit.id)
            return rules.REFUND_REQUESTED, open_request.id if open_request else None
        return (rules.WAIVED if item.consent else rules.STAFF_REVIEW), None
    return rules.CARD_REFUND, ticket.id


@dataclass(frozen=True)
class Line:
    """One item of a recorded request, as its acknowledgement shows it."""

    item: WithdrawalItem
    consent: Consent | None
    version: str | None  # the Terms version whose clause explains the outcome


def _lines(requests: list[WithdrawalRequest]) -> dict[int, list[Line]]:
    """The items of each request, by request id, in two queries whatever their number."""
    shown: dict[int, list[Line]] = {request.id: [] for request in requests}
    if not shown:
        return shown
    items = list(WithdrawalItem.select().where(WithdrawalItem.request.in_(list(shown))).order_by(WithdrawalItem.id))
    consent_ids = [i.consent_id for i in items if i.consent_id]
    consents = {c.id: c for c in Consent.select().where(Consent.id.in_(consent_ids))} if consent_ids else {}
    for item in items:
        consent = consents.get(item.consent_id)
        shown[item.request_id].append(Line(item, consent, consent.terms_version if consent else None))
    return shown


def lines(request: WithdrawalRequest) -> list[Line]:
    return _lines([request])[request.id]


def one_for_user(user_id: int, request_id: int):
    """A query for one request of this user only (another user's id finds nothing)."""
    return WithdrawalRequest.select().where(WithdrawalRequest.user == user_id, WithdrawalRequest.id == request_id)


def recent(limit: int = 50) -> list[tuple[WithdrawalRequest, list[Line]]]:
    """The newest requests with their items, for staff."""
    requests = list(WithdrawalRequest.select(WithdrawalRequest, User).join(User)
                    .order_by(WithdrawalRequest.id.desc()).limit(limit))
    shown = _lines(requests)
    return [(request, shown[request.id]) for request in requests]


def _acknowledge(user: User, request: WithdrawalRequest) -> None:
    """The acknowledgement of receipt on a durable medium: an e-mail through the outbox."""
    from portal.web.i18n import moment
    from zoneinfo import ZoneInfo

    from portal.web.reasons import explain

    language = user.language or "en"
    with in_language(language):
        parts = [_("We received your withdrawal from the contract on %(when)s (request %(number)s). It covers:",
                   when=moment(request.created_at, language, ZoneInfo(request.time_zone)), number=request.id)]
        for line in lines(request):
            reason = explain(line.item.outcome, line.version)
            text = f"- {receipts.words_for(line.item.kind, line.item.reference)}: {reason.text}"
            if line.item.ticket_id:
                text += "\n  " + _("Ticket %(number)s: %(url)s", number=line.item.ticket_id,
                                    url=absolute(f"/tickets/{line.item.ticket_id}"))
            if line.consent is not None:
                text += "\n  " + _("Your consent of %(when)s: \u201c%(text)s\u201d (Terms version %(version)s).",
                                   when=receipts.moment(line.consent, language), text=line.consent.text,
                                   version=line.consent.terms_version)
            if reason.link:
                text += "\n  " + _("What the policy says: %(url)s", url=absolute(reason.link))
            parts.append(text)
        parts.append(_("This e-mail is the acknowledgement of receipt of your withdrawal. Keep it for your records."))
        subject = _("Your withdrawal from the contract (request %(number)s)", number=request.id)
    notifications.mail(user, "withdrawal_received", f"mail:withdrawal:{request.id}", subject, "\n\n".join(parts))
