"""Every (event, state) pair of the deposit, card-refund and dispute machines, as one table
written out here, applied to stored rows on both databases; and states only move forward."""

from __future__ import annotations

import pytest

from card_refund_steps import refunded_deposit
from portal.store import db
from portal.store.models import CardRefund, Deposit
from portal.states import CARD_REFUND, DEPOSIT, DISPUTE, MACHINES

# event -> {state it applies to: the state it leads to}; every other state stays as it is.
DEPOSIT_TABLE = {
    "checkout_opened": {"created": "checkout"},
    "processor_unavailable": {"created": "failed"},
    "payment_failed": {"created": "failed", "checkout": "failed"},
    "checkout_expired": {"created": "expired", "checkout": "expired"},
    "paid": {"created": "succeeded", "checkout": "succeeded", "failed": "succeeded",
             "expired": "succeeded"},
    "paid_mismatch": {"created": "held", "checkout": "held", "failed": "held", "expired": "held"},
    "held_released": {"held": "succeeded"},
    "held_returned": {"held": "returned"},
    "refund_approved": {"succeeded": "refunding"},
    "refund_succeeded": {"refunding": "refunded"},
    "refund_failed": {"refunding": "refund_failed", "refunded": "refund_failed"},
}
CARD_REFUND_TABLE = {
    "succeeded": {"pending": "succeeded"},
    "failed": {"pending": "failed", "succeeded": "failed"},
}
DISPUTE_TABLE = {
    "under_review": {"needs_response": "under_review"},
    "won": {"needs_response": "won", "under_review": "won"},
    "lost": {"needs_response": "lost", "under_review": "lost"},
}
DEPOSIT_STATES = ("created", "checkout", "failed", "expired", "held", "returned", "succeeded",
                  "refunding", "refunded", "refund_failed")
CARD_REFUND_STATES = ("pending", "succeeded", "failed")
DISPUTE_STATES = ("needs_response", "under_review", "won", "lost")

CASES = [(DEPOSIT, DEPOSIT_TABLE, DEPOSIT_STATES), (CARD_REFUND, CARD_REFUND_TABLE, CARD_REFUND_STATES),
         (DISPUTE, DISPUTE_TABLE, DISPUTE_STATES)]
PAIRS = [(machine, event, state, moves.get(state, state))
         for machine, table, states in CASES
         for event, moves in table.items()
         for state in states]


def test_the_tables_cover_every_event_and_state():
    for machine, table, states in CASES:
        assert set(machine.moves) == set(table) and machine.states == states


@pytest.mark.parametrize("machine, event, state, expected", PAIRS,
                         ids=[f"{m.name}-{e}-from-{s}" for m, e, s, _ in PAIRS])
def test_each_event_in_each_state(machine, event, state, expected):
    assert (machine.after(state, event) or state) == expected


@pytest.fixture
def refund_row(app, customer):
    """A stored deposit with its (demo) card refund, both then set to any state by a test."""
    refunded_deposit(app, customer)
    with db.connection():
        return CardRefund.get()


@pytest.mark.parametrize("machine, table", [(DEPOSIT, DEPOSIT_TABLE), (CARD_REFUND, CARD_REFUND_TABLE)],
                         ids=["deposit", "card refund"])
def test_each_event_in_each_state_on_a_stored_row(refund_row, machine, table):
    model, row_id = (Deposit, refund_row.deposit_id) if machine is DEPOSIT else (CardRefund, refund_row.id)
    with db.connection():
        for event, moves in table.items():
            for state in machine.states:
                model.update(state=state).where(model.id == row_id).execute()
                moved = machine.advance(model, row_id, event)
                assert (moved, model.get_by_id(row_id).state) == (state in moves, moves.get(state, state)), \
                    (event, state)


@pytest.mark.parametrize("machine", MACHINES, ids=[m.name for m in MACHINES])
def test_states_only_move_forward(machine):
    """The moves form an acyclic graph: no sequence of events leads back to a state."""
    edges = {(source, target) for sources, target in machine.moves.values() for source in sources}
    assert all(source != target for source, target in edges)
    order, remaining = [], set(machine.states)
    while remaining:
        roots = {s for s in remaining if not any(t == s and f in remaining for f, t in edges)}
        assert roots, f"a cycle among {sorted(remaining)}"
        order += sorted(roots)
        remaining -= roots
