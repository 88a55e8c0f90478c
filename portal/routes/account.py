"""The account page: language, country and time zone, password, accepted Terms, consents."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from portal.accounts import time_zones, users
from portal.web import views
from portal.store.models import Consent

bp = Blueprint("account", __name__)


def _page(status=200, fragment="fragments/preferences_form.html", **context):
    context.setdefault("errors", {})
    context.setdefault("form", {})
    consents = list(Consent.select().where(Consent.user == g.user.id).order_by(Consent.id.desc()))
    return views.render("pages/account.html", fragment, status, countries=users.COUNTRIES,
                        time_zones=time_zones.choices(), consents=consents, **context)


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
