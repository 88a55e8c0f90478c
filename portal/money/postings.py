"""Every way money moves, named once: each function posts one kind of movement with its
accounts, its signs, its ledger kind and its idempotency key (``ledger.post``), and
nothing else builds ledger lines. Callers hold the transaction and the state changes.
"""

from __future__ import annotations

from portal.money import ledger
from portal.store.models import Deposit, Dispute, Entry, Rental

DEPOSIT = "deposit"
RENTAL_CHARGE = "rental"
RENTAL_REFUND = "rental_refund"
CARD_REFUND = "card_refund"
CARD_REFUND_REVERSAL = "card_refund_reversal"
DISPUTE_WITHDRAWAL = "dispute"
DISPUTE_REINSTATEMENT = "dispute_reversal"
KINDS = (DEPOSIT, RENTAL_CHARGE, RENTAL_REFUND, CARD_REFUND, CARD_REFUND_REVERSAL,
         DISPUTE_WITHDRAWAL, DISPUTE_REINSTATEMENT)
# Debits of a wallet that are not spending: a card refund gives a deposit back.
NOT_SPENDING = (CARD_REFUND,)


def deposit_credit(deposit: Deposit, cents: int, clearing: str) -> ledger.Posting:
    """A deposit's money, arrived through ``clearing``, into the customer's wallet."""
    return ledger.post(f"deposit:{deposit.reference}", DEPOSIT,
                       [(ledger.house(clearing), -cents), (ledger.wallet(deposit.user_id), cents)],
                       memo=f"{deposit.method} deposit {deposit.reference}")


def rental_charge(rental: Rental, country: str, service: str) -> ledger.Posting:
    """A number's price, from the wallet to sales (``InsufficientFunds`` when short)."""
    return ledger.post(f"rental:{rental.id}:charge", RENTAL_CHARGE,
                       [(ledger.wallet(rental.user_id), -rental.price_cents),
                        (ledger.house("sales"), rental.price_cents)],
                       memo=f"number {country}/{service} {rental.reference}")


def rental_refund(rental: Rental) -> ledger.Posting:
    """A failed SMS's price, back to the wallet."""
    return ledger.post(f"rental:{rental.id}:refund", RENTAL_REFUND,
                       [(ledger.house("refunds"), -rental.price_cents),
                        (ledger.wallet(rental.user_id), rental.price_cents)],
                       memo=f"failed SMS {rental.reference}")


def card_refund(deposit: Deposit, cents: int) -> ledger.Posting:
    """An approved card refund, out of the wallet (``InsufficientFunds`` when spent)."""
    return ledger.post(f"card-refund:{deposit.reference}:approve", CARD_REFUND,
                       [(ledger.wallet(deposit.user_id), -cents), (ledger.house("card_clearing"), cents)],
                       memo=f"card refund of {deposit.reference}")


def card_refund_reversal(deposit: Deposit, cents: int) -> ledger.Posting:
    """A card refund that failed: the amount back into the wallet."""
    return ledger.post(f"card-refund:{deposit.reference}:reverse", CARD_REFUND_REVERSAL,
                       [(ledger.house("card_clearing"), -cents), (ledger.wallet(deposit.user_id), cents)],
                       memo=f"card refund of {deposit.reference} failed")


def dispute_withdrawal(dispute: Dispute, from_wallet: int) -> ledger.Posting:
    """The processor took a disputed amount back: ``from_wallet`` of it out of the wallet,
    the rest owed by the customer (the receivable)."""
    owed = dispute.amount_cents - from_wallet
    lines = [(ledger.house("card_clearing"), dispute.amount_cents)]
    if from_wallet:
        lines.append((ledger.wallet(dispute.user_id), -from_wallet))
    if owed:
        lines.append((ledger.receivable(dispute.user_id), -owed))
    return ledger.post(f"dispute:{dispute.processor_id}:withdrawn", DISPUTE_WITHDRAWAL, lines,
                       memo=f"card dispute {dispute.processor_id}")


def dispute_reinstatement(dispute: Dispute) -> ledger.Posting:
    """A won dispute: exactly what its withdrawal took, given back entry by entry."""
    taken = Entry.select().where(Entry.txn == dispute.withdrawal_txn_id)
    return ledger.post(f"dispute:{dispute.processor_id}:reinstated", DISPUTE_REINSTATEMENT,
                       [(entry.account, -entry.amount) for entry in taken],
                       memo=f"card dispute {dispute.processor_id} won")
