"""Support tickets through the customer's pages: the form and its inline validation, the
first-response due time from the policy, the thread with replies, plain-text bodies, and
no access to another customer's tickets or deposits."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from babel.dates import format_datetime

from card_refund_steps import paid_card_deposit, staff_member
from portal.store import db
from portal.support import tickets
from portal.store.models import OutboxMessage, Ticket, TicketMessage
from portal.policy import first_response_due
from portal_testing import Person


def open_ticket(person, **fields):
    person.refresh_token("/tickets/new")
    data = {"subject": "Number did not work", "category": "other", "body": "Hello", **fields}
    return person.post("/tickets", data, htmx=True)


BAD_TICKETS = [
    ("no subject", dict(subject="  "), "subject", "Enter a subject."),
    ("long subject", dict(subject="x" * 121), "subject", "Use at most 120 characters for the subject."),
    ("no message", dict(body="\n \n"), "body", "Write a message."),
    ("long message", dict(body="x" * 5001), "body", "Use at most 5000 characters for the message."),
    ("unknown category", dict(category="cake"), "category", "Choose what your request is about."),
    ("card refund without deposit", dict(category="card_refund"), "deposit",
     "Choose one of your credited card deposits."),
    ("card refund of an unknown deposit", dict(category="card_refund", deposit="dep_nope"), "deposit",
     "Choose one of your credited card deposits."),
]


@pytest.mark.parametrize("case, change, field, message", BAD_TICKETS, ids=[c[0] for c in BAD_TICKETS])
def test_bad_tickets_answer_inline_in_the_form_and_write_nothing(customer, case, change, field, message):
    response = open_ticket(customer, **change)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="ticket-form"')  # the fragment alone
    assert f'id="{field}-error"' in body and message in body
    with db.connection():
        assert Ticket.select().count() == 0 and TicketMessage.select().count() == 0


def test_the_form_keeps_what_was_typed(customer):
    body = open_ticket(customer, subject="", body="my words").get_data(as_text=True)
    assert ">my words</textarea>" in body


MONDAY = datetime(2026, 11, 30, tzinfo=timezone.utc)
# opened at -> first response due (48 business hours, Monday to Friday, UTC)
DUE_TIMES = [
    ("monday morning", datetime(2026, 11, 30, 10, tzinfo=timezone.utc), datetime(2026, 12, 2, 10, tzinfo=timezone.utc)),
    ("thursday late", datetime(2026, 12, 3, 23, tzinfo=timezone.utc), datetime(2026, 12, 7, 23, tzinfo=timezone.utc)),
    ("friday morning", datetime(2026, 12, 4, 10, tzinfo=timezone.utc), datetime(2026, 12, 8, 10, tzinfo=timezone.utc)),
    ("saturday noon", datetime(2026, 12, 5, 12, tzinfo=timezone.utc), datetime(2026, 12, 9, 0, tzinfo=timezone.utc)),
    ("sunday night", datetime(2026, 12, 6, 23, 59, tzinfo=timezone.utc), datetime(2026, 12, 9, 0, tzinfo=timezone.utc)),
    ("wednesday midnight", datetime(2026, 12, 2, 0, tzinfo=timezone.utc), datetime(2026, 12, 4, 0, tzinfo=timezone.utc)),
]


@pytest.mark.parametrize("case, opened, due", DUE_TIMES, ids=[c[0] for c in DUE_TIMES])
def test_every_ticket_shows_its_first_response_due_time(customer, monkeypatch, case, opened, due):
    monkeypatch.setattr(tickets, "utcnow", lambda: opened)
    response = open_ticket(customer)
    assert response.status_code == 204
    with db.connection():
        ticket = Ticket.get()
    assert ticket.first_response_due == due == first_response_due(opened)
    shown = format_datetime(due, "medium", locale="en")
    page = customer.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert shown in page
    assert shown in customer.get("/tickets").get_data(as_text=True)
    with db.connection():
        notice = OutboxMessage.get(OutboxMessage.kind == "ticket_received")
    assert shown in notice.body and notice.target == "ann@example.com"


def test_without_htmx_a_new_ticket_leads_to_its_page(customer):
    customer.refresh_token("/tickets/new")
    response = customer.post("/tickets", {"subject": "Hi", "category": "payment", "body": "Text"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/tickets/")


HOSTILE = ('<script>alert(1)</script>\n<img src=x onerror="alert(2)">\n'
           '<button hx-post="/staff/" hx-trigger="load">go</button>\nsecond line')


def test_ticket_text_is_plain_text_with_line_breaks(app, customer):
    location = open_ticket(customer, subject='<b hx-get="/x">Bold</b>', body=HOSTILE).headers["HX-Redirect"]
    customer.refresh_token(location)
    customer.post(location + "/replies", {"body": "<i>again</i>"}, htmx=True)
    staff = staff_member(app)
    for person, path in ((customer, location), (staff, "/staff" + location)):
        page = person.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page and "<i>again" not in page
        assert 'hx-post="/staff/"' not in page and 'hx-get="/x"' not in page and "<b " not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;\n&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
        assert '<div class="plain">' in page  # shown with white-space: pre-wrap
    queue = staff.get("/staff/?state=all").get_data(as_text=True)
    assert "&lt;b hx-get=&#34;/x&#34;&gt;Bold&lt;/b&gt;" in queue and 'hx-get="/x"' not in queue


def test_replies_form_a_thread_and_staff_answers_are_recorded(app, customer):
    location = open_ticket(customer).headers["HX-Redirect"]
    staff = staff_member(app)
    staff.refresh_token("/staff" + location)
    answered = staff.post("/staff" + location + "/replies", {"body": "We are on it."}, htmx=True)
    assert answered.status_code == 200
    assert answered.get_data(as_text=True).lstrip().startswith('<div id="ticket-thread">')
    with db.connection():
        ticket = Ticket.get()
        assert ticket.state == "answered" and ticket.first_response_at is not None
        assert OutboxMessage.select().where(OutboxMessage.kind == "ticket_answered").count() == 1
    customer.refresh_token(location)
    thread = customer.post(location + "/replies", {"body": "Thanks!\nStill broken."}, htmx=True)
    text = thread.get_data(as_text=True)
    assert text.index("Hello") < text.index("We are on it.") < text.index("Thanks!\nStill broken.")
    with db.connection():
        assert Ticket.get().state == "open"  # the customer's reply reopens it


def test_an_empty_reply_is_refused_inline(customer):
    location = open_ticket(customer).headers["HX-Redirect"]
    customer.refresh_token(location)
    response = customer.post(location + "/replies", {"body": "  "}, htmx=True)
    assert response.status_code == 422 and "Write a message." in response.get_data(as_text=True)


def test_another_customers_ticket_and_deposit_answer_404(app, customer):
    location = open_ticket(customer).headers["HX-Redirect"]
    deposit = paid_card_deposit(customer)
    mallory = Person(app.test_client())
    mallory.register(email="mallory@example.com")
    assert mallory.get(location).status_code == 404
    mallory.refresh_token("/tickets/new")
    assert mallory.post(location + "/replies", {"body": "mine now"}).status_code == 404
    assert mallory.get(f"/tickets/new?deposit={deposit.reference}").status_code == 404
    assert mallory.get(f"/deposits/{deposit.reference}/refund-meter").status_code == 404
    forged = open_ticket(mallory, category="card_refund", deposit=deposit.reference)
    assert forged.status_code == 422
    assert "Choose one of your credited card deposits." in forged.get_data(as_text=True)
    with db.connection():
        assert Ticket.select().where(Ticket.deposit.is_null(False)).count() == 0


def test_german_customers_get_german_refusals(app):
    someone = Person(app.test_client())
    someone.register(email="dora@example.com", language="de", country="AT")
    body = open_ticket(someone, subject="").get_data(as_text=True)
    assert "Geben Sie einen Betreff ein." in body
