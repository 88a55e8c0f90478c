"""The double-entry ledger: the only code that moves money.

Amounts are integer minor units (USD cents). A posting is a set of entries summing to
zero under one idempotency key: posting the same key again returns the first posting and
moves nothing. Entries are never updated or deleted (the database refuses it); a wallet's
stored balance changes in the same transaction as its entries, by a conditional UPDATE
that cannot take a wallet below zero. House accounts (clearing, sales, refunds) may be
negative: money that came in through a processor shows there as a negative clearing
balance. A customer's receivable holds what the customer owes the house after a card
dispute took back more than the wallet held: it is never positive (a negative balance is
the debt), and every account is a wallet, a receivable or a house account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peewee import JOIN, IntegrityError, fn

from portal.store.db import compiled_sql, database, is_sqlite, money_transaction
from portal.store.models import Account, Entry, LedgerTransaction, User

HOUSE_ACCOUNTS = ("card_clearing", "crypto_clearing", "sales", "refunds")
MAX_AMOUNT = 10**15  # minor units per entry; far above any real amount, far below BIGINT
KNOWN_ACCOUNT = re.compile(r"(wallet|receivable):[1-9][0-9]*|house:(%s)" % "|".join(HOUSE_ACCOUNTS))


class LedgerError(Exception):
    """A posting that must not happen; nothing was written."""


class InsufficientFunds(LedgerError):
    pass


class IdempotencyConflict(LedgerError):
    """The key was already used for a different set of entries."""


@dataclass(frozen=True)
class Posting:
    txn: LedgerTransaction
    created: bool  # False when the key had been posted before


def _is_amount(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def wallet_code(user_id: int) -> str:
    return f"wallet:{user_id}"


def open_wallet(user: User) -> Account:
    """The customer's wallet, created with the user (idempotent)."""
    account, _ = Account.get_or_create(
        code=wallet_code(user.id), defaults={"user": user, "allow_negative": False}
    )
    return account


def receivable_code(user_id: int) -> str:
    return f"receivable:{user_id}"


def receivable(user_id: int) -> Account:
    """What the customer ``user_id`` owes the house, created on first use."""
    return _get_or_create(receivable_code(user_id), user=None)


def owed(user_id: int) -> int:
    """Cents the customer owes the house (0 when nothing)."""
    stored = Account.select(Account.balance).where(Account.code == receivable_code(user_id)).scalar()
    return -(stored or 0)


def lock_wallet(user_id: int) -> None:
    """Hold the wallet's row lock until the transaction ends (SQLite: already exclusive), so
    a balance read now stays true until this transaction posts."""
    if not is_sqlite():
        Account.select(Account.id).where(Account.code == wallet_code(user_id)).for_update().execute()


def wallet(user_id: int) -> Account:
    """The wallet of ``user_id``; raises ``Account.DoesNotExist`` when it has none."""
    return Account.get(Account.code == wallet_code(user_id))


def house(name: str) -> Account:
    """One of the house accounts, created on first use."""
    if name not in HOUSE_ACCOUNTS:
        raise ValueError(f"unknown house account {name!r}")
    return _get_or_create(f"house:{name}")


def _get_or_create(code: str, **fields) -> Account:
    """An account that may be negative, created by whichever request needs it first."""
    try:
        return Account.get(Account.code == code)
    except Account.DoesNotExist:
        try:
            with database.atomic():
                return Account.create(code=code, allow_negative=True, **fields)
        except IntegrityError:
            return Account.get(Account.code == code)


def balance(user_id: int) -> int:
    """The stored balance of a user's wallet: one indexed row, whatever the history."""
    sql = compiled_sql("wallet_balance",
                       lambda: Account.select(Account.balance).where(Account.code == ""))
    row = database.execute_sql(sql, (wallet_code(user_id),)).fetchone()
    return row[0] if row else 0


def _validate(key: str, lines: list[tuple[Account, int]]) -> None:
    if not key or len(key) > 128:
        raise LedgerError("an idempotency key of 1 to 128 characters is required")
    if len(lines) < 2:
        raise LedgerError("a transaction needs at least two entries")
    if not all(_is_amount(amount) and 0 < abs(amount) <= MAX_AMOUNT for _, amount in lines):
        raise LedgerError("amounts are non-zero integer minor units within the limit")
    if sum(amount for _, amount in lines) != 0:
        raise LedgerError("entries must sum to zero")
    if len({account.id for account, _ in lines}) != len(lines):
        raise LedgerError("one entry per account")


def _same_lines(txn: LedgerTransaction, lines) -> bool:
    stored = sorted((e.account_id, e.amount) for e in Entry.select().where(Entry.txn == txn))
    return stored == sorted((account.id, amount) for account, amount in lines)


def _replay(key: str, lines) -> Posting:
    txn = LedgerTransaction.get(LedgerTransaction.idempotency_key == key)
    if not _same_lines(txn, lines):
        raise IdempotencyConflict(f"idempotency key {key!r} was posted with other entries")
    return Posting(txn, created=False)


def _apply(txn: LedgerTransaction, account: Account, amount: int) -> None:
    query = Account.update(balance=Account.balance + amount).where(Account.id == account.id)
    if amount < 0:
        query = query.where(
            (Account.allow_negative == True) | (Account.balance + amount >= 0)  # noqa: E712
        )
    if query.execute() != 1:
        raise InsufficientFunds(f"{account.code} cannot go below zero")
    after = Account.select(Account.balance).where(Account.id == account.id).scalar()
    Entry.create(txn=txn, account=account, amount=amount, balance_after=after)


def post(key: str, kind: str, lines: list[tuple[Account, int]], memo: str = "") -> Posting:
    """Post balanced ``lines`` (account, amount) once for ``key``, atomically.

    Inside a caller's transaction this becomes part of it (a savepoint): if the caller
    fails afterwards, the posting is rolled back with everything else.
    """
    _validate(key, lines)
    with money_transaction():
        if LedgerTransaction.select().where(LedgerTransaction.idempotency_key == key).exists():
            return _replay(key, lines)
        try:
            with database.atomic():
                txn = LedgerTransaction.create(idempotency_key=key, kind=kind, memo=memo[:255])
        except IntegrityError:  # a concurrent request posted the same key first
            return _replay(key, lines)
        for account, amount in sorted(lines, key=lambda line: line[0].id):
            _apply(txn, account, amount)
        return Posting(txn, created=True)


def statement(user_id: int, page: int, per_page: int) -> tuple[list[Entry], bool]:
    """One page (1-based, newest first) of a wallet's entries and whether more follow."""
    rows = list(
        Entry.select(Entry, LedgerTransaction)
        .join(LedgerTransaction)
        .switch(Entry)
        .join(Account)
        .where(Account.code == wallet_code(user_id))
        .order_by(Entry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    return rows[:per_page], len(rows) > per_page


def all_entries(user_id: int):
    """Every entry of a wallet, oldest first (for the CSV export); an iterator."""
    return (
        Entry.select(Entry, LedgerTransaction)
        .join(LedgerTransaction)
        .switch(Entry)
        .join(Account)
        .where(Account.code == wallet_code(user_id))
        .order_by(Entry.id)
        .iterator()
    )


def check() -> list[str]:
    """Every violated invariant, most basic first; an empty list when the books are sound."""
    problems = []
    sums = (
        LedgerTransaction.select(
            LedgerTransaction.idempotency_key,
            fn.COALESCE(fn.SUM(Entry.amount), 0).alias("total"),
            fn.COUNT(Entry.id).alias("lines"),
        )
        .join(Entry, on=(Entry.txn == LedgerTransaction.id), join_type=JOIN.LEFT_OUTER)
        .group_by(LedgerTransaction.id, LedgerTransaction.idempotency_key)
        .order_by(LedgerTransaction.id)
    )
    for row in sums.objects():
        if row.total != 0 or row.lines < 2:
            problems.append(
                f"transaction {row.idempotency_key!r}: {row.lines} entries summing to {row.total}"
            )
    totals = (
        Account.select(
            Account.code, Account.balance, Account.allow_negative,
            fn.COALESCE(fn.SUM(Entry.amount), 0).alias("total"),
        )
        .join(Entry, on=(Entry.account == Account.id), join_type=JOIN.LEFT_OUTER)
        .group_by(Account.id, Account.code, Account.balance, Account.allow_negative)
        .order_by(Account.id)
    )
    for row in totals.objects():
        if row.balance != row.total:
            problems.append(
                f"account {row.code}: stored balance {row.balance} != sum of entries {row.total}"
            )
        if row.balance < 0 and not row.allow_negative:
            problems.append(f"account {row.code}: negative balance {row.balance}")
        if not KNOWN_ACCOUNT.fullmatch(row.code):
            problems.append(f"account {row.code}: not a wallet, receivable or house account")
        elif row.code.startswith("receivable:") and row.balance > 0:
            problems.append(f"account {row.code}: a receivable in credit ({row.balance})")
    last = (
        Entry.select(Account.code, Account.balance, Entry.balance_after)
        .join(Account)
        .where(Entry.id.in_(Entry.select(fn.MAX(Entry.id)).group_by(Entry.account)))
        .order_by(Account.id)
    )
    for row in last.objects():
        if row.balance_after != row.balance:
            problems.append(
                f"account {row.code}: last entry says {row.balance_after}, stored balance {row.balance}"
            )
    return problems
