"""Consent receipts of the signed-in customer: a printable page and the Kantara Consent
Receipt JSON of each (another user's receipt id finds nothing: 404)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from portal.consent import receipts
from portal.web import views
from portal.web.i18n import language

bp = Blueprint("consents", __name__)


def _own(receipt_id):
    return views.owned_or_404(receipts.one_for_user(g.user.id, str(receipt_id)))


@bp.get("/account/receipts/<uuid:receipt_id>")
@views.login_required
def show(receipt_id):
    consent = _own(receipt_id)
    return views.render("pages/consent_receipt.html", "fragments/consent_receipt.html",
                        receipt=receipts.view(consent, language()))


@bp.get("/account/receipts/<uuid:receipt_id>.json")
@views.login_required
def as_json(receipt_id):
    response = jsonify(receipts.as_kantara(_own(receipt_id), g.user))
    response.headers["Content-Disposition"] = f'inline; filename="consent-receipt-{receipt_id}.json"'
    return response
