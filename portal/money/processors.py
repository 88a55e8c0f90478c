"""Where a new deposit is paid: Stripe Checkout or the crypto processor's invoice when
their keys are configured, otherwise the embedded demo processor's pages. Either way the
money arrives later, by a signed webhook to the same endpoints. A dispute's evidence goes
the same way: to Stripe, or to the demo processor, which answers as Stripe does."""

from __future__ import annotations

from flask import current_app, url_for

from portal.money import deposits
from portal.store.models import Deposit, User
from portal.payments import card, crypto, demo
from portal.payments.errors import ProcessorError


def _absolute(endpoint: str, **values) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


def _card_checkout(deposit: Deposit, user: User) -> tuple[str, str]:
    config = current_app.config
    if config["CARD_PROCESSOR"] == "demo":
        session = demo.demo_checkout_session(deposit_reference=deposit.reference,
                                             amount_cents=deposit.amount_cents,
                                             currency=deposit.currency)
        return session.id, url_for("demo.checkout", session_id=session.id)
    session = card.create_checkout_session(
        api_key=config["STRIPE_SECRET_KEY"], deposit_reference=deposit.reference,
        amount_cents=deposit.amount_cents, currency=deposit.currency,
        success_url=_absolute("deposits.show", reference=deposit.reference),
        cancel_url=_absolute("deposits.show", reference=deposit.reference),
        customer_email=user.email, idempotency_key=f"checkout:{deposit.reference}",
        api_base=config["STRIPE_API_BASE"],
    )
    return session.id, session.url


def _crypto_invoice(deposit: Deposit) -> tuple[str, str]:
    config = current_app.config
    if config["CRYPTO_PROCESSOR"] == "demo":
        invoice = demo.demo_invoice(deposit_reference=deposit.reference,
                                    amount_cents=deposit.amount_cents, pay_currency=deposit.method)
        return invoice.id, url_for("demo.invoice", invoice_id=invoice.id)
    invoice = crypto.create_invoice(
        api_key=config["CRYPTO_API_KEY"], deposit_reference=deposit.reference,
        amount_cents=deposit.amount_cents, pay_currency=deposit.method,
        ipn_callback_url=_absolute("webhooks.crypto_ipn"),
        success_url=_absolute("deposits.show", reference=deposit.reference),
        cancel_url=_absolute("deposits.show", reference=deposit.reference),
        **({"api_base": config["CRYPTO_API_BASE"]} if config["CRYPTO_API_BASE"] else {}),
    )
    return invoice.id, invoice.url


def start_payment(deposit: Deposit, user: User) -> str | None:
    """Open the processor's checkout for ``deposit``; its URL, or None when the processor
    is unavailable (the deposit is then failed and nothing was charged)."""
    try:
        if deposit.method == "card":
            ref, url = _card_checkout(deposit, user)
        else:
            ref, url = _crypto_invoice(deposit)
    except (ProcessorError, OSError):
        current_app.logger.exception("processor unavailable for %s", deposit.reference)
        deposits.mark_unavailable(deposit)
        return None
    deposits.mark_checkout(deposit, processor_ref=ref, checkout_url=url,
                           pay_currency=deposit.method if deposit.method != "card" else "")
    return url


def submit_dispute_evidence(dispute, evidence: dict[str, str]) -> None:
    """Send a dispute's evidence to the card processor and submit it (idempotent). Raises
    ``ProcessorError`` when the processor refuses or cannot be reached."""
    config = current_app.config
    if config["CARD_PROCESSOR"] == "demo":
        from portal.money import demo_processor

        demo_processor.evidence_received(dispute)
        return
    try:
        card.submit_dispute_evidence(
            api_key=config["STRIPE_SECRET_KEY"], dispute_id=dispute.processor_id, evidence=evidence,
            idempotency_key=f"dispute-evidence:{dispute.processor_id}", api_base=config["STRIPE_API_BASE"])
    except OSError as unreachable:
        raise ProcessorError(f"processor unreachable: {unreachable}") from unreachable


def return_held_payment(deposit: Deposit) -> None:
    """Refund a held card payment in full, in the currency it came in (idempotent). Raises
    ``ProcessorError`` when the processor refuses or cannot be reached."""
    paid = int(deposit.paid_minor or 0)
    if paid == 0:
        return
    config = current_app.config
    if config["CARD_PROCESSOR"] == "demo":
        demo.demo_refund(payment_intent=deposit.payment_intent, amount_cents=paid)
        return
    try:
        card.create_refund(api_key=config["STRIPE_SECRET_KEY"], payment_intent=deposit.payment_intent,
                           amount_cents=paid, idempotency_key=f"held-return:{deposit.reference}",
                           api_base=config["STRIPE_API_BASE"], deposit_reference=deposit.reference)
    except OSError as unreachable:
        raise ProcessorError(f"processor unreachable: {unreachable}") from unreachable
