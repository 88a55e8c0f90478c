"""Deposit form, creating a deposit, and its status page (which polls while pending)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, request, url_for
from htmx_flask import make_response

from portal import jobs
from portal.money import card_refunds, deposits, processors
from portal.web import views
from portal.accounts.users import FormError
from portal.store.fields import utcnow
from portal.web.i18n import language
from portal.policy import requires_withdrawal_waiver, terms_in_force
from portal.site_versions import published

bp = Blueprint("deposits", __name__)


def _form_context(form, errors):
    in_force = terms_in_force(utcnow())
    return dict(form=form, errors=errors, methods=deposits.methods(utcnow()), terms=in_force,
                needs_consent=requires_withdrawal_waiver(g.user.country),
                policy=published(current_app.config["SITE_DIR"], in_force.version, language()))


@bp.get("/deposits/new")
@views.login_required
def new():
    return views.render("pages/deposit_new.html", "fragments/deposit_form.html",
                      **_form_context({}, {}))


@bp.post("/deposits")
@views.login_required
def create():
    form = request.form
    context = _form_context(form, {})
    try:
        deposit = deposits.open_deposit(
            g.user, method=form.get("method", ""), amount_text=form.get("amount", ""),
            consent=form.get("consent") == "yes", terms=context["policy"],
            ip=views.client_ip(), user_agent=views.user_agent(),
        )
    except FormError as invalid:
        context["errors"] = invalid.errors
        return views.render("pages/deposit_new.html", "fragments/deposit_form.html", 422, **context)
    if context["needs_consent"]:
        jobs.deliver_soon()  # the consent's receipt
    url = processors.start_payment(deposit, g.user)
    if url is None:
        context["errors"] = {"form": "processor.unavailable"}
        return views.render("pages/deposit_new.html", "fragments/deposit_form.html", 502, **context)
    if request.htmx:
        return make_response("", 204, redirect=url)
    # Without htmx: our own deposit page, whose link leads on to the processor (the CSP lets
    # forms submit only to this origin, and that holds for a redirect after a submission).
    return redirect(url_for("deposits.show", reference=deposit.reference), 303)


@bp.get("/deposits/<reference>")
@views.login_required
def show(reference: str):
    deposit = views.owned_or_404(deposits.one_for_user(g.user.id, reference))
    # The status poll tells the page to refresh the balance once the deposit is credited.
    trigger = "balance-changed" if request.htmx and deposit.state == "succeeded" else None
    return views.render("pages/deposit.html", "fragments/deposit_status.html", trigger=trigger,
                        deposit=deposit, meters=card_refunds.meters([deposit]))
