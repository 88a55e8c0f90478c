"""What a withdrawal from a contract (Directive 2011/83/EU art. 11a) does to one deposit or
rental: pure rules of facts, returning a ``policy.Decision`` whose reason is the outcome.

- An unspent card deposit inside its refund window becomes a card-refund request
  (``withdrawal.card_refund``; ``deadline`` is the window's end), unless one is open
  already (``withdrawal.refund_requested``).
- A deposit or rental that was performed after the customer consented to immediate
  performance, acknowledging the loss of the right of withdrawal, is not withdrawn
  (``withdrawal.waived``): the consent record and the clause explain why.
- Without such a consent, staff review it (``withdrawal.staff_review``).
- What was refunded or left the balance already has nothing to withdraw from
  (``withdrawal.closed``).
"""

from __future__ import annotations

from portal.policy import Decision

CARD_REFUND = "withdrawal.card_refund"
REFUND_REQUESTED = "withdrawal.refund_requested"
WAIVED = "withdrawal.waived"
STAFF_REVIEW = "withdrawal.staff_review"
CLOSED = "withdrawal.closed"
OUTCOMES = (CARD_REFUND, REFUND_REQUESTED, WAIVED, STAFF_REVIEW, CLOSED)


def deposit_outcome(*, credited: bool, refund: Decision | None, consented: bool,
                    refund_requested: bool) -> Decision:
    """A deposit: ``credited`` (performed: the balance was credited and is still held),
    ``refund`` the card-refund rule's decision for it now (``policy.card_refund_decision``),
    ``consented`` whether the waiver consent was given for it, ``refund_requested`` whether
    a card-refund request of it is open."""
    if not credited:
        return Decision(False, CLOSED)
    if refund_requested:
        return Decision(False, REFUND_REQUESTED)
    if refund is not None and refund.allowed:
        return Decision(True, CARD_REFUND, refund.deadline)
    if consented:
        return Decision(False, WAIVED)
    return Decision(False, STAFF_REVIEW)


def rental_outcome(*, refunded: bool, consented: bool) -> Decision:
    """A rental: the number is provided at once (performed); ``refunded`` when its price
    came back already (a failed SMS)."""
    if refunded:
        return Decision(False, CLOSED)
    if consented:
        return Decision(False, WAIVED)
    return Decision(False, STAFF_REVIEW)
