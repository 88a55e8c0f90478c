"""What each line of a customer's statement is about: the deposit or the rental whose
money it moved, found for a whole page of entries in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from portal.money import ledger
from portal.store.models import CardRefund, Deposit, Dispute, Entry, Rental


@dataclass(frozen=True)
class Line:
    entry: Entry
    kind: str  # the ledger kind (``postings.KINDS``)
    deposit: str | None = None  # the reference of the deposit the money came from or went to
    rental: str | None = None  # the reference of the rental it paid for or refunded


def _subjects(txn_ids: list[int]) -> dict[int, dict]:
    """{transaction id: {"deposit": reference} or {"rental": reference}}."""
    found: dict[int, dict] = {}
    if not txn_ids:
        return found
    for deposit in Deposit.select(Deposit.txn, Deposit.reference).where(Deposit.txn.in_(txn_ids)):
        found[deposit.txn_id] = {"deposit": deposit.reference}
    linked = (
        CardRefund.select(CardRefund.txn, CardRefund.reversal_txn, Deposit.reference).join(Deposit)
        .where(CardRefund.txn.in_(txn_ids) | CardRefund.reversal_txn.in_(txn_ids)).tuples(),
        Dispute.select(Dispute.withdrawal_txn, Dispute.reinstatement_txn, Deposit.reference).join(Deposit)
        .where(Dispute.withdrawal_txn.in_(txn_ids) | Dispute.reinstatement_txn.in_(txn_ids)).tuples(),
    )
    for query in linked:
        for first, second, reference in query:
            found.update({txn_id: {"deposit": reference} for txn_id in (first, second) if txn_id})
    rentals = Rental.select(Rental.charge_txn, Rental.refund_txn, Rental.reference).where(
        Rental.charge_txn.in_(txn_ids) | Rental.refund_txn.in_(txn_ids))
    for rental in rentals:
        found.update({txn_id: {"rental": rental.reference}
                      for txn_id in (rental.charge_txn_id, rental.refund_txn_id) if txn_id})
    return found


def lines(entries: list[Entry]) -> list[Line]:
    """The ``entries`` (their transactions joined) as lines naming what each is about."""
    subjects = _subjects([entry.txn_id for entry in entries])
    return [Line(entry, entry.txn.kind, **subjects.get(entry.txn_id, {})) for entry in entries]


def page(user_id: int, number: int, per_page: int) -> tuple[list[Line], bool]:
    """One page (1-based, newest first) of a customer's statement and whether more follow."""
    entries, more = ledger.statement(user_id, number, per_page)
    return lines(entries), more
