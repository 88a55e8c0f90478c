"""A hypothesis state machine drives the ledger with random deposits, spends, transfers and
replayed keys, and checks the invariants after every step against a plain model."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from portal.money import ledger
from portal.store.fields import utcnow
from portal.store.models import Account, User

USERS = 3
SERIAL = itertools.count()  # the database outlives each example: names must stay unique


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.expected: dict[int, int] = {}
        self.posted: dict[str, int] = {}

    @initialize()
    def reset(self):
        self.users = []
        for _ in range(USERS):
            user = User.create(email=f"s{next(SERIAL)}@example.com", password_hash="x",
                               terms_version="2026-11-24", terms_sha256="0" * 64,
                               terms_accepted_at=utcnow())
            ledger.open_wallet(user)
            self.users.append(user.id)
            self.expected[user.id] = 0

    def _key(self):
        return f"op-{next(SERIAL)}"

    @rule(who=st.integers(0, USERS - 1), cents=st.integers(1, 10**9))
    def deposit(self, who, cents):
        uid = self.users[who]
        key = self._key()
        ledger.post(key, "deposit", [(ledger.house("card_clearing"), -cents), (ledger.wallet(uid), cents)])
        self.expected[uid] += cents
        self.posted[key] = (uid, cents)

    @rule(who=st.integers(0, USERS - 1), cents=st.integers(1, 10**9))
    def spend(self, who, cents):
        uid = self.users[who]
        lines = [(ledger.wallet(uid), -cents), (ledger.house("sales"), cents)]
        if cents > self.expected[uid]:
            with pytest.raises(ledger.InsufficientFunds):
                ledger.post(self._key(), "rental", lines)
        else:
            ledger.post(self._key(), "rental", lines)
            self.expected[uid] -= cents

    @rule(src=st.integers(0, USERS - 1), dst=st.integers(0, USERS - 1), cents=st.integers(1, 10**6))
    def transfer(self, src, dst, cents):
        a, b = self.users[src], self.users[dst]
        if a == b:
            return
        lines = [(ledger.wallet(a), -cents), (ledger.wallet(b), cents)]
        if cents > self.expected[a]:
            with pytest.raises(ledger.InsufficientFunds):
                ledger.post(self._key(), "transfer", lines)
        else:
            ledger.post(self._key(), "transfer", lines)
            self.expected[a] -= cents
            self.expected[b] += cents

    @rule(data=st.data())
    def replay(self, data):
        if not self.posted:
            return
        key = data.draw(st.sampled_from(sorted(self.posted)))
        uid, cents = self.posted[key]
        again = ledger.post(key, "deposit", [(ledger.house("card_clearing"), -cents), (ledger.wallet(uid), cents)])
        assert not again.created

    @invariant()
    def balances_match_the_model_and_the_books_are_sound(self):
        for uid, cents in self.expected.items():
            assert ledger.balance(uid) == cents
        assert ledger.check() == []
        assert sum(a.balance for a in Account.select()) == 0


def test_ledger_invariants_hold_under_random_operations(connected):
    LedgerMachine.TestCase.settings = settings(
        max_examples=15, stateful_step_count=20, deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    LedgerMachine.TestCase().runTest()
