"""Support tickets: opening one (a card refund names an eligible deposit of the customer),
the thread of replies, and the first-response due time from the policy.

Ticket states: open -> answered -> closed; a card-refund ticket ends approved or denied
(``portal.money.card_refunds``). A customer's reply reopens an answered ticket; staff's first
reply records when the first response was given.
"""

from __future__ import annotations

from datetime import datetime

from portal.support import audit, notifications
from portal.money import card_refunds
from portal.accounts.users import FormError
from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import Deposit, Ticket, TicketMessage, User
from portal.policy import CARD, first_response_due
from portal.states import TICKET_OPEN, TICKET_STATES

CATEGORIES = ("card_refund", "failed_sms", "payment", "other")
STATES = TICKET_STATES
MAX_SUBJECT, MAX_BODY = 120, 5000


def _clean(text: str | None) -> str:
    """Text as typed, with line breaks normalised and no control characters."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or c.isprintable()).strip()


def _body_error(body: str) -> str | None:
    if not body:
        return "ticket.message_missing"
    if len(body) > MAX_BODY:
        return "ticket.message_too_long"
    return None


def refundable_deposit(user: User, reference: str, now: datetime) -> tuple[Deposit | None, str | None]:
    """The user's card deposit named ``reference`` if a refund may be requested, else the
    reason code why not (another user's deposit is not found, as if it did not exist)."""
    deposit = Deposit.get_or_none(Deposit.user == user.id, Deposit.reference == reference,
                                  Deposit.state == "succeeded")
    if deposit is None:
        return None, "ticket.deposit_missing"
    decision = card_refunds.eligibility(deposit, now)
    if not decision.allowed:
        return None, decision.reason
    already = open_refund_request(deposit.id) is not None
    return (None, "ticket.refund_requested") if already else (deposit, None)


def open_refund_request(deposit_id: int) -> Ticket | None:
    """The open card-refund ticket of a deposit, if any."""
    return Ticket.select().where(Ticket.deposit == deposit_id, Ticket.category == "card_refund",
                                 Ticket.state.in_(TICKET_OPEN)).first()


def open_ticket(user: User, *, category: str, subject: str, body: str, deposit_reference: str = "",
                now: datetime | None = None) -> Ticket:
    """Open a ticket with its first message, or raise ``FormError`` (nothing written)."""
    now = now or utcnow()
    subject, body = " ".join(_clean(subject).split()), _clean(body)
    errors = {}
    if category not in CATEGORIES:
        errors["category"] = "ticket.category_invalid"
    if not subject:
        errors["subject"] = "ticket.subject_missing"
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = "ticket.subject_too_long"
    if _body_error(body):
        errors["body"] = _body_error(body)
    deposit = None
    if category == "card_refund":
        deposit, problem = refundable_deposit(user, (deposit_reference or "").strip(), now)
        if problem:
            errors["deposit"] = problem
    if errors:
        raise FormError(errors)
    with database.atomic():
        ticket = Ticket.create(user=user, category=category, subject=subject, deposit=deposit,
                               opened_at=now, updated_at=now, first_response_due=first_response_due(now))
        TicketMessage.create(ticket=ticket, author=user, body=body, created_at=now)
        notifications.queue(user, "ticket_received", ticket=ticket)
    return ticket


def reply(ticket: Ticket, author: User, body: str, *, staff: bool = False,
          now: datetime | None = None) -> TicketMessage:
    """Add a reply to the thread. Staff answer (the first answer is recorded and the
    customer notified); a customer's reply reopens an answered or closed ticket."""
    now = now or utcnow()
    body = _clean(body)
    if _body_error(body):
        raise FormError({"body": _body_error(body)})
    with database.atomic():
        message = TicketMessage.create(ticket=ticket, author=author, from_staff=staff, body=body,
                                       created_at=now)
        if staff:
            Ticket.update(state="answered", updated_at=now).where(
                Ticket.id == ticket.id, Ticket.state == "open").execute()
            Ticket.update(first_response_at=now).where(
                Ticket.id == ticket.id, Ticket.first_response_at.is_null()).execute()
            audit.record(author, "ticket.reply", subject_user=ticket.user_id, ticket=ticket)
            notifications.queue(ticket.user, "ticket_answered", ticket=ticket)
        else:
            Ticket.update(state="open", updated_at=now).where(
                Ticket.id == ticket.id, Ticket.state.in_(("answered", "closed"))).execute()
    return message


def close(ticket: Ticket, staff: User, now: datetime | None = None) -> bool:
    """Staff close an open or answered ticket (a customer's reply reopens it)."""
    now = now or utcnow()
    with database.atomic():
        closed = Ticket.update(state="closed", updated_at=now).where(
            Ticket.id == ticket.id, Ticket.state.in_(TICKET_OPEN)).execute()
        if closed:
            audit.record(staff, "ticket.close", subject_user=ticket.user_id, ticket=ticket)
    return bool(closed)


def is_overdue(ticket: Ticket, now: datetime | None = None) -> bool:
    """No first response yet and its due time has passed."""
    return ticket.first_response_at is None and (now or utcnow()) > ticket.first_response_due


def for_user(user_id: int):
    return Ticket.select().where(Ticket.user == user_id).order_by(Ticket.id.desc())


def one_for_user(user_id: int, ticket_id: int):
    """A query for one ticket of this user only (another user's id finds nothing)."""
    return Ticket.select().where(Ticket.user == user_id, Ticket.id == ticket_id)


def thread(ticket: Ticket) -> list[TicketMessage]:
    return list(TicketMessage.select().where(TicketMessage.ticket == ticket.id).order_by(TicketMessage.id))


def queue(category: str = "", state: str = "open"):
    """The staff queue: tickets by first-response due time, filtered."""
    query = Ticket.select(Ticket, User).join(User, on=(Ticket.user == User.id))
    if category in CATEGORIES:
        query = query.where(Ticket.category == category)
    if state in STATES:
        query = query.where(Ticket.state == state)
    return query.order_by(Ticket.first_response_due, Ticket.id)


def card_deposits(user_id: int):
    """The user's credited card deposits (and later refund states), newest first."""
    return (Deposit.select().where(Deposit.user == user_id, Deposit.method == CARD,
                                   Deposit.state.in_(("succeeded", "refunding", "refunded", "refund_failed")))
            .order_by(Deposit.id.desc()))
