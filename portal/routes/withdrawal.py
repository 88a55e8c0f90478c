"""The withdrawal function of EU customers at ``/withdraw`` (Directive 2011/83/EU art.
11a): choose the deposits and rentals to withdraw from, confirm, then the acknowledgement
of the recorded request (also sent by e-mail). Anyone else gets 404. The layout links here
from every page (``offers_withdrawal``)."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, g, redirect, request, url_for
from htmx_flask import make_response

from portal import jobs
from portal.accounts.users import FormError
from portal.consent import withdrawals
from portal.policy import requires_withdrawal_waiver
from portal.web import views

bp = Blueprint("withdrawal", __name__)


@bp.app_template_global()
def offers_withdrawal() -> bool:
    """Whether the signed-in customer is an EU consumer, who has the withdrawal function."""
    user = g.get("user")
    return user is not None and requires_withdrawal_waiver(user.country)


def _eu_customer() -> None:
    if not offers_withdrawal():
        abort(404)


def _step(step: str, status: int = 200, **context):
    return views.render("pages/withdraw.html", "fragments/withdrawal_form.html", status, step=step,
                        **{"errors": {}, "chosen": [], **context})


def _choose(status: int = 200, errors=None, chosen=()):
    return _step("choose", status, items=withdrawals.candidates(g.user), token=secrets.token_urlsafe(16),
                 errors=errors or {}, chosen=list(chosen))


@bp.get("/withdraw")
@views.login_required
def show():
    _eu_customer()
    return _choose()


@bp.post("/withdraw")
@views.login_required
def review():
    """The confirmation step: what withdrawing from the chosen items will do."""
    _eu_customer()
    chosen = request.form.getlist("item")
    try:
        picked = withdrawals.pick(withdrawals.candidates(g.user), chosen)
    except FormError as invalid:
        return _choose(422, invalid.errors, chosen)
    return _step("confirm", items=picked, token=request.form.get("token", ""))


@bp.post("/withdraw/confirm")
@views.login_required
def confirm():
    _eu_customer()
    try:
        recorded = withdrawals.withdraw(g.user, token=request.form.get("token", ""),
                                        chosen=request.form.getlist("item"))
    except FormError as invalid:
        return _choose(422, invalid.errors, request.form.getlist("item"))
    jobs.deliver_soon()  # the acknowledgement, and the card-refund tickets' mails
    url = url_for("withdrawal.received", request_id=recorded.id)
    if request.htmx:
        return make_response("", 204, redirect=url)
    return redirect(url, 303)


@bp.get("/withdraw/requests/<id:request_id>")
@views.login_required
def received(request_id: int):
    """The acknowledgement of one recorded request (the customer's own only)."""
    recorded = views.owned_or_404(withdrawals.one_for_user(g.user.id, request_id))
    return views.render("pages/withdrawal_received.html", "fragments/withdrawal_received.html",
                        withdrawal=recorded, lines=withdrawals.lines(recorded))
