"""The real queues with a real consumer (``flask --app portal jobs``), on both backends
(embedded SQLite file, Redis) and both databases: a side effect written in a request is
delivered after it (e-mail to a local SMTP server, the demo processor's event to the
portal's own webhook), and the ticker polls the SMS upstream so a page shows the SMS
without asking the upstream itself."""

from __future__ import annotations

import time
from datetime import timedelta


from portal.money import ledger
from portal.numbers import catalog, rentals
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import Deposit, OutboxMessage, Rental, RentalEvent, User
from portal_testing import Person
from test_notifications import open_ticket, smtp_server  # noqa: F401 (a fixture)


def eventually(check, seconds: float = 15.0):
    """Wait until ``check()`` is true (the consumer works in its own time); fails after
    ``seconds`` with what ``check`` last returned."""
    deadline = time.monotonic() + seconds
    while True:
        with db.connection():
            result = check()
        if result or time.monotonic() > deadline:
            assert result, "the consumer did not get there in time"
            return result
        time.sleep(0.1)


def test_nothing_is_delivered_in_the_request_and_the_consumer_delivers_it(live_app, consumers,
                                                                          smtp_server):
    port, inbox = smtp_server
    live_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    someone = Person(live_app.test_client())
    someone.register()
    assert open_ticket(someone).status_code == 204
    with db.connection():
        assert [m.state for m in OutboxMessage.select()] == ["pending"]  # written, not sent
    assert inbox.messages == []
    consumers(live_app, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
    eventually(lambda: OutboxMessage.get().state == "sent")
    [(recipients, mail)] = inbox.messages
    assert recipients == ["ann@example.com"] and mail["Subject"] == "Ticket 1 received"
    with db.connection():
        # the same on every try: a receiver recognises a mail sent again
        assert mail["Message-ID"] == f"<{OutboxMessage.get().key.replace(':', '.')}@1001sms.com>"


def test_a_demo_payment_is_credited_by_its_event_after_the_request(live_app, consumers):
    consumers(live_app)
    customer = Person(live_app.test_client())
    customer.register()
    customer.refresh_token("/deposits/new")
    checkout = customer.post("/deposits", {"amount": "25", "method": "card"}, htmx=True).headers["HX-Redirect"]
    customer.refresh_token(checkout)
    paid = customer.post(checkout + "/pay", htmx=True).get_data(as_text=True)
    assert "waiting for its confirmation" in paid and 'hx-trigger="every 1s"' in paid
    deposit = eventually(lambda: Deposit.get_or_none(Deposit.state == "succeeded"))
    with db.connection():
        assert ledger.balance(deposit.user_id) == 2500 and ledger.check() == []
        event = OutboxMessage.get(OutboxMessage.channel == "loopback")
    assert (event.state, event.target, event.tries) == ("sent", "/webhooks/stripe", 1)
    shown = customer.get(f"{checkout}?awaiting=pay", htmx=True)
    assert shown.headers["HX-Trigger"] == "balance-changed" and "hx-trigger" not in shown.get_data(as_text=True)


def test_the_ticker_polls_the_upstream_so_pages_only_read(live_app, consumers):
    live_app.config["SMS_SIMULATOR"] = "default=deliver:2s"
    with live_app.app_context(), db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
    customer = Person(live_app.test_client())
    customer.register()
    with db.connection():
        user = User.get()
        ledger.post("fund", "deposit", [(ledger.house("card_clearing"), -500), (ledger.wallet(user.id), 500)])
        with live_app.app_context():
            rental = rentals.rent(user, "US", "tg", provider=rentals.provider_for(live_app))
    consumers(live_app)
    polled = eventually(lambda: Rental.get_by_id(rental.id).state == "received")
    assert polled
    row = customer.get(f"/rentals/{rental.reference}", htmx=True).get_data(as_text=True)
    assert 'class="sms"' in row and "Telegram code" in row
    with db.connection():
        kinds = [e.kind for e in RentalEvent.select().where(RentalEvent.rental == rental.id).order_by(RentalEvent.id)]
    assert kinds == ["requested", "issued", "sms"]
    page = customer.get(f"/rentals/{rental.reference}").get_data(as_text=True)
    assert "An SMS arrived" in page and "The number was issued and its price charged" in page
