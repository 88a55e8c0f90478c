"""Deposits: validate and open one, then settle it from the processor's signed events.

Opening records the deposit (and, for an EU consumer, the withdrawal-waiver consent with
its receipt e-mail) in one transaction, before any processor is called. Settling is
idempotent: the state moves by the deposit machine's conditional UPDATE
(``portal.states.DEPOSIT``, forward only) and the credit is one ledger posting keyed by the
deposit, so a webhook delivered twice, or concurrently, or after a later event, credits
exactly once. A card payment credits exactly
the amount and currency the deposit was opened for; any other amount is held for staff.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from portal.consent import receipts
from portal.support import audit
from portal.money import postings
from portal.accounts.users import FormError
from portal.store.db import as_model, compiled_sql, database, money_transaction
from portal.store.fields import utcnow
from portal.store.models import Deposit, User
from portal.money.amounts import AmountError, parse_cents
from portal.payments.crypto import CURRENCIES
from portal.policy import CARD, deposit_amount_decision, requires_withdrawal_waiver, terms_in_force
from portal.site_versions import Published
from portal.states import DEPOSIT, DEPOSIT_PENDING, may_transact

# Every coin the crypto processor settles (a deposit keeps its coin if the Terms drop it).
CRYPTO = tuple(CURRENCIES)


@dataclass(frozen=True)
class Settlement:
    deposit: Deposit | None
    credited: bool  # True only for the one delivery that moved money


def new_reference() -> str:
    return "dep_" + secrets.token_urlsafe(18)


def methods(now) -> tuple[str, ...]:
    """The payment methods the Terms in force accept: card and their coins."""
    return (CARD, *terms_in_force(now).crypto_currencies)


def validate(*, method: str, amount_text: str, consent: bool, country: str, now) -> int:
    """The amount in cents, or ``FormError`` naming every problem (policy reason codes)."""
    errors = {}
    if method not in methods(now):
        errors["method"] = "method.invalid"
    amount = None
    try:
        amount = parse_cents(amount_text)
    except AmountError as bad:
        errors["amount"] = bad.code
    if amount is not None:
        decision = deposit_amount_decision(amount, terms_in_force(now))
        if not decision.allowed:
            errors["amount"] = decision.reason
    if requires_withdrawal_waiver(country) and not consent:
        errors["consent"] = "eu.withdrawal_waiver"
    if errors:
        raise FormError(errors)
    return amount


def open_deposit(user: User, *, method: str, amount_text: str, consent: bool,
                 terms: Published, ip: str, user_agent: str, now=None) -> Deposit:
    """Record a new deposit (and its consent, if the user must give one); nothing is
    written when the input is refused."""
    now = now or utcnow()
    if not may_transact(user.status):  # restricted, suspended or terminated: may read, not deposit
        raise FormError({"form": "account.restricted" if user.status == "restricted"
                         else "account.not_active"})
    amount = validate(method=method, amount_text=amount_text, consent=consent,
                      country=user.country, now=now)
    with money_transaction():
        deposit = Deposit.create(
            reference=new_reference(), user=user, method=method, amount_cents=amount,
            terms_version=terms.version, created_at=now, updated_at=now,
        )
        if requires_withdrawal_waiver(user.country):
            receipts.record(user, action="deposit", subject=deposit.reference, terms=terms,
                            ip=ip, user_agent=user_agent, now=now)
    return deposit


def mark_checkout(deposit: Deposit, *, processor_ref: str, checkout_url: str,
                  pay_currency: str = "", paid_minor: int | None = None) -> None:
    """The processor accepted the deposit: remember where the user pays."""
    DEPOSIT.advance(Deposit, deposit.id, "checkout_opened", processor_ref=processor_ref,
                    checkout_url=checkout_url, pay_currency=pay_currency,
                    paid_minor=None if paid_minor is None else str(paid_minor))


def mark_unavailable(deposit: Deposit) -> None:
    """The processor could not be reached: the deposit ends failed, nothing was charged."""
    DEPOSIT.advance(Deposit, deposit.id, "processor_unavailable", processor_status="unavailable")


def _credit(deposit: Deposit, cents: int, clearing: str, changes: dict,
            event: str = "paid") -> Settlement:
    """Move a deposit to succeeded and credit its wallet, once."""
    with money_transaction():
        won = DEPOSIT.advance(Deposit, deposit.id, event, credited_cents=cents,
                              credited_at=utcnow(), **changes)
        deposit = Deposit.get_by_id(deposit.id)
        if not won:
            return Settlement(deposit, False)
        posting = postings.deposit_credit(deposit, cents, clearing)
        Deposit.update(txn=posting.txn).where(Deposit.id == deposit.id).execute()
        return Settlement(Deposit.get_by_id(deposit.id), posting.created)


def _move(deposit: Deposit, event: str, changes: dict) -> Settlement:
    """A move that credits nothing (the deposit fails, expires or is held)."""
    DEPOSIT.advance(Deposit, deposit.id, event, **changes)
    return Settlement(Deposit.get_by_id(deposit.id), False)


def _record_status(deposit: Deposit, changes: dict) -> Settlement:
    """Before the payment, remember what the processor last said (no state changes)."""
    Deposit.update(**changes, updated_at=utcnow()).where(
        Deposit.id == deposit.id, Deposit.state.in_(DEPOSIT_PENDING)
    ).execute()
    return Settlement(deposit, False)


def settle_card(payment) -> Settlement:
    """Apply one verified Stripe checkout outcome (``portal.payments.card.CardPayment``)."""
    deposit = Deposit.get_or_none(Deposit.reference == payment.deposit_reference)
    if deposit is None or deposit.method != CARD:
        return Settlement(None, False)
    changes = {"processor_status": payment.event_type[:32]}
    if payment.payment_intent:
        changes["payment_intent"] = payment.payment_intent
    if payment.paid:
        if (payment.amount_cents, payment.currency) != (deposit.amount_cents, deposit.currency):
            return _move(deposit, "paid_mismatch", {
                **changes, "pay_currency": payment.currency, "paid_minor": str(payment.amount_cents)})
        return _credit(deposit, deposit.amount_cents, "card_clearing", changes)
    if payment.failed:
        return _move(deposit, "payment_failed", changes)
    if payment.expired:
        return _move(deposit, "checkout_expired", changes)
    return _record_status(deposit, changes)


def held_amount(deposit: Deposit) -> int | None:
    """What a held card payment brought, in the deposit's currency; None when it came in
    another currency (then it can only be returned)."""
    if deposit.state != "held" or deposit.pay_currency != deposit.currency:
        return None
    return int(deposit.paid_minor)


def release_held(deposit: Deposit, staff: User, now=None) -> Settlement:
    """Staff credit a held payment with what was actually paid (in the deposit's currency
    and within the deposit limits), once; ``FormError`` when it cannot be credited."""
    paid = held_amount(deposit)
    if paid is None:
        raise FormError({"held": "held.not_creditable"})
    decision = deposit_amount_decision(paid, terms_in_force(now or utcnow()))
    if not decision.allowed:
        raise FormError({"held": decision.reason})
    with money_transaction():
        settlement = _credit(deposit, paid, "card_clearing", {}, event="held_released")
        if settlement.credited:
            audit.record(staff, "deposit.release_held", subject_user=deposit.user_id,
                         note=f"{deposit.reference}: {paid}")
    return settlement


def return_held(deposit: Deposit, staff: User) -> bool:
    """Record that a held payment was sent back to the card (uncredited); once."""
    with money_transaction():
        won = DEPOSIT.advance(Deposit, deposit.id, "held_returned")
        if won:
            audit.record(staff, "deposit.return_held", subject_user=deposit.user_id,
                         note=deposit.reference)
    return won


def held():
    """Card payments held for review (another amount or currency than opened), oldest first."""
    return (Deposit.select(Deposit, User).join(User).where(Deposit.state == "held")
            .order_by(Deposit.updated_at))


def settle_crypto(update) -> Settlement:
    """Apply one verified crypto IPN (``portal.payments.crypto.IpnUpdate``): credit the
    USD actually settled once the payment is finished; record the coin amount exactly."""
    deposit = Deposit.get_or_none(Deposit.reference == update.order_id)
    if deposit is None or deposit.method not in CRYPTO:
        return Settlement(None, False)
    changes = {
        "processor_status": update.status,
        "pay_currency": (update.pay_currency or "").upper()[:16],
        "paid_minor": str(update.paid_minor),
    }
    settled = min(update.settled_usd_cents, deposit.amount_cents)  # never more than invoiced
    if update.is_finished and settled > 0:
        return _credit(deposit, settled, "crypto_clearing", changes)
    if update.is_failed:
        return _move(deposit, "checkout_expired" if update.status == "expired" else "payment_failed",
                     changes)
    return _record_status(deposit, changes)


def for_user(user_id: int):
    """The user's deposits, newest first."""
    return Deposit.select().where(Deposit.user == user_id).order_by(Deposit.id.desc())


def newest(user_id: int, limit: int) -> list[Deposit]:
    """The user's ``limit`` newest deposits. The lists every page of deposits shows (the
    dashboard's among them): their SQL is generated once (``compiled_sql``)."""
    sql = compiled_sql("newest_deposits", lambda: for_user(0).limit(1))
    return [as_model(Deposit, row) for row in database.execute_sql(sql, (user_id, limit))]


def one_for_user(user_id: int, reference: str):
    """A query for one deposit of this user only (another user's reference finds nothing)."""
    return Deposit.select().where(Deposit.user == user_id, Deposit.reference == reference)
