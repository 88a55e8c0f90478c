"""The embedded demo processor's signing side: what Stripe and NOWPayments would send.

With no processor keys configured the portal serves its own checkout and invoice pages
(``/demo/checkout/<session_id>``, ``/demo/invoice/<invoice_id>``). Their "pay" buttons post
the bodies built here, signed with the configured webhook secrets, to the real webhook
endpoints, which parse them with ``card.parse_event`` and ``crypto.parse_ipn`` like any
production event. Nothing here is trusted by the webhooks: only the signature is.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe

from .amounts import positive_cents
from .card import DEFAULT_PRODUCT_NAME, CheckoutSession, RefundResult
from .crypto import CURRENCIES, Invoice, canonical_json, js_number, signature

DEMO_PAY_ADDRESS = "demo-address-not-a-real-wallet"
# The Stripe event type a refund's status is announced with.
REFUND_EVENT_TYPES = {
    "pending": "refund.created",
    "succeeded": "refund.updated",
    "canceled": "refund.updated",
    "failed": "refund.failed",
}


def new_id(prefix: str) -> str:
    """A fresh, clearly fake processor id such as ``cs_demo_3f9a...``."""
    return f"{prefix}_demo_{secrets.token_hex(12)}"


def demo_checkout_session(*, deposit_reference: str, amount_cents: int, currency: str) -> CheckoutSession:
    """A demo Checkout Session; the portal keeps the (reference, amount) it was made for."""
    positive_cents(amount_cents)
    session_id = new_id("cs")
    return CheckoutSession(id=session_id, url=f"/demo/checkout/{session_id}")


def demo_invoice(*, deposit_reference: str, amount_cents: int, pay_currency: str) -> Invoice:
    """A demo crypto invoice, shown by the portal at its own ``/demo/invoice/<id>``."""
    positive_cents(amount_cents)
    CURRENCIES[pay_currency]  # KeyError for a coin the processor would refuse
    invoice_id = new_id("inv")
    return Invoice(id=invoice_id, url=f"/demo/invoice/{invoice_id}")


def demo_refund(*, payment_intent: str, amount_cents: int) -> RefundResult:
    """A demo refund, pending until the portal sends its ``refund_event``."""
    return RefundResult(id=new_id("re"), status="pending")


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
