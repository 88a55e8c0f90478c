"""The published policy as a customer meets it: the account page's accepted, newer and
upcoming versions with what changed since the accepted one, and the one-time banner on the
first page after a newer version took effect (a refusal's clause: ``portal.web.reasons``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, current_app, g, request

from portal.policy import Terms, terms, terms_in_force, upcoming_terms
from portal.site_versions import Published, SiteNotBuilt, published
from portal.store.fields import utcnow
from portal.terms import acceptances, banner, rules, texts
from portal.web.i18n import language

log = logging.getLogger(__name__)
bp = Blueprint("policy", __name__)

# Blueprints whose answers are not portal pages (no layout, so no banner).
_NOT_PAGES = {"site", "api", "webhooks", "demo"}


def _site() -> str:
    return current_app.config["SITE_DIR"]


@dataclass(frozen=True)
class Changes:
    """What changed for a customer: the text of ``target`` marked against the accepted version."""

    accepted: Published
    target: Terms
    page: Published
    html: str  # the site's own rendered HTML, marked by policytext.redline
    upcoming: bool


def changes(user, target: Terms | None, now: datetime) -> Changes | None:
    """The redline from the user's accepted version to ``target`` (None for none)."""
    if target is None:
        return None
    lang = language()
    return Changes(published(_site(), user.terms_version, lang), target, published(_site(), target.version, lang),
                   texts.changes(_site(), user.terms_version, target.version, lang), target.effective_at > now)


def account_terms(user, now: datetime | None = None) -> dict:
    """The account page's policy section: the accepted version, the newer ones in force or
    upcoming with their links, the redline to the latest one, and every acceptance."""
    now = now or utcnow()
    accepted = published(_site(), user.terms_version, language())
    current = terms_in_force(now)
    upcoming = upcoming_terms(now)
    newer = [t for t in (current, upcoming) if t and t.effective_at > terms(user.terms_version).effective_at]
    return {
        "accepted": accepted,
        "newer": [(t, published(_site(), t.version, language()), t is upcoming) for t in newer],
        "changes": changes(user, rules.redline_target(user.terms_version, now), now),
        "history": acceptances.history(user.id),
    }


@bp.before_app_request
def _banner() -> None:
    """On a signed-in customer's full page (not the account page, which shows the same
    changes), the banner of a version that took effect since the one they accepted."""
    g.terms_banner = None
    user = g.get("user")
    if (user is None or request.method != "GET" or request.htmx or request.blueprint in _NOT_PAGES
            or request.endpoint in (None, "static", "account.show")):
        return
    now = utcnow()
    due = banner.due(user, now)
    if due is not None:
        try:
            g.terms_banner = changes(user, due, now)
        except SiteNotBuilt as stale:  # no page waits for a site that lags behind the Terms
            log.warning("no policy banner: %s", stale)


@bp.after_app_request
def _banner_shown(response: Response) -> Response:
    """The banner shows once: record it when the page that carried it was delivered."""
    shown = g.get("terms_banner")
    if shown is not None and response.status_code == 200 and response.mimetype == "text/html":
        banner.shown(g.user, shown.target)
    return response
