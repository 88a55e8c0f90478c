"""Faults: a consumer killed in the middle of a batch, Redis stopped and started, an SMS
upstream that fails for a minute. Nothing committed is lost, nothing is delivered twice to
a receiver that deduplicates by the key it is given, nobody is charged for a number that
was not issued, and customers' pages never call the upstream."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from portal import jobs
from portal.jobs import outbox
from portal.money import ledger
from portal.numbers import catalog, health, polling, rentals
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import OutboxMessage, Rental, User
from portal_pg import free_port
from portal_testing import Person, make_app
from test_consumer import eventually
from tests.sms.fake_upstream import FakeUpstream


class SlowInbox:
    """An SMTP receiver that takes a while per message and deduplicates by Message-ID, as an
    idempotent receiver does; it keeps every copy it was sent."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.copies: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        await asyncio.sleep(self.seconds)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.copies.append(mail["Message-ID"])
        return "250 OK"

    @property
    def unique(self) -> set[str]:
        with self.lock:
            return set(self.copies)


@pytest.fixture
def slow_smtp():
    inbox = SlowInbox(0.1)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def write_mails(app, count: int, first: int = 0) -> None:
    with app.app_context(), db.connection():
        with db.money_transaction():
            for number in range(first, first + count):
                outbox.add(key=f"mail:test:{number}", channel="email", target=f"c{number}@example.com",
                           kind="ticket_received", subject=f"Mail {number}", body="Hello")
        jobs.deliver_soon()


def sent() -> int:
    return OutboxMessage.select().where(OutboxMessage.state == "sent").count()


def test_a_consumer_killed_mid_batch_loses_nothing_and_delivers_nothing_twice(
        live_app, consumers, slow_smtp):
    port, inbox = slow_smtp
    settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "OUTBOX_CLAIM_SECONDS": "3"}
    live_app.config.update(settings)
    write_mails(live_app, 20)
    first = consumers(live_app, **settings)
    eventually(lambda: len(inbox.unique) >= 4)
    first.kill()  # kill -9, in the middle of the batch
    with db.connection():
        delivered_before = sent()
        assert delivered_before < 20
    consumers(live_app, **settings)
    eventually(lambda: sent() == 20, seconds=40)
    with db.connection():
        keys = {row.key.replace(":", ".") for row in OutboxMessage.select()}
    assert len(inbox.unique) == 20 and all(any(k in m for m in inbox.unique) for k in keys)
    assert len(inbox.copies) - len(inbox.unique) <= 1  # only the one cut off mid-send came again


def test_redis_stopped_and_started_during_a_run_loses_nothing(db_url, site_dir, redis_server,
                                                               consumers, slow_smtp):
    port, inbox = slow_smtp
    inbox.seconds = 0.01
    redis_server.flush()
    app = make_app(db_url, site_dir, QUEUE_IMMEDIATE=False, REDIS_URL=redis_server.url,
                   SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    consumers(app, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
    write_mails(app, 10)
    eventually(lambda: sent() == 10)
    redis_server.stop()
    try:
        write_mails(app, 10, first=10)  # committed; the queue cannot be told (logged, no error)
        someone = Person(app.test_client())
        assert someone.register().status_code == 303  # the portal still answers
        eventually(lambda: sent() == 20, seconds=20)  # the ticker delivers them itself
    finally:
        redis_server.start()
    write_mails(app, 10, first=20)
    eventually(lambda: sent() == 30, seconds=30)
    assert len(inbox.unique) == 30


@pytest.fixture
def upstream():
    with FakeUpstream() as fake:
        yield fake


def test_an_upstream_failing_for_a_minute_is_left_alone_and_polling_resumes_by_itself(
        db_url, site_dir, upstream):
    app = make_app(db_url, site_dir, SMS_PROVIDER="sms-activate", SMS_ACTIVATE_URL=upstream.url,
                   SMS_ACTIVATE_KEY=upstream.api_key, SMS_TIMEOUT_SECONDS=0.3, SMS_RETRIES=0)
    with app.app_context(), db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
    customer = Person(app.test_client())
    customer.register(country="GB")
    with app.app_context(), db.connection():
        user = User.get()
        ledger.post("fund", "deposit", [(ledger.house("card_clearing"), -1000), (ledger.wallet(user.id), 1000)])
        rental = rentals.rent(user, "GB", "wa")
        paid = rental.price_cents

    upstream.down = True
    start, calls = utcnow(), len(upstream.calls())
    with app.app_context(), db.connection():
        reports = [polling.poll(app, now=start + timedelta(seconds=s)) for s in range(0, 62, 2)]
        assert health.failing("sms-activate", start + timedelta(seconds=61))
    assert all(report.failed for report in reports)
    asked = len(upstream.calls()) - calls
    assert 4 <= asked <= 7  # backing off (2, 4, 8, 16, 32 s), not 31 polls

    calls = len(upstream.calls())
    assert customer.get("/rentals").status_code == 200
    row = customer.get(f"/rentals/{rental.reference}", htmx=True)
    assert row.status_code == 200 and "Waiting for the SMS" in row.get_data(as_text=True)
    customer.refresh_token("/rentals")
    page = customer.get("/rentals").get_data(as_text=True)
    token = page.split('id="rent-token" name="token" value="')[1].split('"')[0]
    refused = customer.post("/rentals", {"offer": "GB:wa", "token": token}, htmx=True)
    assert refused.status_code == 502 and "try again" in refused.get_data(as_text=True).lower()
    assert len(upstream.calls()) == calls  # no page waited on the upstream
    with db.connection():
        assert Rental.select().count() == 1 and ledger.balance(user.id) == 1000 - paid  # nothing charged

    upstream.down = False
    upstream.deliver(rental.activation_id, "246810", "Your code 246810")
    with app.app_context(), db.connection():
        later = start + timedelta(minutes=3)
        report = polling.poll(app, now=later)
        assert report.received == 1 and report.failed == ""
        assert not health.failing("sms-activate", later)
        assert Rental.get_by_id(rental.id).state == "received"


def test_a_timing_out_upstream_is_backed_off_the_same_way(db_url, site_dir, upstream):
    app = make_app(db_url, site_dir, SMS_PROVIDER="sms-activate", SMS_ACTIVATE_URL=upstream.url,
                   SMS_ACTIVATE_KEY=upstream.api_key, SMS_TIMEOUT_SECONDS=0.2, SMS_RETRIES=0)
    with app.app_context(), db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
        user = User.create(email="t@example.com", password_hash="x", country="GB", terms_version="2026-11-24",
                           terms_sha256="0" * 64, terms_accepted_at=utcnow())
        ledger.open_wallet(user)
        ledger.post("fund", "deposit", [(ledger.house("card_clearing"), -1000), (ledger.wallet(user.id), 1000)])
        rentals.rent(user, "GB", "wa")
        upstream.slow = 0.5
        now = utcnow()
        assert polling.poll(app, now=now).failed == "provider.unavailable"
        assert polling.poll(app, now=now + timedelta(seconds=1)).failed == "backing off"
        upstream.slow = 0.0
        assert polling.poll(app, now=now + timedelta(seconds=3)).failed == ""
