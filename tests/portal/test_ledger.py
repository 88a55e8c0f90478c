"""The ledger: balanced postings, idempotency, no overdraft, immutability, the check, and
concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from peewee import DatabaseError

from portal.store import db
from portal.money import ledger
from portal.store.fields import utcnow
from portal.store.models import Account, Entry, LedgerTransaction, User
from portal_testing import run_cli


def make_user(email="u@example.com") -> User:
    user = User.create(email=email, password_hash="x", terms_version="2026-11-24",
                       terms_sha256="0" * 64, terms_accepted_at=utcnow())
    ledger.open_wallet(user)
    return user


def fund(user, cents, key="fund"):
    return ledger.post(key, "deposit", [(ledger.house("card_clearing"), -cents), (ledger.wallet(user.id), cents)])


def counts():
    return LedgerTransaction.select().count(), Entry.select().count()


def test_a_balanced_posting_moves_money_and_keeps_the_books_sound(connected):
    user = make_user()
    posting = fund(user, 2_500)
    assert posting.created
    assert ledger.balance(user.id) == 2_500
    assert ledger.house("card_clearing").balance == -2_500
    assert [e.balance_after for e in Entry.select().where(Entry.account == ledger.wallet(user.id))] == [2_500]
    assert ledger.check() == []


def test_posting_the_same_key_again_moves_nothing(connected):
    user = make_user()
    first = fund(user, 700, key="k1")
    again = fund(user, 700, key="k1")
    assert not again.created and again.txn.id == first.txn.id
    assert ledger.balance(user.id) == 700
    assert counts() == (1, 2)


def test_the_same_key_with_other_entries_is_refused(connected):
    user = make_user()
    fund(user, 700, key="k1")
    with pytest.raises(ledger.IdempotencyConflict):
        fund(user, 701, key="k1")
    assert ledger.balance(user.id) == 700


BAD_POSTINGS = [
    ("unbalanced", "k", [("house", -100), ("wallet", 99)]),
    ("zero amount", "k", [("house", 0), ("wallet", 0)]),
    ("float amount", "k", [("house", -1.5), ("wallet", 1.5)]),
    ("bool amount", "k", [("house", True), ("wallet", -1)]),
    ("beyond the limit", "k", [("house", -(10**15 + 1)), ("wallet", 10**15 + 1)]),
    ("single entry", "k", [("wallet", 100)]),
    ("same account twice", "k", [("wallet", -100), ("wallet", 100)]),
    ("empty key", "", [("house", -100), ("wallet", 100)]),
    ("key too long", "k" * 129, [("house", -100), ("wallet", 100)]),
]


@pytest.mark.parametrize("case, key, lines", BAD_POSTINGS, ids=[c[0] for c in BAD_POSTINGS])
def test_invalid_postings_are_refused_and_write_nothing(connected, case, key, lines):
    user = make_user()
    accounts = {"house": ledger.house("sales"), "wallet": ledger.wallet(user.id)}
    with pytest.raises(ledger.LedgerError):
        ledger.post(key, "test", [(accounts[name], amount) for name, amount in lines])
    assert counts() == (0, 0)
    assert ledger.balance(user.id) == 0


def test_a_wallet_cannot_go_below_zero_and_the_refusal_writes_nothing(connected):
    user = make_user()
    fund(user, 500)
    with pytest.raises(ledger.InsufficientFunds):
        ledger.post("spend", "rental", [(ledger.wallet(user.id), -501), (ledger.house("sales"), 501)])
    assert ledger.balance(user.id) == 500
    assert counts() == (1, 2)
    ledger.post("spend", "rental", [(ledger.wallet(user.id), -500), (ledger.house("sales"), 500)])
    assert ledger.balance(user.id) == 0


def test_a_posting_inside_a_failing_transaction_is_rolled_back_with_it(connected):
    user = make_user()
    with pytest.raises(RuntimeError):
        with db.money_transaction():
            fund(user, 900)
            raise RuntimeError("the caller failed after posting")
    assert ledger.balance(user.id) == 0
    assert counts() == (0, 0)


@pytest.mark.parametrize("statement", [
    'UPDATE "entry" SET amount = amount + 1',
    'DELETE FROM "entry"',
    'UPDATE "ledger_transaction" SET kind = \'x\'',
    'DELETE FROM "ledger_transaction"',
])
def test_the_database_refuses_to_change_ledger_rows(connected, statement):
    fund(make_user(), 100)
    with pytest.raises(DatabaseError):
        with db.database.atomic():
            db.database.execute_sql(statement)
    assert counts() == (1, 2)


def test_check_names_a_tampered_balance(connected):
    user = make_user()
    fund(user, 100)
    Account.update(balance=Account.balance + 1).where(Account.id == ledger.wallet(user.id).id).execute()
    problems = ledger.check()
    assert problems == [f"account wallet:{user.id}: stored balance 101 != sum of entries 100",
                        f"account wallet:{user.id}: last entry says 100, stored balance 101"]


def test_a_receivable_holds_what_the_customer_owes_and_never_a_credit(connected):
    user = make_user()
    ledger.post("dispute", "dispute", [(ledger.house("card_clearing"), 700), (ledger.receivable(user.id), -700)])
    assert (ledger.owed(user.id), ledger.check()) == (700, [])
    ledger.post("overpaid", "dispute_reversal",
                [(ledger.house("card_clearing"), -1000), (ledger.receivable(user.id), 1000)])
    assert ledger.check() == [f"account receivable:{user.id}: a receivable in credit (300)"]


@pytest.mark.parametrize("code", ["house:petty_cash", "wallet:", "wallet:0", "receivable:x", "suspense"])
def test_check_names_an_account_of_no_known_kind(connected, code):
    Account.create(code=code, allow_negative=True)
    assert ledger.check() == [f"account {code}: not a wallet, receivable or house account"]


def test_check_names_a_running_balance_that_disagrees(connected):
    user = make_user()
    posting = fund(user, 100)
    other = ledger.house("sales")
    Entry.create(txn=posting.txn, account=other, amount=0, balance_after=999)
    assert "account house:sales: last entry says 999, stored balance 0" in ledger.check()


def test_check_names_an_unbalanced_transaction(connected):
    user = make_user()
    posting = fund(user, 100)
    Entry.create(txn=posting.txn, account=ledger.wallet(user.id), amount=5, balance_after=105)
    problems = ledger.check()
    assert problems[0] == "transaction 'fund': 3 entries summing to 5"


def test_ledger_check_command_exits_non_zero_naming_the_violation(app):
    ok = run_cli(app, "ledger-check")
    assert ok.exit_code == 0 and "ok" in ok.output
    with db.connection():
        user = make_user()
        fund(user, 100)
        Account.update(balance=7).where(Account.code == f"wallet:{user.id}").execute()
    failed = run_cli(app, "ledger-check")
    assert failed.exit_code == 1
    assert f"account wallet:{user.id}: stored balance 7 != sum of entries 100" in failed.output


def _in_threads(count, work):
    barrier = threading.Barrier(count)

    def run(i):
        with db.connection():
            barrier.wait()
            return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_postings_of_one_key_credit_once(connected):
    user = make_user()
    results = _in_threads(50, lambda i: fund(user, 1_000, key="same").created)
    assert results.count(True) == 1
    assert ledger.balance(user.id) == 1_000
    assert ledger.check() == []


def test_concurrent_spending_never_overdraws(connected):
    user = make_user()
    fund(user, 1_000)

    def spend(i):
        try:
            ledger.post(f"spend:{i}", "rental", [(ledger.wallet(user.id), -300), (ledger.house("sales"), 300)])
            return True
        except ledger.InsufficientFunds:
            return False

    results = _in_threads(12, spend)
    assert results.count(True) == 3
    assert ledger.balance(user.id) == 100
    assert ledger.check() == []
