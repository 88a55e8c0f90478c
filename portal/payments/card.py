"""Card deposits through Stripe Checkout: create sessions and refunds, read signed events.

All API calls go through a fresh ``stripe.StripeClient`` built from the arguments of the
call (api key, optional ``api_base``), so no global ``stripe.api_key`` is ever set and tests
can point one call at a local fake server. Library errors become ``ProcessorError``.

Events are plain Stripe Events; ``checkout_outcome`` and ``refund_outcome`` reduce the few
types the portal acts on to small frozen records with ``int`` cent amounts.
"""

from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import stripe

from .amounts import positive_cents
from .errors import InvalidWebhook, ProcessorError

TOLERANCE = 300
# Stripe's largest amount has eight digits; beyond this bound (below the ledger's limit) a
# number is not an amount of theirs.
MAX_CENTS = 10**12
DEFAULT_PRODUCT_NAME = "1001sms.com balance deposit"

CHECKOUT_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
REFUND_EVENTS = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated", "charge.refunded"}
)
DISPUTE_EVENTS = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)
# Every status Stripe documents for a Dispute ("warning_*" ones are inquiries: no funds move).
DISPUTE_STATUSES = frozenset(
    {
        "warning_needs_response",
        "warning_under_review",
        "warning_closed",
        "needs_response",
        "under_review",
        "won",
        "lost",
        "prevented",
    }
)
# Stripe's refund statuses, reduced to the four the portal distinguishes.
REFUND_STATUSES = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
}


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class CardPayment:
    """What one checkout event says about a deposit. At most one of paid/failed/expired."""

    deposit_reference: str
    session_id: str
    payment_intent: str | None
    amount_cents: int
    currency: str
    paid: bool
    failed: bool
    expired: bool
    event_id: str
    event_type: str
    created: int


@dataclass(frozen=True)
class DisputeUpdate:
    """What one ``charge.dispute.*`` event says about a dispute of a card payment."""

    dispute_id: str
    payment_intent: str | None
    charge: str | None
    amount_cents: int
    currency: str
    status: str
    reason: str
    due_by: int | None  # evidence_details.due_by, a Unix time
    event_id: str
    event_type: str
    created: int


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str


@dataclass(frozen=True)
class RefundUpdate:
    """What one refund event says. ``refund_id`` is None only for a ``charge.refunded``
    event whose charge does not list exactly one refund; match on payment_intent then.
    For ``charge.refunded`` ``amount_cents`` is the charge's cumulative amount refunded."""

    refund_id: str | None
    payment_intent: str | None
    amount_cents: int
    status: str
    event_id: str
    event_type: str
    deposit_reference: str | None
    failure_reason: str | None


def _client(api_key: str, api_base: str | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key, base_addresses={"api": api_base} if api_base else None
    )


def _call(create, params: dict[str, Any], idempotency_key: str):
    if not idempotency_key:
        raise ValueError("an idempotency key is required")
    try:
        return create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise ProcessorError(
            exc.user_message or str(exc), http_status=exc.http_status, code=exc.code
        ) from exc


def create_checkout_session(
    *,
    api_key: str,
    deposit_reference: str,
    amount_cents: int,
    currency: str,
    success_url: str,
    cancel_url: str,
    customer_email: str | None,
    idempotency_key: str,
    api_base: str | None = None,
    product_name: str = DEFAULT_PRODUCT_NAME,
) -> CheckoutSession:
    """Create a one-line, mode=payment Checkout Session carrying our deposit reference."""
    metadata = {"deposit_reference": deposit_reference}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": positive_cents(amount_cents),
                    "product_data": {"name": product_name},
                },
            }
        ],
        "client_reference_id": deposit_reference,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if customer_email:
        params["customer_email"] = customer_email
    session = _call(
        _client(api_key, api_base).v1.checkout.sessions.create, params, idempotency_key
    )
    return CheckoutSession(id=session.id, url=session.url)


def create_refund(
    *,
    api_key: str,
    payment_intent: str,
    amount_cents: int,
    idempotency_key: str,
    api_base: str | None = None,
    deposit_reference: str | None = None,
) -> RefundResult:
    """Refund ``amount_cents`` of a PaymentIntent. The final status arrives by webhook."""
    params: dict[str, Any] = {"payment_intent": payment_intent, "amount": positive_cents(amount_cents)}
    if deposit_reference:
        params["metadata"] = {"deposit_reference": deposit_reference}
    refund = _call(_client(api_key, api_base).v1.refunds.create, params, idempotency_key)
    return RefundResult(id=refund.id, status=REFUND_STATUSES.get(refund.status, "pending"))


_SECONDS = re.compile(r"[0-9]{1,15}")  # Unix time in ASCII digits


def _signed_at(header: str) -> int:
    """The ``t=`` of a Stripe-Signature header, in ASCII digits (the library's ``int()``
    also reads ``1_7``, ``-17`` and any script's digits)."""
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            if _SECONDS.fullmatch(value):
                return int(value)
            break
    raise InvalidWebhook("signature.malformed", "no integer t= in Stripe-Signature")


def parse_event(
    payload: bytes,
    signature_header: str | None,
    secret: str,
    tolerance: int = TOLERANCE,
    now: int | None = None,
) -> stripe.Event:
    """Verify a webhook's ``Stripe-Signature`` and return its Event.

    The HMAC is checked by the library (``stripe.WebhookSignature.verify_header``). The
    library's own age check reads ``time.time()`` and only rejects the past, so it is
    switched off (tolerance 0) and the window is checked here against ``now`` (default:
    ``time.time()``) with the library's rule: stale when ``t < now - tolerance``. A
    timestamp more than ``tolerance`` ahead is refused too: a signature can never extend
    the replay window beyond ``tolerance`` around our clock.
    Every failure raises ``InvalidWebhook``; a missing secret is a configuration error
    (``ValueError``), not the sender's fault.
    """
    if not secret:
        raise ValueError("STRIPE_WEBHOOK_SECRET is not configured")
    if not signature_header:
        raise InvalidWebhook("signature.missing")
    timestamp = _signed_at(signature_header)
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, tolerance=0)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook("signature.mismatch", str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise InvalidWebhook("payload.malformed", "body is not UTF-8") from exc
    now = int(time.time()) if now is None else now
    if timestamp < now - tolerance:
        raise InvalidWebhook("signature.expired", f"signed {now - timestamp} s ago")
    if timestamp > now + tolerance:
        raise InvalidWebhook("signature.future", f"signed {timestamp - now} s ahead")
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise InvalidWebhook("payload.malformed", "body is not JSON") from exc
    if not (
        isinstance(data, dict)
        and data.get("object") == "event"
        and isinstance(data.get("id"), str)
        and isinstance(data.get("type"), str)
        and isinstance(data.get("data"), dict)
        and isinstance(data["data"].get("object"), dict)
    ):
        raise InvalidWebhook("payload.malformed", "not a Stripe event")
    return stripe.Event.construct_from(data, None)


def _event_fields(event: stripe.Event) -> tuple[str, str, int, dict[str, Any]]:
    data = event.to_dict()
    created = data.get("created")
    if type(created) is not int:
        raise InvalidWebhook("payload.malformed", f"created {created!r}")
    return data["id"], data["type"], created, data["data"]["object"]


def _cents(value: Any, field: str) -> int:
    # JSON numbers arrive as int or float; bool is an int subclass. Only a true int passes.
    if type(value) is not int or not 0 <= value <= MAX_CENTS:
        raise InvalidWebhook("payload.amount",
                             f"{field} must be an integer from 0 to {MAX_CENTS}, got {value!r}")
    return value


def _currency(value: Any) -> str:
    """An ISO 4217 code as Stripe writes it (three lower-case letters), upper-cased."""
    if not isinstance(value, str) or not re.fullmatch(r"[a-z]{3}", value):
        raise InvalidWebhook("payload.currency", f"currency {value!r}")
    return value.upper()


def _id_or_none(value: Any) -> str | None:
    """An id field that may be absent, an id string, or an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or isinstance(value, str):
        return value
    raise InvalidWebhook("payload.malformed", f"expected an id, got {value!r}")


def _deposit_reference(obj: dict[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    from_metadata = metadata.get("deposit_reference") if isinstance(metadata, dict) else None
    reference = obj.get("client_reference_id") or from_metadata
    if reference is not None and not isinstance(reference, str):
        raise InvalidWebhook("payload.malformed", f"deposit reference {reference!r}")
    if from_metadata and reference != from_metadata:
        raise InvalidWebhook("payload.malformed", "client_reference_id and metadata disagree")
    return reference


def checkout_outcome(event: stripe.Event) -> CardPayment | None:
    """Reduce a checkout.session.* event to a CardPayment; None for other event types
    and for sessions this portal did not create (no deposit reference).

    ``paid`` only for completed/async_payment_succeeded with payment_status "paid"; a
    completed session still "unpaid" (delayed payment methods) is neither paid, failed
    nor expired: wait for the async event.
    """
    event_id, event_type, created, session = _event_fields(event)
    if event_type not in CHECKOUT_EVENTS:
        return None
    if session.get("object") != "checkout.session" or not isinstance(session.get("id"), str):
        raise InvalidWebhook("payload.malformed", "data.object is not a checkout.session")
    reference = _deposit_reference(session)
    if reference is None:
        return None
    currency = _currency(session.get("currency"))
    paid = session.get("payment_status") == "paid" and event_type in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    )
    return CardPayment(
        deposit_reference=reference,
        session_id=session["id"],
        payment_intent=_id_or_none(session.get("payment_intent")),
        amount_cents=_cents(session.get("amount_total"), "amount_total"),
        currency=currency,
        paid=paid,
        failed=event_type == "checkout.session.async_payment_failed",
        expired=event_type == "checkout.session.expired",
        event_id=event_id,
        event_type=event_type,
        created=created,
    )


def _only_refund_id(charge: dict[str, Any]) -> str | None:
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    if isinstance(listed, list) and len(listed) == 1 and isinstance(listed[0], dict):
        return _id_or_none(listed[0].get("id"))
    return None


def refund_outcome(event: stripe.Event) -> RefundUpdate | None:
    """Reduce a refund event (or charge.refunded) to a RefundUpdate; None for others."""
    event_id, event_type, _, obj = _event_fields(event)
    if event_type not in REFUND_EVENTS:
        return None
    if event_type == "charge.refunded":
        if obj.get("object") != "charge":
            raise InvalidWebhook("payload.malformed", "data.object is not a charge")
        return RefundUpdate(
            refund_id=_only_refund_id(obj),
            payment_intent=_id_or_none(obj.get("payment_intent")),
            amount_cents=_cents(obj.get("amount_refunded"), "amount_refunded"),
            status="succeeded",
            event_id=event_id,
            event_type=event_type,
            deposit_reference=_deposit_reference(obj),
            failure_reason=None,
        )
    if obj.get("object") != "refund" or not isinstance(obj.get("id"), str):
        raise InvalidWebhook("payload.malformed", "data.object is not a refund")
    status = "failed" if event_type == "refund.failed" else REFUND_STATUSES.get(obj.get("status"))
    if status is None:
        raise InvalidWebhook("payload.status", f"refund status {obj.get('status')!r}")
    return RefundUpdate(
        refund_id=obj["id"],
        payment_intent=_id_or_none(obj.get("payment_intent")),
        amount_cents=_cents(obj.get("amount"), "amount"),
        status=status,
        event_id=event_id,
        event_type=event_type,
        deposit_reference=_deposit_reference(obj),
        failure_reason=obj.get("failure_reason"),
    )


def dispute_outcome(event: stripe.Event) -> DisputeUpdate | None:
    """Reduce a ``charge.dispute.*`` event to a DisputeUpdate; None for other event types."""
    event_id, event_type, created, dispute = _event_fields(event)
    if event_type not in DISPUTE_EVENTS:
        return None
    if dispute.get("object") != "dispute" or not isinstance(dispute.get("id"), str):
        raise InvalidWebhook("payload.malformed", "data.object is not a dispute")
    status = dispute.get("status")
    if status not in DISPUTE_STATUSES:
        raise InvalidWebhook("payload.status", f"dispute status {status!r}")
    details = dispute.get("evidence_details") or {}
    due_by = details.get("due_by") if isinstance(details, dict) else None
    if due_by is not None and type(due_by) is not int:
        raise InvalidWebhook("payload.malformed", f"evidence_details.due_by {due_by!r}")
    reason = dispute.get("reason") or ""
    if not isinstance(reason, str):
        raise InvalidWebhook("payload.malformed", f"reason {reason!r}")
    amount = _cents(dispute.get("amount"), "amount")
    if amount == 0:
        raise InvalidWebhook("payload.amount", "a dispute of nothing")
    return DisputeUpdate(
        dispute_id=dispute["id"],
        payment_intent=_id_or_none(dispute.get("payment_intent")),
        charge=_id_or_none(dispute.get("charge")),
        amount_cents=amount,
        currency=_currency(dispute.get("currency")),
        status=status,
        reason=reason[:64],
        due_by=due_by,
        event_id=event_id,
        event_type=event_type,
        created=created,
    )


def submit_dispute_evidence(*, api_key: str, dispute_id: str, evidence: dict[str, str],
                            idempotency_key: str, api_base: str | None = None) -> str:
    """Send the evidence of a dispute and submit it (``Dispute.modify`` with ``submit``);
    the dispute's status afterwards."""
    update = functools.partial(_client(api_key, api_base).v1.disputes.update, dispute_id)
    dispute = _call(update, {"evidence": evidence, "submit": True}, idempotency_key)
    return dispute.status


# The event types the portal acts on: what reconciliation asks Stripe for.
HANDLED_EVENTS = tuple(sorted(CHECKOUT_EVENTS | REFUND_EVENTS | DISPUTE_EVENTS))


def events_since(*, api_key: str, created_from: int, api_base: str | None = None) -> list[stripe.Event]:
    """Every event of ``HANDLED_EVENTS`` created at or after ``created_from`` (Unix time),
    oldest first, read with the library's auto-pagination."""
    params = {"created": {"gte": created_from}, "types": list(HANDLED_EVENTS), "limit": 100}
    try:
        listed = _client(api_key, api_base).v1.events.list(params=params)
        events = list(listed.auto_paging_iter())
    except stripe.StripeError as exc:
        raise ProcessorError(exc.user_message or str(exc), http_status=exc.http_status,
                             code=exc.code) from exc
    return sorted(events, key=lambda event: (event.created, event.id))
