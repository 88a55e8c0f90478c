"""The embedded demo processor: what a customer "pays" on the demo checkout and invoice
pages (and what staff do to a demo dispute) becomes a correctly signed Stripe event or
crypto IPN, delivered to the portal's own webhook endpoints through the whole WSGI stack. Demo and production share one code path
from the webhook on; nothing here touches the ledger."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import current_app

from portal.store.models import Deposit
from portal.payments import demo
from portal.payments.crypto import CURRENCIES, SIGNATURE_HEADER

# Demo exchange rates (US cents per coin) and the network fee a wallet deducts (per mille
# of the coins sent): the user's fee, so less is credited than invoiced.
DEMO_RATES_CENTS = {"BTC": 9_000_000, "ETH": 300_000, "USDT": 100}
DEMO_NETWORK_FEE_PER_MILLE = {"BTC": 10, "ETH": 5, "USDT": 2}
DEMO_EVIDENCE_DAYS = 7  # Stripe's evidence deadline is usually 7 to 21 days away


@dataclass(frozen=True)
class Quote:
    coin: str
    pay_minor: int  # what the invoice asks for, in the coin's smallest unit
    fee_minor: int  # what the demo wallet's network fee takes off on the way


def quote(deposit: Deposit) -> Quote:
    """The coin amount of a demo invoice: the USD price at the demo rate, rounded up."""
    coin = deposit.method
    per_coin = CURRENCIES[coin].minor_per_coin
    pay = -(-deposit.amount_cents * per_coin // DEMO_RATES_CENTS[coin])
    return Quote(coin, pay, pay * DEMO_NETWORK_FEE_PER_MILLE[coin] // 1000)


def _deliver(path: str, body: bytes, headers: dict) -> int:
    """POST to our own webhook through the full app, as the processor would (in an app
    context of its own, so the delivery shares no ``g`` with the customer's request)."""
    app = current_app._get_current_object()
    with app.app_context():
        response = app.test_client().post(
            path, data=body, headers={"Content-Type": "application/json", **headers}
        )
    return response.status_code


def pay_card(deposit: Deposit) -> int:
    """Send a signed, paid ``checkout.session.completed`` for the deposit's session."""
    now = int(time.time())
    payload = demo.checkout_completed_event(
        deposit_reference=deposit.reference, session_id=deposit.processor_ref,
        payment_intent=demo.new_id("pi"), amount_cents=deposit.amount_cents,
        currency=deposit.currency, event_id=demo.new_id("evt"), created=now,
    )
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    header = demo.stripe_signature_header(payload, secret, now)
    return _deliver("/webhooks/stripe", payload, {"Stripe-Signature": header})


def cancel_card(deposit: Deposit) -> int:
    """Send a signed ``checkout.session.expired``: the customer gave up."""
    now = int(time.time())
    payload = demo.checkout_expired_event(
        deposit_reference=deposit.reference, session_id=deposit.processor_ref,
        amount_cents=deposit.amount_cents, currency=deposit.currency,
        event_id=demo.new_id("evt"), created=now,
    )
    header = demo.stripe_signature_header(payload, current_app.config["STRIPE_WEBHOOK_SECRET"], now)
    return _deliver("/webhooks/stripe", payload, {"Stripe-Signature": header})


def pay_invoice(deposit: Deposit, status: str = "finished") -> int:
    """Send a signed IPN: the coins arrived (less the network fee) with ``status``."""
    offer = quote(deposit)
    body = demo.ipn_body(
        payment_id=secrets.randbelow(10**12), order_id=deposit.reference, status=status,
        pay_currency=offer.coin, price_amount_cents=deposit.amount_cents,
        pay_amount_minor=offer.pay_minor,
        actually_paid_minor=offer.pay_minor - offer.fee_minor if status == "finished" else 0,
    )
    signed = demo.signed_ipn(body, current_app.config["CRYPTO_IPN_SECRET"])
    return _deliver("/webhooks/crypto", signed.body, {SIGNATURE_HEADER: signed.signature})


def refund_outcome(deposit: Deposit, refund_id: str, amount_cents: int, status: str) -> int:
    """Send a signed refund event announcing ``status``, as Stripe does once a refund of
    the deposit's PaymentIntent settles (``succeeded``) or fails (``failed``)."""
    now = int(time.time())
    payload = demo.refund_event(
        refund_id=refund_id, payment_intent=deposit.payment_intent, amount_cents=amount_cents,
        currency=deposit.currency, status=status, event_id=demo.new_id("evt"), created=now,
        deposit_reference=deposit.reference,
    )
    header = demo.stripe_signature_header(payload, current_app.config["STRIPE_WEBHOOK_SECRET"], now)
    return _deliver("/webhooks/stripe", payload, {"Stripe-Signature": header})


def _dispute_event(dispute_id: str, deposit: Deposit, amount_cents: int, event_type: str,
                   status: str) -> int:
    now = int(time.time())
    payload = demo.dispute_event(
        event_type, dispute_id=dispute_id, payment_intent=deposit.payment_intent,
        amount_cents=amount_cents, currency=deposit.currency, status=status,
        event_id=demo.new_id("evt"), created=now, due_by=now + DEMO_EVIDENCE_DAYS * 86400,
    )
    header = demo.stripe_signature_header(payload, current_app.config["STRIPE_WEBHOOK_SECRET"], now)
    return _deliver("/webhooks/stripe", payload, {"Stripe-Signature": header})


def open_dispute(deposit: Deposit) -> str:
    """The customer's bank disputes the deposit's payment in full: Stripe announces the
    dispute and withdraws the funds. The new dispute's id."""
    dispute_id = demo.new_id("dp")
    for event_type in ("charge.dispute.created", "charge.dispute.funds_withdrawn"):
        _dispute_event(dispute_id, deposit, deposit.credited_cents, event_type, "needs_response")
    return dispute_id


def evidence_received(dispute) -> None:
    """Stripe acknowledges submitted evidence: the dispute is under review."""
    _dispute_event(dispute.processor_id, Deposit.get_by_id(dispute.deposit_id), dispute.amount_cents,
                   "charge.dispute.updated", "under_review")


def close_dispute(dispute, won: bool) -> None:
    """The bank decides: won (the funds are reinstated) or lost."""
    deposit = Deposit.get_by_id(dispute.deposit_id)
    status = "won" if won else "lost"
    _dispute_event(dispute.processor_id, deposit, dispute.amount_cents, "charge.dispute.closed", status)
    if won:
        _dispute_event(dispute.processor_id, deposit, dispute.amount_cents,
                       "charge.dispute.funds_reinstated", status)
