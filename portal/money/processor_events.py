"""What a verified processor event does to the portal, whoever delivered it: the webhook
endpoints and reconciliation apply events through these functions alone.

Each application runs in one write transaction: an event that turns out malformed while it
is applied (``InvalidWebhook``) leaves nothing written.
"""

from __future__ import annotations

from portal.money import card_refunds, deposits, disputes
from portal.store.db import money_transaction
from portal.payments import card
from portal.payments.crypto import IpnUpdate


def apply_stripe(event) -> dict:
    """Apply one verified Stripe Event; a summary of what it did (for the answer and logs)."""
    with money_transaction():
        payment = card.checkout_outcome(event)
        if payment is not None:
            return _settled(deposits.settle_card(payment))
        refund_update = card.refund_outcome(event)
        if refund_update is not None:
            refund = card_refunds.apply_update(refund_update)
            return {"refund": refund.state if refund else None}
        dispute_update = card.dispute_outcome(event)
        if dispute_update is not None:
            dispute = disputes.apply_update(dispute_update)
            return {"dispute": dispute.state if dispute else None}
        return {"ignored": event.type}


def apply_crypto(update: IpnUpdate) -> dict:
    """Apply one verified crypto payment status (an IPN, or the processor's answer)."""
    with money_transaction():
        return _settled(deposits.settle_crypto(update))


def _settled(settlement: deposits.Settlement) -> dict:
    reference = settlement.deposit.reference if settlement.deposit else None
    return {"deposit": reference, "credited": settlement.credited}
