"""Signed processor callbacks: ``POST /webhooks/stripe`` and ``POST /webhooks/crypto``.

A callback that fails verification answers 400 and writes nothing. A verified one is
applied idempotently and answers 200, also when it changes nothing (a duplicate, a late
event, a deposit we do not know), so the processor stops retrying.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from portal import card_refunds, deposits
from portal.payments import card, crypto
from portal.payments.errors import InvalidWebhook

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _refused(invalid: InvalidWebhook):
    current_app.logger.warning("webhook refused: %s", invalid)
    return jsonify(error=invalid.reason), 400


def _applied(settlement: deposits.Settlement):
    reference = settlement.deposit.reference if settlement.deposit else None
    return jsonify(ok=True, deposit=reference, credited=settlement.credited)


@bp.post("/stripe")
def stripe():
    try:
        event = card.parse_event(request.get_data(), request.headers.get("Stripe-Signature"),
                                 current_app.config["STRIPE_WEBHOOK_SECRET"])
    except InvalidWebhook as invalid:
        return _refused(invalid)
    payment = card.checkout_outcome(event)
    if payment is None:
        try:
            refund_update = card.refund_outcome(event)
        except InvalidWebhook as invalid:
            return _refused(invalid)
        if refund_update is not None:
            refund = card_refunds.apply_update(refund_update)
            return jsonify(ok=True, refund=refund.state if refund else None)
        return jsonify(ok=True, ignored=event.type)
    return _applied(deposits.settle_card(payment))


@bp.post("/crypto")
def crypto_ipn():
    try:
        update = crypto.parse_ipn(request.get_data(), request.headers.get(crypto.SIGNATURE_HEADER),
                                  current_app.config["CRYPTO_IPN_SECRET"])
    except InvalidWebhook as invalid:
        return _refused(invalid)
    return _applied(deposits.settle_crypto(update))
