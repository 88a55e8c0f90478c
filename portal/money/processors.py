"""What the portal asks of a processor for a deposit, a held payment or a dispute, through
the app's gateways (``portal.money.gateways``): open the checkout or invoice where the
customer pays, return a held payment, submit a dispute's evidence. Money arrives later,
by a signed webhook."""

from __future__ import annotations

from flask import current_app, url_for

from portal.money import deposits, gateways
from portal.policy import CARD
from portal.payments.errors import ProcessorError
from portal.store.models import Deposit, Dispute, User
from portal.web.links import absolute


def _absolute(endpoint: str, **values) -> str:
    return absolute(url_for(endpoint, **values))


def _open(deposit: Deposit, user: User):
    back = _absolute("deposits.show", reference=deposit.reference)
    if deposit.method == CARD:
        return gateways.card().start_checkout(
            deposit_reference=deposit.reference, amount_cents=deposit.amount_cents,
            currency=deposit.currency, success_url=back, cancel_url=back, customer_email=user.email)
    return gateways.crypto().create_invoice(
        deposit_reference=deposit.reference, amount_cents=deposit.amount_cents,
        pay_currency=deposit.method, ipn_callback_url=_absolute("webhooks.crypto_ipn"),
        success_url=back, cancel_url=back)


def start_payment(deposit: Deposit, user: User) -> str | None:
    """Open the processor's checkout for ``deposit``; its URL, or None when the processor
    is unavailable (the deposit is then failed and nothing was charged)."""
    try:
        opened = _open(deposit, user)
    except (ProcessorError, OSError):
        current_app.logger.exception("processor unavailable for %s", deposit.reference)
        deposits.mark_unavailable(deposit)
        return None
    deposits.mark_checkout(deposit, processor_ref=opened.id, checkout_url=opened.url,
                           pay_currency=deposit.method if deposit.method != CARD else "")
    return opened.url


def submit_dispute_evidence(dispute: Dispute, evidence: dict[str, str]) -> None:
    """Send a dispute's evidence to the card processor and submit it (idempotent). Raises
    ``ProcessorError`` when the processor refuses or cannot be reached."""
    deposit = Deposit.get_by_id(dispute.deposit_id)
    gateways.card().submit_dispute_evidence(
        dispute_id=dispute.processor_id, payment_intent=deposit.payment_intent,
        amount_cents=dispute.amount_cents, currency=dispute.currency, evidence=evidence)


def return_held_payment(deposit: Deposit) -> None:
    """Refund a held card payment in full, in the currency it came in (idempotent). Raises
    ``ProcessorError`` when the processor refuses or cannot be reached."""
    paid = int(deposit.paid_minor or 0)
    if paid:
        gateways.card().refund(payment_intent=deposit.payment_intent, amount_cents=paid,
                               idempotency_key=f"held-return:{deposit.reference}",
                               deposit_reference=deposit.reference)
