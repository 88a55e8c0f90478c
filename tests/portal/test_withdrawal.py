"""The withdrawal function (Directive 2011/83/EU art. 11a) as EU customers use it: the
link "Withdraw from contract here" on every page, choose and confirm, the acknowledgement
(page and e-mail, in the customer's language), what each item becomes under the policy (an
unspent card deposit: the refund meter's own card-refund ticket; a performed service with
the waiver consent: that consent and its clause), one request and one ticket however often
the form is sent, refusals in the user's language, no one else's items, and staff's view."""

from __future__ import annotations

import re
import pytest

from card_refund_steps import paid_card_deposit, purchase, request_refund, staff_member
from portal.store import db
from portal.store.models import OutboxMessage, Rental, Ticket, User, WithdrawalItem, WithdrawalRequest
from portal_testing import Person
from test_rentals_web import rent, shop  # noqa: F401 (shop: a fixture)

TOKEN = re.compile(r'name="token" value="([^"]+)"')
LABEL = "Withdraw from contract here"


def eu_person(app, email="eva@example.com", language="en") -> Person:
    someone = Person(app.test_client())
    assert someone.register(email=email, country="AT", language=language).status_code == 303
    return someone


def choose(person: Person) -> str:
    """Open the withdrawal page; its form's token."""
    page = person.get("/withdraw")
    assert page.status_code == 200
    person.refresh_token("/withdraw")
    return TOKEN.search(page.get_data(as_text=True)).group(1)


def confirm(person: Person, token: str, *items: str):
    return person.post("/withdraw/confirm", {"token": token, "item": list(items)}, htmx=True)


def withdraw(person: Person, *items: str):
    """Choose ``items``, review and confirm, as the pages do; the confirming response."""
    token = choose(person)
    review = person.post("/withdraw", {"token": token, "item": list(items)}, htmx=True)
    assert review.status_code == 200 and "withdrawal-confirm" in review.get_data(as_text=True)
    return confirm(person, token, *items)


def mails(kind: str) -> list[OutboxMessage]:
    with db.connection():
        return list(OutboxMessage.select().where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))


def test_eu_customers_find_the_link_on_every_page(app):
    eva = eu_person(app)  # one account for every page: the suite stays fast
    for path in ("/dashboard", "/account", "/rentals", "/tickets", "/deposits/new", "/statement", "/withdraw"):
        page = eva.get(path).get_data(as_text=True)
        assert f'<a href="/withdraw" id="withdraw-link">{LABEL}</a>' in page, path


def test_the_link_and_the_page_are_for_eu_customers_only(app, customer):
    assert LABEL not in customer.get("/dashboard").get_data(as_text=True)
    assert customer.get("/withdraw").status_code == 404
    assert app.test_client().get("/withdraw").status_code == 302  # sign in first


def test_an_unspent_card_deposit_becomes_the_meters_card_refund_ticket(app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    page = eva.get("/withdraw").get_data(as_text=True)
    assert deposit.reference in page and "becomes a card refund request" in page
    response = withdraw(eva, f"deposit:{deposit.reference}")
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/withdraw/requests/1"
    with db.connection():
        ticket = Ticket.get()
        item = WithdrawalItem.get()
    assert (ticket.category, ticket.deposit_id, ticket.state) == ("card_refund", deposit.id, "open")
    assert (item.kind, item.reference, item.outcome, item.ticket_id) == (
        "deposit", deposit.reference, "withdrawal.card_refund", ticket.id)
    received = eva.get("/withdraw/requests/1").get_data(as_text=True)
    assert "We received your withdrawal" in received and f'href="/tickets/{ticket.id}"' in received
    assert "#card-deposit-refunds" in received
    [mail] = mails("withdrawal_received")
    assert mail.target == "eva@example.com" and "request 1" in mail.subject
    # the date and time of the request, with its zone (the account's: UTC here)
    assert re.search(r"on \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}\W?[AP]M UTC \(request 1\)", mail.body)
    assert f"deposit {deposit.reference}: Unspent and within its refund window" in mail.body
    assert f"Ticket {ticket.id}: http://localhost/tickets/{ticket.id}" in mail.body
    assert [m.kind for m in mails("ticket_received")] == ["ticket_received"]  # as a meter's ticket


def test_a_double_submit_makes_one_request_and_one_ticket(app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    token = choose(eva)
    first = confirm(eva, token, f"deposit:{deposit.reference}")
    again = confirm(eva, token, f"deposit:{deposit.reference}")
    assert first.headers["HX-Redirect"] == again.headers["HX-Redirect"]
    with db.connection():
        assert (WithdrawalRequest.select().count(), WithdrawalItem.select().count(), Ticket.select().count()) == (1, 1, 1)
    assert len(mails("withdrawal_received")) == 1


def test_a_deposit_spent_since_and_a_rental_show_the_waiver_consent_and_its_clause(shop, app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    assert rent(eva, "DE:wa", consent="yes").status_code == 200  # spends from the deposit
    with db.connection():
        rental = Rental.get()
    page = eva.get("/withdraw").get_data(as_text=True)
    assert "Not refundable: spent since." in page and "there is no right of withdrawal" in page
    response = withdraw(eva, f"deposit:{deposit.reference}", f"rental:{rental.reference}")
    assert response.status_code == 204
    with db.connection():
        outcomes = [(i.kind, i.outcome, i.detail, i.consent_id is not None) for i in WithdrawalItem.select().order_by(WithdrawalItem.id)]
        assert Ticket.select().count() == 0
    assert outcomes == [("deposit", "withdrawal.waived", "card_refund.spent_since", True),
                        ("rental", "withdrawal.waived", "", True)]
    received = eva.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert "/en/payment-refund/2026-11-24/#eu-withdrawal" in received
    assert "I expressly request that my deposit is performed immediately" in received
    assert "I expressly request that the number is provided immediately" in received
    assert "Terms version 2026-11-24" in received
    [mail] = mails("withdrawal_received")
    assert "Your consent of" in mail.body and "http://localhost/en/payment-refund/2026-11-24/#eu-withdrawal" in mail.body


@pytest.mark.parametrize("language, message", [
    ("en", "Choose at least one deposit or number rental to withdraw from."),
    ("de", "Wählen Sie mindestens eine Einzahlung oder Nummernmiete, die Sie widerrufen."),
])
def test_choosing_nothing_is_refused_in_the_users_language(app, language, message):
    eva = eu_person(app, language=language)
    paid_card_deposit(eva, "25", consent="yes")
    token = choose(eva)
    for path in ("/withdraw", "/withdraw/confirm"):
        response = eva.post(path, {"token": token}, htmx=True)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    with db.connection():
        assert WithdrawalRequest.select().count() == 0


def test_another_users_items_and_requests_are_refused(app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    assert withdraw(eva, f"deposit:{deposit.reference}").status_code == 204
    otto = eu_person(app, email="otto@example.com")
    paid_card_deposit(otto, "10", consent="yes")
    token = choose(otto)
    for path in ("/withdraw", "/withdraw/confirm"):
        refused = otto.post(path, {"token": token, "item": f"deposit:{deposit.reference}"}, htmx=True)
        assert refused.status_code == 422 and "is not yours" in refused.get_data(as_text=True)
    assert otto.get("/withdraw/requests/1").status_code == 404
    with db.connection():
        assert (WithdrawalRequest.select().count(), Ticket.select().count()) == (1, 1)


def test_the_forms_need_the_csrf_token_and_a_form_token(app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    choose(eva)
    item = f"deposit:{deposit.reference}"
    assert eva.post("/withdraw", {"item": item}, csrf=False).status_code == 400
    assert eva.post("/withdraw/confirm", {"item": item, "token": "x" * 22}, csrf=False).status_code == 400
    expired = eva.post("/withdraw/confirm", {"item": item, "token": "bad"}, htmx=True)
    assert expired.status_code == 422 and "This form has expired" in expired.get_data(as_text=True)
    with db.connection():
        assert WithdrawalRequest.select().count() == 0


def test_a_deposit_with_an_open_refund_request_names_it_and_opens_no_second(app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    assert request_refund(eva, deposit).status_code == 204
    assert "already been requested" in eva.get("/withdraw").get_data(as_text=True)
    assert withdraw(eva, f"deposit:{deposit.reference}").status_code == 204
    with db.connection():
        item, ticket = WithdrawalItem.get(), Ticket.get()
        assert Ticket.select().count() == 1
    assert (item.outcome, item.ticket_id) == ("withdrawal.refund_requested", ticket.id)


def test_a_deposit_spent_between_the_page_and_the_confirmation_is_not_refunded(app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    token = choose(eva)
    with db.connection():
        purchase(User.get(User.email == "eva@example.com").id, 100)
    assert confirm(eva, token, f"deposit:{deposit.reference}").status_code == 204
    with db.connection():
        assert (WithdrawalItem.get().outcome, Ticket.select().count()) == ("withdrawal.waived", 0)


def test_the_acknowledgement_mail_is_in_the_customers_language(app):
    eva = eu_person(app, language="de")
    deposit = paid_card_deposit(eva, "25", consent="yes")
    assert withdraw(eva, f"deposit:{deposit.reference}").status_code == 204
    [mail] = mails("withdrawal_received")
    assert mail.subject == "Ihr Widerruf des Vertrags (Antrag 1)"
    assert "Wir haben Ihren Widerruf des Vertrags am" in mail.body and "Eingangsbestätigung" in mail.body
    assert "Antrag auf Kartenerstattung" in mail.body


def test_staff_see_the_requests_in_the_queue_and_on_their_page(app):
    eva = eu_person(app)
    deposit = paid_card_deposit(eva, "25", consent="yes")
    assert withdraw(eva, f"deposit:{deposit.reference}").status_code == 204
    staff = staff_member(app)
    for path in ("/staff/", "/staff/withdrawals"):
        page = staff.get(path).get_data(as_text=True)
        assert 'id="staff-withdrawals"' in page and "eva@example.com" in page and deposit.reference in page
        assert 'href="/staff/tickets/1"' in page
    assert eva.get("/staff/withdrawals").status_code == 404
