"""The embedded demo processor: the card and crypto gateways used when no processor keys
are configured, and the events they send, exactly as Stripe and NOWPayments would send them.

The portal serves the demo's checkout and invoice pages (``/demo/checkout/<session_id>``,
``/demo/invoice/<invoice_id>``); what a customer does there, a refund, and what the demo
bank does to a dispute become correctly signed events that the gateway hands to its
``deliver`` function (the portal writes them to its outbox; a job posts them to its own
webhook endpoints after the request), which parse them with ``card.parse_event`` and
``crypto.parse_ipn`` like any production event. Nothing here is trusted by the webhooks:
only the signature is. No Flask, no database.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

import stripe

from .amounts import positive_cents
from .card import DEFAULT_PRODUCT_NAME, CheckoutSession, RefundResult
from .crypto import CURRENCIES, SIGNATURE_HEADER, Invoice, canonical_json, js_number, signature

DEMO_PAY_ADDRESS = "demo-address-not-a-real-wallet"
# The Stripe event type a refund's status is announced with.
REFUND_EVENT_TYPES = {
    "pending": "refund.created",
    "succeeded": "refund.updated",
    "canceled": "refund.updated",
    "failed": "refund.failed",
}
# Demo exchange rates (US cents per coin) and the network fee a wallet deducts (per mille
# of the coins sent): the user's fee, so less is credited than invoiced.
DEMO_RATES_CENTS = {"BTC": 9_000_000, "ETH": 300_000, "USDT": 100}
DEMO_NETWORK_FEE_PER_MILLE = {"BTC": 10, "ETH": 5, "USDT": 2}
DEMO_EVIDENCE_DAYS = 7  # Stripe's evidence deadline is usually 7 to 21 days away

# Hands (path, body, headers) on for delivery to the portal's own webhook endpoint.
Deliver = Callable[[str, bytes, dict], None]


def new_id(prefix: str) -> str:
    """A fresh, clearly fake processor id such as ``cs_demo_3f9a...``."""
    return f"{prefix}_demo_{secrets.token_hex(12)}"


@dataclass(frozen=True)
class DemoCardGateway:
    """The demo card processor (``gateways.CardGateway``), plus what its checkout page and
    the demo bank do."""

    webhook_secret: str
    deliver: Deliver
    keeps_history = False

    def _send(self, payload: bytes, now: int) -> None:
        header = stripe_signature_header(payload, self.webhook_secret, now)
        self.deliver("/webhooks/stripe", payload, {"Stripe-Signature": header})

    def start_checkout(self, *, deposit_reference, amount_cents, currency, success_url, cancel_url,
                       customer_email):
        positive_cents(amount_cents)
        session_id = new_id("cs")
        return CheckoutSession(id=session_id, url=f"/demo/checkout/{session_id}")

    def refund(self, *, payment_intent, amount_cents, idempotency_key, deposit_reference):
        """Accepted at once; the outcome (succeeded) is announced by a signed event."""
        refund_id, now = new_id("re"), int(time.time())
        self._send(refund_event(
            refund_id=refund_id, payment_intent=payment_intent, amount_cents=positive_cents(amount_cents),
            currency="usd", status="succeeded", event_id=new_id("evt"), created=now,
            deposit_reference=deposit_reference), now)
        return RefundResult(id=refund_id, status="pending")

    def submit_dispute_evidence(self, *, dispute_id, payment_intent, amount_cents, currency, evidence):
        """Evidence received: the dispute is under review."""
        self._dispute(dispute_id, payment_intent, amount_cents, currency,
                      "charge.dispute.updated", "under_review")

    def events_since(self, created_from):
        return []

    # What the customer does on the demo checkout page, and what the demo bank does.

    def pay_checkout(self, *, session_id: str, deposit_reference: str, amount_cents: int,
                     currency: str) -> None:
        """A signed, paid ``checkout.session.completed`` for the session."""
        now = int(time.time())
        self._send(checkout_completed_event(
            deposit_reference=deposit_reference, session_id=session_id, payment_intent=new_id("pi"),
            amount_cents=amount_cents, currency=currency, event_id=new_id("evt"), created=now), now)

    def cancel_checkout(self, *, session_id: str, deposit_reference: str, amount_cents: int,
                        currency: str) -> None:
        """A signed ``checkout.session.expired``: the customer gave up."""
        now = int(time.time())
        self._send(checkout_expired_event(
            deposit_reference=deposit_reference, session_id=session_id, amount_cents=amount_cents,
            currency=currency, event_id=new_id("evt"), created=now), now)

    def open_dispute(self, *, payment_intent: str, amount_cents: int, currency: str) -> str:
        """The customer's bank disputes the payment: Stripe announces the dispute and
        withdraws the funds. The new dispute's id."""
        dispute_id = new_id("dp")
        for event_type in ("charge.dispute.created", "charge.dispute.funds_withdrawn"):
            self._dispute(dispute_id, payment_intent, amount_cents, currency, event_type, "needs_response")
        return dispute_id

    def decide_dispute(self, *, dispute_id: str, payment_intent: str, amount_cents: int,
                       currency: str, won: bool) -> None:
        """The bank decides: won (the funds are reinstated) or lost."""
        status = "won" if won else "lost"
        self._dispute(dispute_id, payment_intent, amount_cents, currency, "charge.dispute.closed", status)
        if won:
            self._dispute(dispute_id, payment_intent, amount_cents, currency,
                          "charge.dispute.funds_reinstated", status)

    def _dispute(self, dispute_id, payment_intent, amount_cents, currency, event_type, status) -> None:
        now = int(time.time())
        self._send(dispute_event(
            event_type, dispute_id=dispute_id, payment_intent=payment_intent, amount_cents=amount_cents,
            currency=currency, status=status, event_id=new_id("evt"), created=now,
            due_by=now + DEMO_EVIDENCE_DAYS * 86400), now)


@dataclass(frozen=True)
class Quote:
    coin: str
    pay_minor: int  # what the invoice asks for, in the coin's smallest unit
    fee_minor: int  # what the demo wallet's network fee takes off on the way


@dataclass(frozen=True)
class DemoCryptoGateway:
    """The demo crypto processor (``gateways.CryptoGateway``), plus its invoice page's wallet."""

    ipn_secret: str
    deliver: Deliver
    keeps_history = False

    def create_invoice(self, *, deposit_reference, amount_cents, pay_currency, ipn_callback_url,
                       success_url, cancel_url):
        positive_cents(amount_cents)
        CURRENCIES[pay_currency]  # KeyError for a coin the processor would refuse
        invoice_id = new_id("inv")
        return Invoice(id=invoice_id, url=f"/demo/invoice/{invoice_id}")

    def invoice_payments(self, invoice_id):
        return []

    @staticmethod
    def quote(coin: str, amount_cents: int) -> Quote:
        """The coin amount of a demo invoice: the USD price at the demo rate, rounded up."""
        pay = -(-amount_cents * CURRENCIES[coin].minor_per_coin // DEMO_RATES_CENTS[coin])
        return Quote(coin, pay, pay * DEMO_NETWORK_FEE_PER_MILLE[coin] // 1000)

    def pay_invoice(self, *, deposit_reference: str, coin: str, amount_cents: int,
                    status: str = "finished") -> None:
        """A signed IPN: the coins arrived (less the wallet's network fee) with ``status``."""
        offer = self.quote(coin, amount_cents)
        body = ipn_body(
            payment_id=secrets.randbelow(10**12), order_id=deposit_reference, status=status,
            pay_currency=coin, price_amount_cents=amount_cents, pay_amount_minor=offer.pay_minor,
            actually_paid_minor=offer.pay_minor - offer.fee_minor if status == "finished" else 0)
        signed = signed_ipn(body, self.ipn_secret)
        self.deliver("/webhooks/crypto", signed.body, {SIGNATURE_HEADER: signed.signature})


def stripe_signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256 of "t.payload">``: Stripe's own scheme."""
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode("utf-8"), secret, timestamp=timestamp
    )


def _event(*, event_id: str, event_type: str, created: int, obj: dict[str, Any]) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "api_version": stripe.api_version,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    return json.dumps(event, indent=2).encode("utf-8")


# The (payment_status, status) a session has when Stripe sends each checkout event.
CHECKOUT_SESSION_STATES = {
    "checkout.session.completed": ("paid", "complete"),
    "checkout.session.async_payment_succeeded": ("paid", "complete"),
    "checkout.session.async_payment_failed": ("unpaid", "complete"),
    "checkout.session.expired": ("unpaid", "expired"),
}


def checkout_event(
    event_type: str,
    *,
    deposit_reference: str,
    session_id: str,
    payment_intent: str | None,
    amount_cents: int,
    currency: str,
    event_id: str,
    created: int,
) -> bytes:
    """Any ``checkout.session.*`` event (``CHECKOUT_SESSION_STATES``) for a one-line session."""
    payment_status, status = CHECKOUT_SESSION_STATES[event_type]
    metadata = {"deposit_reference": deposit_reference}
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount_cents,
        "amount_total": amount_cents,
        "client_reference_id": deposit_reference,
        "created": created,
        "currency": currency.lower(),
        "expires_at": created + 86400,
        "livemode": False,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "status": status,
        "url": None,
    }
    return _event(event_id=event_id, event_type=event_type, created=created, obj=session)


def checkout_completed_event(**fields: Any) -> bytes:
    """A paid ``checkout.session.completed``; keyword fields as ``checkout_event``'s."""
    return checkout_event("checkout.session.completed", **fields)


def checkout_expired_event(**fields: Any) -> bytes:
    """A ``checkout.session.expired`` (never paid, so no payment_intent); fields as
    ``checkout_event``'s."""
    return checkout_event("checkout.session.expired", payment_intent=None, **fields)


def refund_event(
    *,
    refund_id: str,
    payment_intent: str,
    amount_cents: int,
    currency: str,
    status: str,
    event_id: str,
    created: int,
    deposit_reference: str | None = None,
) -> bytes:
    """A refund event announcing ``status`` (pending, succeeded, failed or canceled)."""
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount_cents,
        "charge": None,
        "created": created,
        "currency": currency.lower(),
        "failure_reason": "declined" if status == "failed" else None,
        "metadata": {"deposit_reference": deposit_reference} if deposit_reference else {},
        "payment_intent": payment_intent,
        "reason": "requested_by_customer",
        "status": status,
    }
    return _event(
        event_id=event_id, event_type=REFUND_EVENT_TYPES[status], created=created, obj=refund
    )


def dispute_event(
    event_type: str,
    *,
    dispute_id: str,
    payment_intent: str,
    amount_cents: int,
    currency: str,
    status: str,
    event_id: str,
    created: int,
    reason: str = "fraudulent",
    due_by: int | None = None,
) -> bytes:
    """A ``charge.dispute.*`` event for a dispute of the charge of ``payment_intent``."""
    dispute = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount_cents,
        "charge": "ch_" + payment_intent.removeprefix("pi_"),
        "created": created,
        "currency": currency.lower(),
        "evidence_details": {"due_by": due_by, "has_evidence": False, "past_due": False,
                             "submission_count": 0},
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": reason,
        "status": status,
    }
    return _event(event_id=event_id, event_type=event_type, created=created, obj=dispute)


def _wire_amount(minor: int, decimals: int) -> Decimal | str:
    """A coin amount as NOWPayments sends it: a JSON number, or a decimal string when a
    double cannot carry all its digits (``parse_ipn`` refuses such numbers)."""
    amount = Decimal(minor).scaleb(-decimals)
    return amount if Decimal(js_number(amount)) == amount else format(amount, "f")


def ipn_body(
    *,
    payment_id: int,
    order_id: str,
    status: str,
    pay_currency: str,
    price_amount_cents: int,
    pay_amount_minor: int,
    actually_paid_minor: int,
    invoice_id: int | None = None,
    created_at: str = "2025-01-01T00:00:00.000Z",
    updated_at: str = "2025-01-01T00:00:00.000Z",
) -> dict[str, Any]:
    """A NOWPayments IPN body. ``pay_currency`` is BTC, ETH or USDT; amounts in minor units."""
    coin = CURRENCIES[pay_currency]
    paid = _wire_amount(actually_paid_minor, coin.decimals)
    return {
        "payment_id": payment_id,
        "parent_payment_id": None,
        "invoice_id": invoice_id,
        "payment_status": status,
        "pay_address": DEMO_PAY_ADDRESS,
        "payin_extra_id": None,
        "price_amount": _wire_amount(price_amount_cents, 2),
        "price_currency": "usd",
        "pay_amount": _wire_amount(pay_amount_minor, coin.decimals),
        "actually_paid": paid,
        "actually_paid_at_fiat": 0,
        "pay_currency": coin.invoice_ticker,
        "order_id": order_id,
        "order_description": DEFAULT_PRODUCT_NAME,
        "purchase_id": str(payment_id),
        "outcome_amount": paid,
        "outcome_currency": coin.invoice_ticker,
        "payment_extra_ids": None,
        "fee": {"currency": coin.invoice_ticker, "depositFee": 0, "withdrawalFee": 0, "serviceFee": 0},
        "created_at": created_at,
        "updated_at": updated_at,
    }


@dataclass(frozen=True)
class SignedIpn:
    """What to POST to ``/webhooks/crypto``: the body and its ``x-nowpayments-sig``."""

    body: bytes
    signature: str


def signed_ipn(body: dict[str, Any], secret: str) -> SignedIpn:
    """Serialize and sign an IPN body (it holds Decimals: plain ``json.dumps`` refuses it)."""
    return SignedIpn(body=canonical_json(body).encode("utf-8"), signature=signature(body, secret))
