"""The one path from a reason code (a ``Decision.reason``, a form error, a refusal) to what
a user sees: its text in the user's language, with the values it cites, and the link to
the clause of the governing Terms that explains it (when the policy has one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext

from portal.policy import CLAUSE_ANCHORS, terms_in_force
from portal.site_versions import SiteNotBuilt, clause_url
from portal.store.fields import utcnow
from portal.web.i18n import clock, language, money, when
from portal.web.messages import message


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    link: str | None  # the clause of the governing Terms, if the policy has one


def in_force_url() -> str:
    return f"/{language()}/payment-refund/"


def clause_link(code: str, version: str | None = None) -> str:
    """The policy clause explaining ``code``, in ``version`` (default: the one in force)."""
    version = version or terms_in_force(utcnow()).version
    try:
        return clause_url(current_app.config["SITE_DIR"], version, language(), CLAUSE_ANCHORS[code])
    except SiteNotBuilt:
        return f"{in_force_url()}#{CLAUSE_ANCHORS[code]}"


def _shown(name: str, value) -> str:
    if name in ("price", "minimum", "maximum"):
        return money(value)
    if name == "left":
        return clock(value.total_seconds() if isinstance(value, timedelta) else value)
    if name == "opens":
        return when(value)
    return str(value)


def policy_name() -> str:
    """The policy's name in the user's language: one catalog entry, the site's title too."""
    return gettext("Payment & Refund Policy")


def _cited(code: str) -> dict:
    """What a message cites without being given it: the deposit limits of the Terms in
    force, the policy's name."""
    in_force = terms_in_force(utcnow())
    return {"deposit.below_minimum": {"minimum": in_force.deposit_min_cents},
            "deposit.above_maximum": {"maximum": in_force.deposit_max_cents},
            "terms.not_accepted": {"policy": policy_name()}}.get(code, {})


def explain(code: str, version: str | None = None, **values) -> Reason:
    """What the user reads for ``code``: the text (with ``values``, formatted for the
    user's language) and the clause of the Terms ``version`` that governs it."""
    values = {**_cited(code), **values}
    text = message(code, **{name: _shown(name, value) for name, value in values.items()})
    return Reason(code, text, clause_link(code, version) if code in CLAUSE_ANCHORS else None)


def init_app(app) -> None:
    # Globals, not a context processor: imported macros see them too.
    app.jinja_env.globals.update(explain=explain, policy_url=in_force_url)
