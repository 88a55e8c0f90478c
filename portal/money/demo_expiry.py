"""The demo processor's clock: a checkout or invoice left unpaid expires, as Stripe's
sessions do after 24 hours and NOWPayments' invoices do, by the same signed event the real
processor would send (so the deposit expires through the webhook, like any other)."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.money.deposits import CRYPTO
from portal.payments.demo import DemoCardGateway, DemoCryptoGateway
from portal.states import DEPOSIT_PENDING
from portal.store.fields import utcnow
from portal.store.models import Deposit

CHECKOUT_LIFETIME = timedelta(hours=24)


def stale(now: datetime, methods: tuple[str, ...]):
    """Deposits of ``methods`` opened at a demo processor and unpaid for a lifetime."""
    return (Deposit.select().where(
        Deposit.state.in_(DEPOSIT_PENDING), Deposit.method.in_(methods),
        Deposit.processor_ref.is_null(False), Deposit.created_at < now - CHECKOUT_LIFETIME,
    ).order_by(Deposit.id))


def expire_stale(card: DemoCardGateway | None, crypto: DemoCryptoGateway | None,
                 now: datetime | None = None) -> int:
    """Announce the expiry of every stale demo checkout and invoice; how many."""
    now = now or utcnow()
    count = 0
    if card is not None:
        for deposit in stale(now, ("card",)):
            card.cancel_checkout(session_id=deposit.processor_ref, deposit_reference=deposit.reference,
                                 amount_cents=deposit.amount_cents, currency=deposit.currency)
            count += 1
    if crypto is not None:
        for deposit in stale(now, CRYPTO):
            crypto.pay_invoice(deposit_reference=deposit.reference, coin=deposit.method,
                               amount_cents=deposit.amount_cents, status="expired")
            count += 1
    return count
