"""Reconciliation with the processors: what a lost webhook would have said, asked for again.

Stripe: every event the portal acts on since the last checkpoint (less an overlap, for
events of the same second that arrived late), applied in order through
``portal.money.processor_events`` exactly as the webhook applies them, so an event that did
arrive changes nothing the second time. The crypto processor: the payments of every
invoice still open. The checkpoint moves only after a whole run succeeded.

Each event that changed something is reported as healed (a money movement, or a deposit,
refund or dispute that moved on).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from peewee import fn

from portal.money import processor_events
from portal.store.db import database
from portal.money.deposits import CRYPTO
from portal.store.fields import utcnow
from portal.store.models import CardRefund, Deposit, Dispute, LedgerTransaction, ReconcileCheckpoint
from portal.payments.gateways import CardGateway, CryptoGateway
from portal.payments.errors import InvalidWebhook
from portal.states import DEPOSIT_PENDING

STRIPE_CHECKPOINT = "stripe_events"
OVERLAP_SECONDS = 300
FIRST_LOOK_BACK_SECONDS = 30 * 86400  # Stripe keeps events for 30 days


@dataclass
class Report:
    healed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # malformed answers, logged and skipped
    skipped: list[str] = field(default_factory=list)  # a processor not configured (demo)
    seen: int = 0


def _fingerprint() -> tuple:
    """What any applied event changes: a posting, or a state move (which stamps updated_at)."""
    return (LedgerTransaction.select(fn.MAX(LedgerTransaction.id)).scalar(),
            *(model.select(fn.MAX(model.updated_at)).scalar() for model in (Deposit, CardRefund, Dispute)))


def _apply(report: Report, label: str, apply) -> None:
    report.seen += 1
    before = _fingerprint()
    try:
        apply()
    except InvalidWebhook as invalid:
        report.refused.append(f"{label}: {invalid}")
        return
    if _fingerprint() != before:
        report.healed.append(label)


def _checkpoint() -> int | None:
    return ReconcileCheckpoint.select(ReconcileCheckpoint.value).where(
        ReconcileCheckpoint.name == STRIPE_CHECKPOINT).scalar()


def _save_checkpoint(value: int) -> None:
    with database.atomic():
        if not ReconcileCheckpoint.update(value=value, updated_at=utcnow()).where(
                ReconcileCheckpoint.name == STRIPE_CHECKPOINT).execute():
            ReconcileCheckpoint.create(name=STRIPE_CHECKPOINT, value=value)


def reconcile_card(gateway: CardGateway, report: Report, now: int | None = None) -> None:
    now = int(time.time()) if now is None else now
    if not gateway.keeps_history:
        report.skipped.append("card: the demo processor keeps no history")
        return
    last = _checkpoint()
    since = now - FIRST_LOOK_BACK_SECONDS if last is None else last - OVERLAP_SECONDS
    events = gateway.events_since(since)
    for event in events:
        _apply(report, f"stripe {event.type} {event.id}", lambda: processor_events.apply_stripe(event))
    _save_checkpoint(max([last or since, *(event.created for event in events)]))


def reconcile_crypto(gateway: CryptoGateway, report: Report) -> None:
    if not gateway.keeps_history:
        report.skipped.append("crypto: the demo processor keeps no history")
        return
    open_invoices = (Deposit.select().where(Deposit.method.in_(CRYPTO), Deposit.state.in_(DEPOSIT_PENDING),
                                            Deposit.processor_ref.is_null(False)).order_by(Deposit.id))
    for deposit in open_invoices:
        try:
            payments = gateway.invoice_payments(deposit.processor_ref)
        except InvalidWebhook as invalid:
            report.refused.append(f"crypto invoice {deposit.processor_ref}: {invalid}")
            continue
        for payment in payments:
            _apply(report, f"crypto {payment.status} {deposit.reference}",
                   lambda: processor_events.apply_crypto(payment))


def reconcile(card: CardGateway, crypto: CryptoGateway, now: int | None = None) -> Report:
    """Ask each processor for what happened and apply what is missing. ``ProcessorError``
    when a processor cannot be asked (the checkpoint stays)."""
    report = Report()
    reconcile_card(card, report, now)
    reconcile_crypto(crypto, report)
    return report
