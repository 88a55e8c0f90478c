"""One gateway per kind of processor: what the portal asks a card processor and a crypto
processor to do, as two protocols, and their real implementations (Stripe through the
official library, a NOWPayments-style crypto processor). The demo processor implements the
same protocols in ``portal.payments.demo``; ``portal.money.gateways`` chooses one of each
when the app is built.

Whatever gateway answers, money arrives later by a signed event to the webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import stripe

from . import card, crypto
from .card import CheckoutSession, RefundResult
from .crypto import Invoice, IpnUpdate


class CardGateway(Protocol):
    keeps_history: bool  # can list its past events (reconciliation)

    def start_checkout(self, *, deposit_reference: str, amount_cents: int, currency: str,
                       success_url: str, cancel_url: str, customer_email: str | None) -> CheckoutSession: ...

    def refund(self, *, payment_intent: str, amount_cents: int, idempotency_key: str,
               deposit_reference: str) -> RefundResult: ...

    def submit_dispute_evidence(self, *, dispute_id: str, payment_intent: str, amount_cents: int,
                                currency: str, evidence: dict[str, str]) -> None: ...

    def events_since(self, created_from: int) -> list[stripe.Event]: ...


class CryptoGateway(Protocol):
    keeps_history: bool

    def create_invoice(self, *, deposit_reference: str, amount_cents: int, pay_currency: str,
                       ipn_callback_url: str, success_url: str, cancel_url: str) -> Invoice: ...

    def invoice_payments(self, invoice_id: str) -> list[IpnUpdate]: ...


@dataclass(frozen=True)
class StripeGateway:
    """Stripe, through the official library (``portal.payments.card``)."""

    api_key: str
    api_base: str | None = None
    keeps_history = True

    def start_checkout(self, *, deposit_reference, amount_cents, currency, success_url, cancel_url,
                       customer_email):
        return card.create_checkout_session(
            api_key=self.api_key, deposit_reference=deposit_reference, amount_cents=amount_cents,
            currency=currency, success_url=success_url, cancel_url=cancel_url,
            customer_email=customer_email, idempotency_key=f"checkout:{deposit_reference}",
            api_base=self.api_base)

    def refund(self, *, payment_intent, amount_cents, idempotency_key, deposit_reference):
        return card.create_refund(api_key=self.api_key, payment_intent=payment_intent,
                                  amount_cents=amount_cents, idempotency_key=idempotency_key,
                                  api_base=self.api_base, deposit_reference=deposit_reference)

    def submit_dispute_evidence(self, *, dispute_id, payment_intent, amount_cents, currency, evidence):
        card.submit_dispute_evidence(api_key=self.api_key, dispute_id=dispute_id, evidence=evidence,
                                     idempotency_key=f"dispute-evidence:{dispute_id}",
                                     api_base=self.api_base)

    def events_since(self, created_from):
        return card.events_since(api_key=self.api_key, created_from=created_from, api_base=self.api_base)


@dataclass(frozen=True)
class NowPaymentsGateway:
    """A crypto processor following NOWPayments' API (``portal.payments.crypto``)."""

    api_key: str
    api_base: str = crypto.API_BASE
    keeps_history = True

    def create_invoice(self, *, deposit_reference, amount_cents, pay_currency, ipn_callback_url,
                       success_url, cancel_url):
        return crypto.create_invoice(
            api_key=self.api_key, deposit_reference=deposit_reference, amount_cents=amount_cents,
            pay_currency=pay_currency, ipn_callback_url=ipn_callback_url, success_url=success_url,
            cancel_url=cancel_url, api_base=self.api_base)

    def invoice_payments(self, invoice_id):
        return crypto.invoice_payments(api_key=self.api_key, invoice_id=invoice_id, api_base=self.api_base)
