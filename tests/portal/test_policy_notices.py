"""The e-mail notice of a material policy change: who is told when, once per customer and
version however often the job runs and whatever the batch, in the customer's language,
through the outbox (and by SMTP to a local aiosmtpd server), and what staff see of it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy as email_policy

import pytest
from aiosmtpd.controller import Controller

from card_refund_steps import staff_member
from portal.jobs import tasks
from portal.policy import TERMS
from portal.store import db
from portal.store.models import OutboxMessage, TermsNoticeCampaign, User
from portal.terms import notices
from portal_pg import free_port
from portal_testing import make_app

A, B = TERMS[0], TERMS[1]  # B: the material version of 2027-01-01, published 2026-11-25
NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)  # B is upcoming; its notice is due
PUBLIC = "https://1001sms.com"


def customer(email: str, *, version: str = A.version, language: str = "en", staff: bool = False,
             status: str = "active", created: datetime = NOW - timedelta(hours=1)) -> User:
    return User.create(email=email, password_hash="x", language=language, terms_version=version, terms_sha256="0" * 64,
                       terms_accepted_at=created, is_staff=staff, status=status, created_at=created)


def run(app, now: datetime = NOW, batch: int = notices.BATCH) -> dict[str, int]:
    return notices.run(site_dir=app.config["SITE_DIR"], public_url=PUBLIC, now=now, batch=batch)


def told() -> list[str]:
    return sorted(m.target for m in OutboxMessage.select().where(OutboxMessage.kind == notices.KIND))


@pytest.fixture
def in_app(app):
    with app.app_context(), db.connection():
        yield app


@pytest.mark.parametrize("who, fields, is_told", [
    ("on the version in force", {}, True),
    ("suspended (still a customer)", {"status": "suspended"}, True),
    ("who accepted the new version already", {"version": B.version}, False),
    ("who accepted a later one", {"version": TERMS[2].version}, False),
    ("staff", {"staff": True}, False),
    ("terminated", {"status": "terminated"}, False),
    ("registered 30 s ago (the next run tells)", {"created": NOW - timedelta(seconds=30)}, False),
])
def test_who_is_told(in_app, who, fields, is_told):
    customer("c@example.com", **fields)
    run(in_app)
    assert told() == (["c@example.com"] if is_told else [])
    if "created" in fields:
        run(in_app, NOW + notices.SETTLE)
        assert told() == ["c@example.com"]


@pytest.mark.parametrize("instant, campaigns", [
    (B.published_at - timedelta(seconds=1), {}),  # not published yet
    (B.published_at, {B.version: 2}),
    (B.effective_at - timedelta(seconds=1), {B.version: 2}),
    (B.effective_at, {}),  # in force: too late to announce (the banner tells)
])
def test_when_the_job_writes_notices(in_app, instant, campaigns):
    customer("a@example.com", created=B.published_at - timedelta(days=1))
    customer("b@example.com", created=B.published_at - timedelta(days=1))
    assert run(in_app, instant) == campaigns
    assert len(told()) == (2 if campaigns else 0)


@pytest.mark.parametrize("batch", [1, 2, 500])
def test_each_customer_is_told_once_however_often_the_job_runs(in_app, batch):
    for n in range(5):
        customer(f"c{n}@example.com")
    for _ in range(3):
        run(in_app, batch=batch)
    # a consumer that read the cursor before another moved it goes over the same customers
    TermsNoticeCampaign.update(cursor=0).execute()
    run(in_app, batch=batch)
    assert told() == [f"c{n}@example.com" for n in range(5)]
    assert {m.key for m in OutboxMessage.select()} == {f"terms-notice:{B.version}:{u.id}" for u in User.select()}
    assert TermsNoticeCampaign.get().cursor == User.select().order_by(User.id.desc()).get().id


def test_a_later_run_tells_who_registered_since(in_app):
    customer("early@example.com")
    run(in_app)
    customer("late@example.com", created=NOW + timedelta(days=3))
    assert run(in_app, NOW + timedelta(days=3, minutes=2)) == {B.version: 1}  # only the new one is read
    assert told() == ["early@example.com", "late@example.com"]


@pytest.mark.parametrize("language, subject, phrases", [
    ("en", "Our Payment & Refund Policy changes on January 1, 2027",
     ["version 2027-01-01 takes effect on January 1, 2027", "What changes: Resolves two contradictions",
      f"{PUBLIC}/en/payment-refund/2027-01-01/changes/", f"{PUBLIC}/account"]),
    ("de", "Unsere Zahlungs- und Rückerstattungsrichtlinie ändert sich am 1. Januar 2027",
     ["Die Fassung 2027-01-01 tritt am 1. Januar 2027 in Kraft", "Die Änderungen: Beseitigt zwei Widersprüche",
      f"{PUBLIC}/de/payment-refund/2027-01-01/changes/"]),
])
def test_the_notice_is_in_the_customers_language(in_app, language, subject, phrases):
    customer("c@example.com", language=language)
    run(in_app)
    mail = OutboxMessage.get(OutboxMessage.kind == notices.KIND)
    assert mail.subject == subject and mail.channel == "email" and mail.state == "pending"
    for phrase in phrases:
        assert phrase in mail.body


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


def test_notices_are_sent_by_smtp_and_staff_see_the_campaign(db_url, site_dir):
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        app = make_app(db_url, site_dir, SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_FROM="help@1001sms.com")
        staff = staff_member(app)
        with app.app_context(), db.connection():
            customer("en@example.com")
            customer("de@example.com", language="de")
            customer("gone@example.com")
            run(app)
            gone = OutboxMessage.get(OutboxMessage.target == "gone@example.com")
            OutboxMessage.update(state="dead", tries=8).where(OutboxMessage.id == gone.id).execute()
            assert tasks.deliver_outbox_now(app) == {"sent": 2}
            run(app, NOW + timedelta(hours=1))  # the job again: nothing new to send
            assert tasks.deliver_outbox_now(app) == {}
    finally:
        server.stop()
    assert sorted(m["To"] for m in inbox.messages) == ["de@example.com", "en@example.com"]
    german = next(m for m in inbox.messages if m["To"] == "de@example.com")
    assert german["Subject"].startswith("Unsere Zahlungs- und Rückerstattungsrichtlinie ändert sich")
    assert german["Message-ID"].startswith(f"<terms-notice.{B.version}.")
    assert "/de/payment-refund/2027-01-01/changes/" in german.get_content()

    page = staff.get("/staff/notices").get_data(as_text=True)
    row = page[page.index(f'data-version="{B.version}"'):]
    row = row[:row.index("</tr>")]
    assert '"num sent"' in row and ">2</td>" in row.split('"num sent"')[1][:40]
    assert ">1</a>" in row.split('"num failed"')[1][:200]  # the dead one, linked to the outbox
    assert ">0</td>" in row.split('"num pending"')[1][:40]
    assert "Policy notices" in staff.get("/staff/").get_data(as_text=True)  # linked from the console


def test_the_job_writes_the_notices_due_and_has_them_sent(in_app, monkeypatch):
    from portal import jobs

    monkeypatch.setattr(notices, "utcnow", lambda: NOW)
    customer("c@example.com")
    assert tasks.notices_now(in_app, jobs.of(in_app)) == {B.version: 1}
    assert told() == ["c@example.com"]  # no mail server configured: it waits in the outbox
    assert tasks.notices_now(in_app, jobs.of(in_app)) == {B.version: 0}


@pytest.mark.parametrize("minute, due", [(0, True), (5, True), (3, False)])
def test_the_notice_job_runs_every_five_minutes(app, minute, due):
    from portal import jobs

    periodic = jobs.of(app).queue.read_periodic(datetime(2026, 12, 2, 8, minute))
    assert ("notices" in {task.name for task in periodic}) is due


def test_customers_see_no_staff_page(customer):
    assert customer.get("/staff/notices").status_code == 404
