"""Register, log in, log out. Errors go back to the form that sent them."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for
from htmx_flask import make_response

from portal.accounts import attempts, users
from portal.web import redirects, views
from portal.web.i18n import language
from portal.store.fields import utcnow
from portal.policy import terms_in_force
from portal.site_versions import published

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return redirects.local_path(target) or url_for("dashboard.index")


def _go(target: str):
    if request.htmx:
        return make_response("", 204, redirect=target)
    return redirect(target, 303)


def _terms_published():
    in_force = terms_in_force(utcnow())
    return published(current_app.config["SITE_DIR"], in_force.version, language())


@bp.route("/register", methods=["GET", "POST"])
def register():
    form, config = request.form, current_app.config
    errors, status = {}, 200
    if request.method == "POST":
        try:
            user = users.register(
                email=form.get("email", ""), password=form.get("password", ""),
                language=form.get("language", ""), country=form.get("country", ""),
                time_zone=form.get("time_zone"), accepted=form.get("accept_terms") == "yes", terms=_terms_published(),
                params=config["ARGON2"], ip=views.client_ip(),
                limit=attempts.Limit(attempts.REGISTRATION, views.client_ip(),
                                     config["REGISTER_MAX_PER_ADDRESS"], config["REGISTER_WINDOW_SECONDS"]),
            )
        except users.Limited as limited:
            errors, status = limited.errors, 429
        except users.FormError as invalid:
            errors, status = invalid.errors, 422
        else:
            views.sign_in(user)
            return _go(url_for("dashboard.index"))
    return views.render("pages/register.html", "fragments/register_form.html", status,
                      errors=errors, form=form, countries=users.COUNTRIES,
                      terms=_terms_published())


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = request.form
    error, status = None, 200
    if request.method == "POST":
        config = current_app.config
        result = users.authenticate(
            form.get("email", ""), form.get("password", ""), address=views.client_ip(),
            params=config["ARGON2"], max_failures=config["LOGIN_MAX_FAILURES"],
            max_failures_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            window=config["LOGIN_WINDOW_SECONDS"],
        )
        if result.user is not None:
            views.sign_in(result.user)
            return _go(_safe_next(request.args.get("next")))
        error, status = ("login.limited", 429) if result.limited else ("login.failed", 401)
    return views.render("pages/login.html", "fragments/login_form.html", status,
                      error=error, form=form)


@bp.post("/logout")
def logout():
    views.sign_out()
    return _go(url_for("auth.login"))
