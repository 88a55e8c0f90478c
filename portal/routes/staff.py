"""The staff console under /staff/ (staff only; anyone else gets 404): the ticket queue,
a ticket with the customer's deposits and statement, replies, card-refund decisions,
account standing, the audit log and the notification outbox."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, g, request, url_for

from portal import jobs
from portal.consent import withdrawals
from portal.support import audit, staff, tickets
from portal.money import card_refunds, deposits, gateways, ledger
from portal.store import db
from portal.web import views
from portal.accounts.users import FormError
from portal.store.fields import utcnow
from portal.store.models import Ticket, User
from portal.states import TICKET_OPEN

bp = Blueprint("staff", __name__, url_prefix="/staff")


def staff_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None or not g.user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


@bp.get("/")
@staff_required
def queue():
    category, state = request.args.get("category", ""), request.args.get("state", "open")
    rows = list(tickets.queue(category, state).limit(500))
    now = utcnow()
    return views.render("pages/staff_queue.html", "fragments/staff_queue_table.html",
                      rows=[(t, tickets.is_overdue(t, now)) for t in rows],
                      filter_category=category, filter_state=state,
                      categories=tickets.CATEGORIES, states=tickets.STATES,
                      withdrawals=withdrawals.recent(10))


def _ticket_page(ticket: Ticket, status=200, errors=None, fragment="fragments/staff_ticket_panel.html",
                 form=None, result=None):
    customer = User.get_by_id(ticket.user_id)
    customer_deposits = deposits.newest(customer.id, 50)
    entries, _more = ledger.statement(customer.id, 1, 25)
    return views.render(
        "pages/staff_ticket.html", fragment, status, ticket=ticket, customer=customer,
        messages=tickets.thread(ticket), deposits=customer_deposits, entries=entries,
        meters=card_refunds.meters(customer_deposits), ticket_open=ticket.state in TICKET_OPEN,
        balance=ledger.balance(customer.id), overdue=tickets.is_overdue(ticket),
        errors=errors or {}, form=form or {}, result=result, deny_reasons=card_refunds.DENY_REASONS,
        actions=staff.ACTIONS,
        refund=card_refunds.for_deposit(ticket.deposit_id) if ticket.deposit_id else None,
        reply_url=url_for("staff.reply", ticket_id=ticket.id),
        trigger="balance-changed" if result == "approved" else None)


def _ticket(ticket_id: int) -> Ticket:
    return views.owned_or_404(Ticket.select().where(Ticket.id == ticket_id))


@bp.get("/tickets/<id:ticket_id>")
@staff_required
def ticket(ticket_id: int):
    return _ticket_page(_ticket(ticket_id))


@bp.post("/tickets/<id:ticket_id>/replies")
@staff_required
def reply(ticket_id: int):
    found = _ticket(ticket_id)
    try:
        tickets.reply(found, g.user, request.form.get("body", ""), staff=True)
    except FormError as invalid:
        return _ticket_page(found, 422, invalid.errors, "fragments/ticket_thread.html", request.form)
    jobs.deliver_soon()
    return _ticket_page(_ticket(ticket_id), fragment="fragments/ticket_thread.html")


@bp.post("/tickets/<id:ticket_id>/close")
@staff_required
def close(ticket_id: int):
    found = _ticket(ticket_id)
    if not tickets.close(found, g.user):
        return _ticket_page(found, 409, {"decision": "ticket.not_open"})
    return _ticket_page(_ticket(ticket_id), result="closed")


@bp.post("/tickets/<id:ticket_id>/decision")
@staff_required
def decide(ticket_id: int):
    found = _ticket(ticket_id)
    if found.category != "card_refund" or found.deposit_id is None:
        abort(404)
    action, note = request.form.get("action", ""), request.form.get("note", "").strip()[:2000]
    if action == "approve":
        outcome = card_refunds.approve(found.id, g.user, note)
        if not outcome.decision.allowed:
            return _ticket_page(_ticket(ticket_id), 409, {"decision": outcome.decision.reason})
        card_refunds.send(outcome.refund, gateways.card())
        result = "approved"
    elif action == "deny":
        reason = request.form.get("reason", "")
        if reason not in card_refunds.DENY_REASONS:
            return _ticket_page(found, 422, {"reason": "standing.invalid"})
        if not card_refunds.deny(found.id, g.user, reason, note):
            return _ticket_page(found, 409, {"decision": "card_refund.already_decided"})
        result = "denied"
    else:
        abort(400)
    jobs.deliver_soon()
    return _ticket_page(_ticket(ticket_id), result=result)


@bp.post("/tickets/<id:ticket_id>/refund")
@staff_required
def resend(ticket_id: int):
    """Send an approved refund to the processor again (it could not be reached before)."""
    found = _ticket(ticket_id)
    refund = card_refunds.for_deposit(found.deposit_id) if found.deposit_id else None
    if refund is None or not card_refunds.unsent(refund):
        abort(404)
    with db.database.atomic():
        audit.record(g.user, "refund.resend", subject_user=found.user_id, ticket=found)
    card_refunds.send(refund, gateways.card())
    return _ticket_page(_ticket(ticket_id), result="approved")


@bp.get("/accounts")
@staff_required
def accounts():
    return views.render("pages/staff_accounts.html", "fragments/staff_account_list.html",
                      users=list(staff.review_list().limit(500)), errors={}, actions=staff.ACTIONS)


@bp.post("/accounts/<id:user_id>/standing")
@staff_required
def standing(user_id: int):
    views.owned_or_404(User.select().where(User.id == user_id))
    errors, subject = {}, None
    try:
        subject = staff.set_standing(g.user, user_id, request.form.get("action", ""),
                                     request.form.get("reason", ""))
    except FormError as invalid:
        errors = invalid.errors
    return views.render("pages/staff_accounts.html", "fragments/staff_standing.html",
                      422 if errors else 200, user=subject or User.get_by_id(user_id),
                      users=list(staff.review_list().limit(500)), errors=errors,
                      actions=staff.ACTIONS, saved=not errors)


@bp.get("/audit")
@staff_required
def audit_log():
    return views.render("pages/staff_audit.html", "fragments/audit_table.html",
                      entries=list(audit.recent()))

