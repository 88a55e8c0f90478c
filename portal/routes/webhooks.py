"""Processor callbacks, ``POST /webhooks/stripe`` and ``POST /webhooks/crypto`` (signed), and
SMS pushed by the upstream, ``POST /webhooks/sms/<provider>`` (``portal.numbers.pushes``).

A callback that fails verification, or is validly signed but malformed, answers 400 with
its logged reason and writes nothing. A verified one is applied idempotently
(``portal.money.processor_events``) and answers 200, also when it changes nothing (a duplicate, a
late event, a deposit we do not know), so the processor stops retrying.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from portal.money import processor_events
from portal.numbers import pushes, rentals
from portal.store.fields import utcnow
from portal.web import views
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


@bp.post("/sms/<provider>")
def sms_push(provider: str):
    """An unsigned push: its source must be allowed, and the provider confirms it."""
    current = rentals.provider_for(current_app)
    if provider != rentals.provider_name(current):
        abort(404)
    if not pushes.allowed(views.client_ip(), current_app.config["SMS_PUSH_ALLOWED"]):
        current_app.logger.warning("SMS push from %s refused: not an allowed source", views.client_ip())
        return jsonify(error="push.source_not_allowed"), 403
    fields = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    try:
        push = pushes.parse(fields if isinstance(fields, dict) else {})
    except pushes.InvalidPush as invalid:
        return jsonify(error=invalid.reason), 400
    outcome = pushes.confirm(push, provider, current, utcnow())
    answer = jsonify(ok=outcome.status == 200, result=outcome.reason)
    if outcome.status == 503:
        answer.headers["Retry-After"] = "5"
    return answer, outcome.status
