"""Card-deposit refunds: eligibility, staff approval and denial, and Stripe's outcome.

Eligibility is ``policy.card_refund_decision`` for the deposit, judged by the Terms it was
made under, with "spent since" read from the ledger: a debit of the wallet ordered after
the deposit's credit (other than a card refund) is spending.

Approval locks the wallet (``SELECT ... FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE``
already holds SQLite's write lock), checks eligibility again and moves the deposit's amount
out of the wallet in one transaction, so an approval and a purchase on the same wallet
serialize: whichever commits first makes the other fail (no funds / spent since). The
Stripe Refund is created after the commit with an idempotency key; its final status
arrives by webhook (``apply_update``): a failed refund credits the amount back once and
reopens the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.support import audit, notifications
from portal.money import ledger, postings
from portal.store.db import as_model, compiled_sql, database, money_transaction
from portal.store.fields import utcnow
from portal.store.models import Account, CardRefund, Deposit, Dispute, Entry, LedgerTransaction, Ticket, User
from portal.payments import card
from portal.payments.gateways import CardGateway
from portal.payments.errors import ProcessorError
from portal.policy import CARD, Decision, any_spend_after, card_refund_decision, terms
from portal.states import CARD_REFUND, DEPOSIT, TICKET_OPEN

# Reasons staff may give: the policy's own codes, and one for "outside the criteria".
DENY_REASONS = ("card_refund.spent_since", "card_refund.window_passed",
                "card_refund.crypto_final", "card_refund.outside_criteria")


@dataclass(frozen=True)
class Outcome:
    """What an approval did: ``decision`` says whether (and why not); ``refund`` when made."""

    decision: Decision
    refund: CardRefund | None = None


@dataclass(frozen=True)
class _Facts:
    """What the ledger and the tickets say about some deposits, read in a few queries
    whatever their number: when each was spent from, which are disputed, which have an
    open refund request."""

    spent: dict[int, list[datetime]]
    disputed: set[int]
    requests: dict[int, Ticket]


def _facts(deposits: list[Deposit]) -> _Facts:
    # Four queries whatever the number of deposits, their SQL generated once per number of
    # ids (``compiled_sql``): peewee building these IN lists cost the dashboard a quarter of
    # its time (``bench/portal_bench.py``).
    ids = [d.id for d in deposits]
    credited = [d for d in deposits if d.txn_id is not None]
    wallets = sorted({ledger.wallet_code(d.user_id) for d in credited})
    credit_entry, debits = {}, []
    if credited:
        sql = compiled_sql(f"refund_facts.credits:{len(credited)}:{len(wallets)}", lambda: (
            Entry.select(Entry.txn, Entry.id).join(Account)
            .where(Entry.txn.in_([0] * len(credited)), Account.code.in_([""] * len(wallets)))))
        credit_entry = dict(database.execute_sql(sql, (*[d.txn_id for d in credited], *wallets)).fetchall())
    if credit_entry:
        # A debit of the wallet ordered after a deposit's credit (card refunds excepted) is
        # spending: ordered by the ledger (entry ids follow the wallet's row lock), so it
        # counts even if two machines' clocks disagree a little.
        sql = compiled_sql(f"refund_facts.debits:{len(wallets)}", lambda: (
            Entry.select(Account.code, Entry.id, Entry.created_at)
            .join(Account, on=(Entry.account == Account.id))
            .switch(Entry).join(LedgerTransaction)
            .where(Account.code.in_([""] * len(wallets)), Entry.id > 0, Entry.amount < 0,
                   LedgerTransaction.kind.not_in(postings.NOT_SPENDING))))
        rows = database.execute_sql(sql, (*wallets, min(credit_entry.values()), 0, *postings.NOT_SPENDING))
        debits = [(code, entry_id, Entry.created_at.python_value(at)) for code, entry_id, at in rows]
    spent = {}
    for deposit in credited:
        after, wallet = credit_entry.get(deposit.txn_id), ledger.wallet_code(deposit.user_id)
        spent[deposit.id] = [max(at, deposit.credited_at) for code, entry_id, at in debits
                             if after is not None and code == wallet and entry_id > after]
    if not ids:
        return _Facts(spent=spent, disputed=set(), requests={})
    disputed = compiled_sql(f"refund_facts.disputed:{len(ids)}", lambda: (
        Dispute.select(Dispute.deposit).where(Dispute.deposit.in_([0] * len(ids)))))
    requests = compiled_sql(f"refund_facts.requests:{len(ids)}", lambda: Ticket.select().where(
        Ticket.deposit.in_([0] * len(ids)), Ticket.category == "card_refund",
        Ticket.state.in_(TICKET_OPEN)))
    return _Facts(
        spent=spent,
        disputed={row[0] for row in database.execute_sql(disputed, ids)},
        requests={ticket.deposit_id: ticket for ticket in (
            as_model(Ticket, row) for row in
            database.execute_sql(requests, (*ids, "card_refund", *TICKET_OPEN)))},
    )


def _decision(deposit: Deposit, facts: _Facts, now: datetime) -> Decision:
    deposited_at = deposit.credited_at or deposit.created_at
    spent = deposit.method == CARD and any_spend_after(deposited_at, facts.spent.get(deposit.id, []))
    return card_refund_decision(method=deposit.method, deposited_at=deposited_at, spent_since=spent,
                                now=now, terms=terms(deposit.terms_version),
                                disputed=deposit.id in facts.disputed)


def eligibility(deposit: Deposit, now: datetime | None = None) -> Decision:
    """May this credited deposit be refunded now? (The policy's decision and reason.)"""
    return _decision(deposit, _facts([deposit]), now or utcnow())


def time_left(decision: Decision, now: datetime | None = None) -> timedelta:
    """How long until the refund window closes (zero once it has)."""
    return max(timedelta(0), decision.deadline - (now or utcnow()))


def approve(ticket_id: int, staff: User, note: str = "", now: datetime | None = None) -> Outcome:
    """Approve a card-refund ticket: re-check eligibility with the wallet locked and move
    the deposit's credited amount out of the wallet, all in one transaction."""
    now = now or utcnow()
    with money_transaction():
        ticket = Ticket.get_by_id(ticket_id)
        ledger.lock_wallet(ticket.user_id)
        deposit = Deposit.get_by_id(ticket.deposit_id)
        if ticket.state not in TICKET_OPEN or deposit.state != "succeeded":
            return Outcome(Decision(False, "card_refund.already_decided"))
        decision = eligibility(deposit, now)
        if not decision.allowed:
            return Outcome(decision)
        amount = deposit.credited_cents
        try:
            posting = postings.card_refund(deposit, amount)
        except ledger.InsufficientFunds:
            return Outcome(Decision(False, "card_refund.spent_since", decision.deadline))
        DEPOSIT.advance(Deposit, deposit.id, "refund_approved")
        _decide(ticket, "approved", "card_refund.allowed", note, now)
        refund = CardRefund.create(deposit=deposit, ticket=ticket, amount_cents=amount,
                                   approved_by=staff, txn=posting.txn, created_at=now,
                                   updated_at=now)
        audit.record(staff, "refund.approve", subject_user=ticket.user_id, ticket=ticket,
                     reason="card_refund.allowed", note=note)
        notifications.queue(ticket.user, "refund_approved", ticket=ticket, amount=amount)
    return Outcome(decision, refund)


def deny(ticket_id: int, staff: User, reason: str, note: str = "",
         now: datetime | None = None) -> bool:
    """Deny a card-refund ticket with one of ``DENY_REASONS``; False if already decided."""
    if reason not in DENY_REASONS:
        raise ValueError(f"unknown denial reason {reason!r}")
    now = now or utcnow()
    with database.atomic():
        ticket = Ticket.get_by_id(ticket_id)
        if not _decide(ticket, "denied", reason, note, now):
            return False
        audit.record(staff, "refund.deny", subject_user=ticket.user_id, ticket=ticket,
                     reason=reason, note=note)
        notifications.queue(ticket.user, "refund_denied", ticket=ticket, reason=reason, note=note)
    return True


def _decide(ticket: Ticket, state: str, reason: str, note: str, now: datetime) -> bool:
    won = Ticket.update(state=state, decision_reason=reason, decision_note=note,
                        updated_at=now).where(
        Ticket.id == ticket.id, Ticket.state.in_(TICKET_OPEN)).execute()
    if won:
        Ticket.update(first_response_at=now).where(
            Ticket.id == ticket.id, Ticket.first_response_at.is_null()).execute()
    return bool(won)


def send(refund: CardRefund, gateway: CardGateway) -> str:
    """Ask the card processor to refund the card (idempotent); the refund's state afterwards.

    The final status usually arrives by webhook (the demo processor announces it too, as
    Stripe does). A processor that refuses the refund fails it (the amount comes back to the
    wallet); one that cannot be reached leaves it pending, and sending again is safe (same
    idempotency key).
    """
    deposit = Deposit.get_by_id(refund.deposit_id)
    try:
        result = gateway.refund(payment_intent=deposit.payment_intent, amount_cents=refund.amount_cents,
                                idempotency_key=f"card-refund:{deposit.reference}",
                                deposit_reference=deposit.reference)
    except ProcessorError as refused:
        if refused.http_status is None:
            return "pending"
        settle(refund.id, "failed", (refused.code or "processor_error")[:64])
        return "failed"
    except OSError:
        return "pending"
    CardRefund.update(processor_refund_id=result.id).where(
        CardRefund.id == refund.id, CardRefund.processor_refund_id.is_null()).execute()
    if result.status in ("succeeded", "failed", "canceled"):
        settle(refund.id, result.status, "")
    return CardRefund.get_by_id(refund.id).state


def settle(refund_id: int, status: str, failure_reason: str) -> bool:
    """Apply a final refund status once: succeeded, or failed/canceled (credited back)."""
    now = utcnow()
    with money_transaction():
        refund = CardRefund.get_by_id(refund_id)
        if status == "succeeded":
            won = CARD_REFUND.advance(CardRefund, refund.id, "succeeded")
            if won:
                DEPOSIT.advance(Deposit, refund.deposit_id, "refund_succeeded")
            return won
        if status not in ("failed", "canceled"):
            return False
        if not CARD_REFUND.advance(CardRefund, refund.id, "failed",
                                   failure_reason=failure_reason or status):
            return False
        deposit = Deposit.get_by_id(refund.deposit_id)
        posting = postings.card_refund_reversal(deposit, refund.amount_cents)
        CardRefund.update(reversal_txn=posting.txn).where(CardRefund.id == refund.id).execute()
        DEPOSIT.advance(Deposit, deposit.id, "refund_failed")
        Ticket.update(state="open", updated_at=now).where(
            Ticket.id == refund.ticket_id, Ticket.state == "approved").execute()
        notifications.queue(deposit.user, "refund_failed", ticket=refund.ticket, amount=refund.amount_cents)
        return True


def _find(update: card.RefundUpdate) -> CardRefund | None:
    if update.refund_id:
        found = CardRefund.get_or_none(CardRefund.processor_refund_id == update.refund_id)
        if found:
            return found
    deposit = None
    if update.deposit_reference:
        deposit = Deposit.get_or_none(Deposit.reference == update.deposit_reference)
    elif update.payment_intent:
        deposit = Deposit.get_or_none(Deposit.payment_intent == update.payment_intent,
                                      Deposit.method == CARD)
    return CardRefund.get_or_none(CardRefund.deposit == deposit.id) if deposit else None


def apply_update(update: card.RefundUpdate) -> CardRefund | None:
    """Apply one verified refund event; the refund it concerns (None if not ours)."""
    refund = _find(update)
    if refund is None:
        return None
    if update.status in ("succeeded", "failed", "canceled"):
        if update.event_type == "charge.refunded" and update.amount_cents < refund.amount_cents:
            return refund  # a partial refund of the charge is not ours
        settle(refund.id, update.status, (update.failure_reason or "")[:64])
    return CardRefund.get_by_id(refund.id)


def unsent(refund: CardRefund) -> bool:
    """Approved, but the processor could not be reached: sending again is safe."""
    return refund.state == "pending" and refund.processor_refund_id is None


def for_deposit(deposit_id: int) -> CardRefund | None:
    return CardRefund.get_or_none(CardRefund.deposit == deposit_id)


@dataclass(frozen=True)
class Meter:
    """What a deposit's refund meter shows: the decision for a credited deposit (with the
    time left while refundable) and the open refund request, if any."""

    decision: Decision | None
    left: timedelta
    request: Ticket | None


NO_METER = Meter(None, timedelta(0), None)


def meters(deposits: list[Deposit], now: datetime | None = None) -> dict[int, Meter]:
    """The refund meter of each deposit, by deposit id, in a constant number of queries."""
    now = now or utcnow()
    facts = _facts([d for d in deposits if d.state == "succeeded"])
    shown = {}
    for deposit in deposits:
        if deposit.state != "succeeded":
            shown[deposit.id] = NO_METER
            continue
        decision = _decision(deposit, facts, now)
        shown[deposit.id] = Meter(decision, time_left(decision, now) if decision.allowed else timedelta(0),
                                  facts.requests.get(deposit.id))
    return shown
