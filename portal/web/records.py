"""What the customer reads for the codes of the books: a ledger kind (a statement line)
and a consent's action, in the user's language. Every kind that ``postings`` can post and
every action a consent can record has its words here (a test checks both, in every
language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.money import postings

ENTRY_KINDS = {
    postings.DEPOSIT: _l("Deposit"),
    postings.RENTAL_CHARGE: _l("Number rented"),
    postings.RENTAL_REFUND: _l("Failed SMS: price refunded"),
    postings.CARD_REFUND: _l("Card refund"),
    postings.CARD_REFUND_REVERSAL: _l("Card refund failed, credited back"),
    postings.DISPUTE_WITHDRAWAL: _l("Card dispute: taken back by your card's issuer"),
    postings.DISPUTE_REINSTATEMENT: _l("Card dispute closed in our favour: credited back"),
}

# ``Consent.action``: what the customer consented for, a deposit or a rental.
CONSENT_ACTIONS = {
    "deposit": _l("Deposit: performance at once, right of withdrawal waived"),
    "rental": _l("Number rental: performance at once, right of withdrawal waived"),
    "api": _l("Numbers rented through the API: performance at once, right of withdrawal waived"),
}


def entry_kind(kind: str) -> str:
    """The words of a ledger kind (the code itself only for a kind no posting makes)."""
    return str(ENTRY_KINDS.get(kind, kind))


def consent_action(action: str) -> str:
    return str(CONSENT_ACTIONS.get(action, action))


def init_app(app) -> None:
    app.jinja_env.globals.update(entry_kind=entry_kind, consent_action=consent_action)
