"""The account page: language, country and time zone, password, accepted Terms (what changed
since, continuing to a newer version, every acceptance), API keys (and an EU customer's
consent for API use), consents."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from portal.accounts import time_zones, users
from portal.api import actions, keys, webhooks
from portal.consent import receipts
from portal import jobs
from portal.policy import requires_withdrawal_waiver, terms_in_force
from portal.routes.policy import account_terms
from portal.site_versions import published
from portal.store.fields import utcnow
from portal.store.models import ApiKey, Consent, User
from portal.terms import acceptances, rules
from portal.web import views
from portal.web.i18n import language

bp = Blueprint("account", __name__)


def _page(status=200, fragment="fragments/preferences_form.html", **context):
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("api_errors", {})
    consents = list(Consent.select().where(Consent.user == g.user.id).order_by(Consent.id.desc()))
    return views.render("pages/account.html", fragment, status, countries=users.COUNTRIES,
                        time_zones=time_zones.choices(), consents=consents, policy_state=account_terms(g.user),
                        api_keys=keys.of_user(g.user.id), deliveries=webhooks.deliveries(g.user.id),
                        needs_api_consent=requires_withdrawal_waiver(g.user.country),
                        has_api_consent=actions.api_consent(g.user) is not None, **context)


@bp.get("/account")
@views.login_required
def show():
    return _page()


@bp.post("/account/preferences")
@views.login_required
def preferences():
    try:
        users.update_preferences(g.user, language=request.form.get("language", ""),
                                 country=request.form.get("country", ""),
                                 time_zone=request.form.get("time_zone", g.user.time_zone))
    except users.FormError as invalid:
        return _page(422, errors=invalid.errors, form=request.form)
    return _page(saved=True)


@bp.post("/account/password")
@views.login_required
def password():
    form = request.form
    try:
        user = users.change_password(
            g.user, current=form.get("current_password", ""), new=form.get("new_password", ""),
            confirm=form.get("confirm_password", ""), params=current_app.config["ARGON2"],
            session_id=views.session_id(),
        )
    except users.FormError as invalid:
        return _page(422, "fragments/password_form.html", password_errors=invalid.errors)
    g.user = user  # this session stays; every other one has ended
    return _page(fragment="fragments/password_form.html", password_saved=True)


@bp.post("/account/terms")
@views.login_required
def accept_terms():
    """Continue to a newer version of the policy (from the account page or the banner):
    record its acceptance with the time and the client's address."""
    version = request.form.get("version", "")
    fragment = ("fragments/terms_banner.html" if request.form.get("shown_in") == "banner"
                else "fragments/terms_changes.html")
    now = utcnow()
    if g.user.terms_version != version:  # a second click of the same button changes nothing
        if not rules.acceptable(g.user.terms_version, version, now):
            return _page(409, fragment, terms_errors={"version": "terms.not_acceptable"})
        acceptances.accept(g.user, published(current_app.config["SITE_DIR"], version, language()),
                           ip=views.client_ip(), now=now)
        g.user = User.get_by_id(g.user.id)
    return _page(fragment=fragment, terms_accepted=version)


@bp.post("/account/api-keys")
@views.login_required
def create_api_key():
    name = request.form.get("name", "").strip()
    if len(name) > keys.NAME_LENGTH:
        return _page(422, "fragments/api_keys.html", api_errors={"name": "api.name_too_long"})
    row, key = keys.create(g.user, name)
    return _page(fragment="fragments/api_keys.html", new_key=key, new_key_row=row)


@bp.post("/account/api-keys/<id:key_id>/revoke")
@views.login_required
def revoke_api_key(key_id: int):
    if not keys.revoke(g.user, key_id):
        return _page(409, "fragments/api_keys.html", api_errors={"name": "api.not_revocable"})
    return _page(fragment="fragments/api_keys.html", revoked=True)


@bp.post("/account/api-consent")
@views.login_required
def api_consent():
    """An EU customer's withdrawal-waiver consent for numbers rented through the API."""
    if not requires_withdrawal_waiver(g.user.country) or actions.api_consent(g.user) is not None:
        return _page(fragment="fragments/api_keys.html")
    if request.form.get("consent") != "yes":
        return _page(422, "fragments/api_keys.html", api_errors={"consent": "eu.withdrawal_waiver"})
    terms = published(current_app.config["SITE_DIR"], terms_in_force(utcnow()).version, language())
    receipts.record(g.user, action="api", subject="api", terms=terms, ip=views.client_ip(),
                    user_agent=views.user_agent())
    jobs.deliver_soon()
    return _page(fragment="fragments/api_keys.html", api_consented=True)


@bp.post("/account/api-keys/<id:key_id>/webhook")
@views.login_required
def api_key_webhook(key_id: int):
    """Set (or clear, when empty) the webhook URL of one of the customer's live keys."""
    key = views.owned_or_404(ApiKey.select().where(ApiKey.id == key_id, ApiKey.user == g.user.id,
                                                   ApiKey.revoked_at.is_null()))
    url = request.form.get("webhook_url", "").strip()
    if url:
        try:
            url = webhooks.check_url(url, demo=current_app.config["DEMO_MODE"])
        except webhooks.BadUrl as bad:
            return _page(422, "fragments/api_keys.html", api_errors={f"webhook_{key.id}": bad.reason})
    ApiKey.update(webhook_url=url).where(ApiKey.id == key.id).execute()
    return _page(fragment="fragments/api_keys.html", webhook_saved=True)


@bp.post("/account/webhooks/<id:delivery_id>/again")
@views.login_required
def webhook_again(delivery_id: int):
    if not webhooks.send_again(g.user.id, delivery_id):
        return _page(409, "fragments/api_keys.html", api_errors={"name": "webhook.not_resendable"})
    jobs.deliver_soon()
    return _page(fragment="fragments/api_keys.html", sent_again=True)
