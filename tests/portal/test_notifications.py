"""Notifications: written to the outbox with the event, in the customer's language, and
sent by a job by SMTP when configured (here to a local aiosmtpd server on 127.0.0.1, the
jobs run at once); a mail server that is down leaves the message pending for a later try,
with its error, and the ticket opened."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from card_refund_steps import staff_member
from portal.store import db
from portal.store.models import OutboxMessage
from portal_pg import free_port
from portal_testing import Person, make_app


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def open_ticket(person, subject="Where is my SMS?"):
    person.refresh_token("/tickets/new")
    return person.post("/tickets", {"subject": subject, "category": "failed_sms", "body": "Help"}, htmx=True)


@pytest.mark.parametrize("language, subject, phrase", [
    ("en", "Ticket 1 received", "We answer by"),
    ("de", "Anfrage 1 eingegangen", "Wir antworten spätestens bis"),
])
def test_notifications_are_sent_by_smtp_in_the_customers_language(db_url, site_dir, smtp_server,
                                                                  language, subject, phrase):
    port, inbox = smtp_server
    app = make_app(db_url, site_dir, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="help@1001sms.com")
    someone = Person(app.test_client())
    someone.register(language=language, country="AT" if language == "de" else "US")
    assert open_ticket(someone).status_code == 204
    assert len(inbox.messages) == 1
    recipients, mail = inbox.messages[0]
    assert recipients == ["ann@example.com"] and mail["From"] == "help@1001sms.com"
    assert mail["Subject"] == subject and phrase in mail.get_content()
    with db.connection():
        row = OutboxMessage.get()
    assert row.state == "sent" and row.sent_at is not None
    staff = staff_member(app)
    staff.refresh_token("/staff/tickets/1")
    staff.post("/staff/tickets/1/replies", {"body": "Done."}, htmx=True)
    assert [m["Subject"] for _, m in inbox.messages][1] in ("Ticket 1 answered", "Anfrage 1 beantwortet")
    assert "sent" in staff.get("/staff/outbox").get_data(as_text=True)


def test_a_mail_server_that_is_down_leaves_the_message_for_a_later_try_and_the_ticket_open(db_url, site_dir):
    app = make_app(db_url, site_dir, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    someone = Person(app.test_client())
    someone.register()
    assert open_ticket(someone).status_code == 204
    with db.connection():
        row = OutboxMessage.get()
    assert (row.state, row.tries) == ("pending", 1) and row.error.startswith("SMTP: ")
    assert row.next_attempt_at > row.created_at


def test_without_smtp_messages_wait_in_the_outbox(customer):
    assert open_ticket(customer).status_code == 204
    with db.connection():
        assert [(m.kind, m.state, m.tries) for m in OutboxMessage.select()] == [
            ("ticket_received", "pending", 0)]
