"""The exact words of each withdrawal-waiver consent, by ``Consent.action``: the forms show
them and the receipt records them as shown (translated by flask-babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CONSENT_TEXTS = {
    "deposit": _l("I expressly request that my deposit is performed immediately, and I "
                  "acknowledge that I thereby lose my right of withdrawal."),
    "rental": _l("I expressly request that the number is provided immediately, and I "
                 "acknowledge that I thereby lose my right of withdrawal."),
    "api": _l("I ask for numbers rented through the API to be provided at once, and I know "
              "that I lose my right of withdrawal once a number is provided."),
}


def consent_text(action: str) -> str:
    """The consent's words in the current language."""
    return str(CONSENT_TEXTS[action])


def init_app(app) -> None:
    app.jinja_env.globals.update(consent_text=consent_text)
