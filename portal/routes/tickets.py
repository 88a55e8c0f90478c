"""Customer tickets: the list, the form (prefilled for a deposit's card refund), a ticket's
thread with replies, and the refund meter of a deposit."""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for
from htmx_flask import make_response

from portal.money import card_refunds, deposits
from portal import jobs
from portal.support import tickets
from portal.web import views
from portal.accounts.users import FormError
from portal.policy import terms_in_force
from portal.store.fields import utcnow

bp = Blueprint("tickets", __name__)


def _form(form, errors, status=200):
    return views.render("pages/ticket_new.html", "fragments/ticket_form.html", status, form=form,
                      errors=errors, categories=tickets.CATEGORIES,
                      deposits=list(tickets.card_deposits(g.user.id).where(
                          tickets.Deposit.state == "succeeded")),
                      terms=terms_in_force(utcnow()))


@bp.get("/tickets")
@views.login_required
def index():
    return views.render("pages/tickets.html", "fragments/ticket_list.html",
                      tickets=list(tickets.for_user(g.user.id).limit(200)))


@bp.get("/tickets/new")
@views.login_required
def new():
    reference = request.args.get("deposit", "")
    form = {"category": "card_refund", "deposit": reference} if reference else {}
    errors = {}
    if reference:
        deposit = views.owned_or_404(deposits.one_for_user(g.user.id, reference))
        form["subject"] = f"{_refund_subject()} {deposit.reference}"
        _, problem = tickets.refundable_deposit(g.user, reference, tickets.utcnow())
        errors = {"deposit": problem} if problem else {}
    return _form(form, errors)


def _refund_subject() -> str:
    from flask_babel import gettext as _

    return _("Card refund of deposit")


@bp.post("/tickets")
@views.login_required
def create():
    form = request.form
    try:
        ticket = tickets.open_ticket(g.user, category=form.get("category", ""),
                                     subject=form.get("subject", ""), body=form.get("body", ""),
                                     deposit_reference=form.get("deposit", ""))
    except FormError as invalid:
        return _form(form, invalid.errors, 422)
    jobs.deliver_soon()
    url = url_for("tickets.show", ticket_id=ticket.id)
    if request.htmx:
        return make_response("", 204, redirect=url)
    return redirect(url, 303)


def _thread(ticket, errors=None, status=200, form=None):
    return views.render("pages/ticket.html", "fragments/ticket_thread.html", status, ticket=ticket,
                      messages=tickets.thread(ticket), errors=errors or {}, form=form or {},
                      overdue=tickets.is_overdue(ticket), reply_url=url_for("tickets.reply", ticket_id=ticket.id))


@bp.get("/tickets/<id:ticket_id>")
@views.login_required
def show(ticket_id: int):
    return _thread(views.owned_or_404(tickets.one_for_user(g.user.id, ticket_id)))


@bp.post("/tickets/<id:ticket_id>/replies")
@views.login_required
def reply(ticket_id: int):
    ticket = views.owned_or_404(tickets.one_for_user(g.user.id, ticket_id))
    try:
        tickets.reply(ticket, g.user, request.form.get("body", ""))
    except FormError as invalid:
        return _thread(ticket, invalid.errors, 422, request.form)
    return _thread(tickets.Ticket.get_by_id(ticket.id))


@bp.get("/deposits/<reference>/refund-meter")
@views.login_required
def meter(reference: str):
    deposit = views.owned_or_404(deposits.one_for_user(g.user.id, reference))
    # live: the answer goes on asking (it replaces the meter that asked, polling attributes and all)
    return views.render("fragments/refund_meter.html", "fragments/refund_meter.html", deposit=deposit,
                        meters=card_refunds.meters([deposit]), live=True)
