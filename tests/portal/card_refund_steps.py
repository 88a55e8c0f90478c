"""Steps shared by the ticket, card-refund and staff tests: a deposit paid through the demo
checkout, a staff member, a refund requested and approved, a purchase debiting a wallet
through the ledger, and what the database says afterwards."""

from __future__ import annotations

import uuid

from portal.store import db
from portal.money import ledger
from portal.store.models import Deposit, Ticket, User
from portal_testing import Person

STAFF_EMAIL = "sam@staff.example.com"


def paid_card_deposit(person: Person, amount: str = "25", method: str = "card", **form) -> Deposit:
    """Deposit through the form (with more ``form`` fields) and pay on the demo checkout or
    invoice page."""
    checkout = person.deposit(amount, method, **form).headers["HX-Redirect"]
    person.refresh_token(checkout)
    assert person.post(checkout + "/pay", htmx=True).status_code == 200
    with db.connection():
        return Deposit.select().order_by(Deposit.id.desc()).first()


def staff_member(app) -> Person:
    someone = Person(app.test_client())
    assert someone.register(email=STAFF_EMAIL).status_code == 303
    with db.connection():
        User.update(is_staff=True).where(User.email == STAFF_EMAIL).execute()
    return someone


def request_refund(person: Person, deposit: Deposit, body: str = "Please refund."):
    """Open a card-refund ticket for ``deposit`` the way the refund meter's link does."""
    person.refresh_token(f"/tickets/new?deposit={deposit.reference}")
    return person.post("/tickets", {"category": "card_refund", "deposit": deposit.reference,
                                    "subject": "Refund", "body": body}, htmx=True)


def approve_refund(staff: Person, ticket_id: int):
    """Staff approve a card-refund ticket from its page; the response."""
    staff.refresh_token(f"/staff/tickets/{ticket_id}")
    return staff.post(f"/staff/tickets/{ticket_id}/decision", {"action": "approve"}, htmx=True)


def refunded_deposit(app, person: Person, amount: str = "10") -> tuple[Person, Deposit, Ticket]:
    """A card deposit paid, its refund requested and approved (the demo processor settles
    it): the staff member, the deposit and the ticket."""
    deposit = paid_card_deposit(person, amount)
    staff = staff_member(app)
    assert request_refund(person, deposit).status_code == 204
    with db.connection():
        ticket = Ticket.get(Ticket.deposit == deposit.id)
    assert approve_refund(staff, ticket.id).status_code == 200
    return staff, deposit, ticket


def purchase(user_id: int, cents: int, key: str | None = None):
    """A purchase: the wallet debited through the ledger, as a rental's payment is."""
    return ledger.post(key or f"purchase:{uuid.uuid4().hex}", "rental",
                       [(ledger.wallet(user_id), -cents), (ledger.house("sales"), cents)])


def user_id(email: str = "ann@example.com") -> int:
    with db.connection():
        return User.get(User.email == email).id


def balance(email: str = "ann@example.com") -> int:
    with db.connection():
        return ledger.balance(User.get(User.email == email).id)


def reload(model, row_id):
    with db.connection():
        return model.get_by_id(row_id)
