"""Signed processor callbacks: ``POST /webhooks/stripe`` and ``POST /webhooks/crypto``.

A callback that fails verification, or is validly signed but malformed, answers 400 with
its logged reason and writes nothing. A verified one is applied idempotently
(``portal.money.processor_events``) and answers 200, also when it changes nothing (a duplicate, a
late event, a deposit we do not know), so the processor stops retrying.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from portal.money import processor_events
from portal.payments import card, crypto
from portal.payments.errors import InvalidWebhook

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _refused(invalid: InvalidWebhook):
    current_app.logger.warning("webhook refused: %s", invalid)
    return jsonify(error=invalid.reason), 400


@bp.post("/stripe")
def stripe():
    try:
        event = card.parse_event(request.get_data(), request.headers.get("Stripe-Signature"),
                                 current_app.config["STRIPE_WEBHOOK_SECRET"])
        applied = processor_events.apply_stripe(event)
    except InvalidWebhook as invalid:
        return _refused(invalid)
    return jsonify(ok=True, **applied)


@bp.post("/crypto")
def crypto_ipn():
    try:
        update = crypto.parse_ipn(request.get_data(), request.headers.get(crypto.SIGNATURE_HEADER),
                                  current_app.config["CRYPTO_IPN_SECRET"])
        applied = processor_events.apply_crypto(update)
    except InvalidWebhook as invalid:
        return _refused(invalid)
    return jsonify(ok=True, **applied)
