"""The portal's state machines as data: each names its states and, per event, the states
the event applies to and the state it leads to.

A move is one conditional UPDATE (``... SET state = target WHERE id = ? AND state IN
sources``): when the row is in no state the event applies to (another request won, or the
event came late or twice), nothing changes and ``advance`` says so. The moves of every
machine form an acyclic graph, so states only move forward (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.store.fields import utcnow


@dataclass(frozen=True)
class Machine:
    name: str
    states: tuple[str, ...]
    moves: dict[str, tuple[tuple[str, ...], str]]  # event -> (the states it applies to, target)

    def after(self, state: str, event: str) -> str | None:
        """The state ``event`` leads to from ``state``; None when it does not apply."""
        sources, target = self.moves[event]
        return target if state in sources else None

    def advance(self, model, row_id: int, event: str, **changes) -> bool:
        """Apply ``event`` to one row of ``model`` (with ``changes`` to its other columns)
        if its state allows it; True when this call moved it."""
        sources, target = self.moves[event]
        return bool(model.update(state=target, updated_at=utcnow(), **changes)
                    .where(model.id == row_id, model.state.in_(sources)).execute())


_UNPAID = ("created", "checkout", "failed", "expired")

DEPOSIT = Machine(
    "deposit",
    ("created", "checkout", "failed", "expired", "held", "returned", "succeeded",
     "refunding", "refunded", "refund_failed"),
    {
        "checkout_opened": (("created",), "checkout"),
        "processor_unavailable": (("created",), "failed"),
        "payment_failed": (("created", "checkout"), "failed"),
        "checkout_expired": (("created", "checkout"), "expired"),
        # A payment can still arrive after the session expired or a delayed method failed.
        "paid": (_UNPAID, "succeeded"),
        # Paid, but not the amount or currency the deposit was opened for: staff review it.
        "paid_mismatch": (_UNPAID, "held"),
        # Staff credit a held payment as paid, or send it back to the card uncredited.
        "held_released": (("held",), "succeeded"),
        "held_returned": (("held",), "returned"),
        "refund_approved": (("succeeded",), "refunding"),
        "refund_succeeded": (("refunding",), "refunded"),
        "refund_failed": (("refunding", "refunded"), "refund_failed"),
    },
)
# Before the payment: a processor's status (not a state) may still be recorded.
DEPOSIT_PENDING = ("created", "checkout")
# The deposit's amount is (or was) in the customer's wallet.
DEPOSIT_CREDITED = ("succeeded", "refunding", "refunded", "refund_failed")

CARD_REFUND = Machine(
    "card refund",
    ("pending", "succeeded", "failed"),
    {
        "succeeded": (("pending",), "succeeded"),
        # Stripe may report a refund failed even after it succeeded (the bank returned it).
        "failed": (("pending", "succeeded"), "failed"),
    },
)

# A card dispute, from Stripe's statuses (``disputes.STATE_OF_STATUS``): open while the
# evidence is due or reviewed, then won (the amount comes back) or lost (it stays taken).
DISPUTE = Machine(
    "dispute",
    ("needs_response", "under_review", "won", "lost"),
    {
        "under_review": (("needs_response",), "under_review"),
        "won": (("needs_response", "under_review"), "won"),
        "lost": (("needs_response", "under_review"), "lost"),
    },
)
DISPUTE_OPEN = ("needs_response", "under_review")

# A ticket: open -> answered (a customer's reply opens it again) -> closed; a card-refund
# ticket ends approved or denied. Not a forward-only machine: these are its states.
TICKET_STATES = ("open", "answered", "closed", "approved", "denied")
TICKET_OPEN = ("open", "answered")

# An outbox row (``portal.jobs.outbox``): pending -> sending -> sent, or back to pending
# for the next try, or dead after the last one (staff may make a dead row pending again).
# A delivery loop, not a forward-only machine: these are its states.
OUTBOX_STATES = ("pending", "sending", "sent", "dead")
OUTBOX_DUE = ("pending", "sending")  # sending: claimable again once its claim has lapsed

# An account's standing (set by staff, or restricted while a card dispute is open): only an
# active account may deposit or rent.
STANDINGS = ("active", "restricted", "suspended", "terminated")


def may_transact(standing: str) -> bool:
    return standing == "active"


MACHINES = (DEPOSIT, CARD_REFUND, DISPUTE)
