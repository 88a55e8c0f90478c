"""Renting numbers: the filtered offer list, "Rent", a rental's row (which polls itself
while it can still receive an SMS: it reads only what the polling job recorded), its page
with the timeline, and "Request refund". The decisions are in ``portal.numbers.rentals``."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, g, redirect, request, url_for

from portal import jobs
from portal.numbers import catalog, delivery, rentals, timeline
from portal.web import reasons, views
from portal.store.fields import utcnow
from portal.web.i18n import language
from portal.policy import requires_withdrawal_waiver, terms_in_force
from portal.site_versions import published

bp = Blueprint("rentals", __name__)

# The status each refusal answers with (htmx swaps these; see the layout's htmx-config).
STATUS = {
    "rental.unknown_service": 422,
    "eu.withdrawal_waiver": 422,
    "rental.insufficient_funds": 409,
    "rental.account_suspended": 409,
    "rental.account_terminated": 409,
    "rental.account_restricted": 409,
    "rental.no_numbers": 409,
    "rental.provider_unavailable": 502,
    "rental.refund_unavailable": 502,
    "sms_refund.window_open": 409,
    "sms_refund.sms_received": 409,
    "sms_refund.already_refunded": 409,
}
GOOD = frozenset({"rental.rented", "sms_refund.allowed"})


def notice(code: str, version: str | None = None, **values) -> dict:
    """What a rental's answer tells the user (``reasons.explain``), and whether it is good news."""
    reason = reasons.explain(code, version, **values)
    return {"code": code, "text": reason.text, "link": reason.link, "good": code in GOOD}


def _filters() -> tuple[str, str]:
    """The chosen country (by default the customer's own, when it is on offer) and service."""
    country = request.args.get("country")
    if country is None:
        country = g.user.country if g.user.country in catalog.countries_on_sale() else ""
    return country[:2], request.args.get("service", "")[:16]


def _page_context(**extra) -> dict:
    country, service = _filters()
    needs_consent = requires_withdrawal_waiver(g.user.country)
    context = dict(
        countries=catalog.countries_on_sale(), services=catalog.services(),
        country=country, service=service,
        offers=catalog.offers(country=country, service=service), delivery=delivery.shown(),
        needs_consent=needs_consent, token=secrets.token_urlsafe(16),
        policy_link=reasons.clause_link("eu.withdrawal_waiver"), notice=None, rental=None,
    )
    context.update(extra)
    return context


def _with_rentals(context: dict) -> dict:
    listed = rentals.newest(g.user.id, 20)
    context["rentals"] = listed
    context["sms"] = rentals.messages_of([rental.id for rental in listed])
    return context


def _row(rental, status: int = 200, notice=None, trigger=None, page="pages/rental.html", **extra):
    return views.render(page, "fragments/rental_row.html", status, trigger=trigger, rental=rental,
                        notice=notice, sms=rentals.messages_of([rental.id]), **extra)


@bp.get("/rentals")
@views.login_required
def index():
    context = _page_context()
    if request.htmx and request.htmx.target == "offers":
        return views.render("pages/rentals.html", "fragments/rent_offers.html", **context)
    return views.render("pages/rentals.html", "fragments/rental_list.html", **_with_rentals(context))


def _consent():
    if not requires_withdrawal_waiver(g.user.country) or request.form.get("consent") != "yes":
        return None
    version = terms_in_force(utcnow()).version
    terms = published(current_app.config["SITE_DIR"], version, language())
    return rentals.ConsentGiven(terms, views.client_ip(), views.user_agent())


@bp.post("/rentals")
@views.login_required
def create():
    country, _, service = request.form.get("offer", "").partition(":")
    key = rentals.make_request_key(g.user.id, request.form.get("token", ""), country, service)
    try:
        rental = rentals.rent(g.user, country, service, consent=_consent(), request_key=key)
    except rentals.RentalRefused as refused:
        context = _page_context(notice=notice(refused.reason, **refused.values))
        return views.render("pages/rentals.html", "fragments/rent_result.html",
                          STATUS[refused.reason], **_with_rentals(context))
    if requires_withdrawal_waiver(g.user.country):
        jobs.deliver_soon()  # the consent's receipt
    if not request.htmx:
        return redirect(url_for("rentals.show", reference=rental.reference), 303)
    return views.render("pages/rentals.html", "fragments/rent_result.html", 200,
                      trigger="balance-changed", rental=rental, token=secrets.token_urlsafe(16),
                      needs_consent=requires_withdrawal_waiver(g.user.country),
                      notice=notice("rental.rented", phone=rental.phone))


@bp.get("/rentals/<reference>")
@views.login_required
def show(reference: str):
    if request.htmx:  # the row polling itself (keeping "Number rented" while it waits)
        found = rentals.polled_row(g.user.id, reference)
        if found is None:
            abort(404)
        rental, messages = found
        waiting = rentals.shown_state(rental, utcnow()) == rentals.WAITING
        shown = notice("rental.rented", phone=rental.phone) if request.args.get("rented") and waiting else None
        return views.render("pages/rental.html", "fragments/rental_row.html", rental=rental, notice=shown,
                            sms={rental.id: messages})
    rental = views.owned_or_404(rentals.one_for_user(g.user.id, reference))
    return _row(rental, events=timeline.of(rental.id))


@bp.post("/rentals/<reference>/refund")
@views.login_required
def refund(reference: str):
    outcome = rentals.request_refund(g.user, reference)
    if outcome is None:
        abort(404)
    shown = notice(outcome.reason, outcome.rental.terms_version, **outcome.values)
    # Every answer refreshes the balance: another tab's request may have moved the money.
    return _row(outcome.rental, 200 if outcome.credited else STATUS[outcome.reason], shown,
                "balance-changed", events=timeline.of(outcome.rental.id))


@bp.record_once
def _register(state) -> None:
    def rental_state(rental):
        return rentals.shown_state(rental, utcnow())

    def rental_left(rental):
        return rentals.seconds_left(rental, utcnow())

    state.app.jinja_env.globals.update(rental_state=rental_state, rental_left=rental_left)
