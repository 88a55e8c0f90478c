"""Card disputes (chargebacks): what Stripe's ``charge.dispute.*`` events do, in any order
and any number of times.

- The first event of a dispute records it and restricts the account (no deposits, no
  rentals; tickets still work) until every dispute of the customer is closed.
- Once the processor takes the money back (any status but an inquiry's, or the
  ``funds_withdrawn`` event), one posting moves the disputed amount out of the wallet as
  far as the balance goes and records the rest as owed (the customer's receivable).
- Won (or an inquiry closed): the withdrawal is reversed entry by entry, once. Lost: it
  stays. A dispute first heard of as won moves no money at all.

Every posting is keyed by the dispute, every state change is the dispute machine's
conditional UPDATE, and the whole event runs in the caller's write transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from peewee import IntegrityError

from portal.support import audit
from portal.money import ledger, postings
from portal.store.db import database, money_transaction
from portal.store.fields import utcnow
from portal.store.models import Deposit, Dispute, User
from portal.payments.card import DisputeUpdate
from portal.payments.errors import InvalidWebhook
from portal.policy import CARD
from portal.states import DEPOSIT_CREDITED, DISPUTE, DISPUTE_OPEN

# Stripe's status -> the dispute machine's state.
STATE_OF_STATUS = {
    "warning_needs_response": "needs_response",
    "needs_response": "needs_response",
    "warning_under_review": "under_review",
    "under_review": "under_review",
    "won": "won",
    "warning_closed": "won",  # an inquiry that closed without a chargeback
    "prevented": "won",
    "lost": "lost",
}


def _deposit_of(update: DisputeUpdate) -> Deposit | None:
    if not update.payment_intent:
        return None
    return Deposit.get_or_none(Deposit.payment_intent == update.payment_intent,
                               Deposit.method == CARD, Deposit.state.in_(DEPOSIT_CREDITED))


def _record(update: DisputeUpdate, deposit: Deposit) -> Dispute:
    """The dispute's row, created by the first event that names it."""
    found = Dispute.get_or_none(Dispute.processor_id == update.dispute_id)
    if found is not None:
        return found
    try:
        with database.atomic():
            return Dispute.create(
                processor_id=update.dispute_id, deposit=deposit, user=deposit.user_id,
                amount_cents=update.amount_cents, currency=update.currency,
                reason=update.reason, state=STATE_OF_STATUS[update.status],
                processor_status=update.status, due_by=_time(update.due_by))
    except IntegrityError:  # another delivery of the same dispute recorded it first
        return Dispute.get(Dispute.processor_id == update.dispute_id)


def _time(unix: int | None) -> datetime | None:
    return None if unix is None else datetime.fromtimestamp(unix, timezone.utc)


def _check_matches(update: DisputeUpdate, deposit: Deposit) -> None:
    if update.currency != deposit.currency or update.amount_cents > deposit.credited_cents:
        raise InvalidWebhook("payload.amount", f"dispute of {update.amount_cents} {update.currency} "
                                               f"on a deposit of {deposit.credited_cents} {deposit.currency}")


def apply_update(update: DisputeUpdate) -> Dispute | None:
    """Apply one verified dispute event; the dispute (None when the payment is not ours)."""
    with money_transaction():
        deposit = _deposit_of(update)
        if deposit is None:
            return None
        _check_matches(update, deposit)
        dispute = _record(update, deposit)
        state = STATE_OF_STATUS[update.status]
        if update.event_type == "charge.dispute.funds_reinstated":
            state = "won"
        if state in DISPUTE.moves:  # the machine's events are named after their targets
            DISPUTE.advance(Dispute, dispute.id, state, processor_status=update.status)
        if update.due_by is not None:
            Dispute.update(due_by=_time(update.due_by)).where(Dispute.id == dispute.id).execute()
        dispute = Dispute.get_by_id(dispute.id)
        taken = update.event_type == "charge.dispute.funds_withdrawn" or not update.status.startswith("warning_")
        if taken and dispute.state != "won":
            _withdraw(dispute)
        if dispute.state == "won":
            _reinstate(dispute)
        _restrict_while_open(dispute.user_id)
        return Dispute.get_by_id(dispute.id)


def _withdraw(dispute: Dispute) -> None:
    """Take the disputed amount from the wallet as far as it goes; the rest is owed."""
    if dispute.withdrawal_txn_id is not None:
        return
    ledger.lock_wallet(dispute.user_id)
    posting = postings.dispute_withdrawal(dispute, min(ledger.balance(dispute.user_id), dispute.amount_cents))
    Dispute.update(withdrawal_txn=posting.txn).where(Dispute.id == dispute.id).execute()


def _reinstate(dispute: Dispute) -> None:
    """Give back exactly what the withdrawal took, entry by entry (once)."""
    if dispute.withdrawal_txn_id is None or dispute.reinstatement_txn_id is not None:
        return
    posting = postings.dispute_reinstatement(dispute)
    Dispute.update(reinstatement_txn=posting.txn).where(Dispute.id == dispute.id).execute()


def _restrict_while_open(user_id: int) -> None:
    """An active account is restricted while a dispute of it is open, and active again
    once none is (a suspension or termination meanwhile is left alone)."""
    still_open = Dispute.select().where(Dispute.user == user_id, Dispute.state.in_(DISPUTE_OPEN)).exists()
    before, after = ("active", "restricted") if still_open else ("restricted", "active")
    User.update(status=after, status_changed_at=utcnow()).where(
        User.id == user_id, User.status == before).execute()


def is_open(dispute: Dispute) -> bool:
    return dispute.state in DISPUTE_OPEN


def for_deposit(deposit_id: int) -> Dispute | None:
    return Dispute.get_or_none(Dispute.deposit == deposit_id)


def recent(limit: int = 500):
    """Disputes for the staff console: open ones first, by their evidence deadline."""
    return (Dispute.select(Dispute, User, Deposit).join(User, on=(Dispute.user == User.id))
            .switch(Dispute).join(Deposit, on=(Dispute.deposit == Deposit.id))
            .order_by(Dispute.state.not_in(DISPUTE_OPEN), Dispute.due_by.asc(nulls="LAST"),
                      Dispute.id.desc())
            .limit(limit))


def record_evidence(dispute_id: int, staff: User, evidence: dict[str, str]) -> bool:
    """Remember the evidence submitted for a dispute and who submitted it (once)."""
    with database.atomic():
        won = Dispute.update(evidence=json.dumps(evidence, sort_keys=True), evidence_submitted_at=utcnow(),
                             evidence_submitted_by=staff).where(
            Dispute.id == dispute_id, Dispute.evidence_submitted_at.is_null()).execute()
        if won:
            dispute = Dispute.get_by_id(dispute_id)
            audit.record(staff, "dispute.evidence", subject_user=dispute.user_id,
                         note=dispute.processor_id)
    return bool(won)


def submitted_evidence(dispute: Dispute) -> dict[str, str]:
    return json.loads(dispute.evidence) if dispute.evidence else {}
