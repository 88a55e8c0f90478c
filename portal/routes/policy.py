"""Links to the published policy: the account page's accepted, newer and upcoming versions
(a refusal's clause: ``portal.web.reasons``)."""

from __future__ import annotations

from flask import Blueprint, current_app, g

from portal.store.fields import utcnow
from portal.web.i18n import language
from portal.policy import terms, terms_in_force, upcoming_terms
from portal.site_versions import published

bp = Blueprint("policy", __name__)


def _site() -> str:
    return current_app.config["SITE_DIR"]


def account_terms() -> dict:
    """The user's accepted version and, when another one governs now or soon, its links."""
    now, user = utcnow(), g.user
    accepted = published(_site(), user.terms_version, language())
    current = terms_in_force(now)
    upcoming = upcoming_terms(now)
    newer = [t for t in (current, upcoming) if t and t.effective_at > terms(user.terms_version).effective_at]
    return {
        "accepted": accepted,
        "newer": [(t, published(_site(), t.version, language()), t is upcoming) for t in newer],
    }


@bp.record_once
def _register(state) -> None:
    # Globals, not a context processor: imported macros see them too.
    state.app.jinja_env.globals.update(account_terms=account_terms)
