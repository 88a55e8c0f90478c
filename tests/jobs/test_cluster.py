"""Two portal instances (gunicorn, two workers each) and two job consumers on PostgreSQL and
Redis, against one fake SMS upstream: 16 customers rent, poll their rows and refund (each
refund sent to both instances at once) while the upstream delivers some SMS, a few of them
also pushed. Every SMS is recorded once, every refund credited once, ledger-check clean."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from portal.accounts import users
from portal.money import ledger
from portal.numbers import catalog
from portal.policy import terms_in_force
from portal.site_versions import published
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import Entry, LedgerTransaction, Rental, RentalMessage, Service
import portal_pg as pg
from portal_pg import free_port
from portal_testing import FAST_ARGON2, PASSWORD, make_app, run_cli
from tests import gunicorn
from tests.sms.fake_upstream import FakeUpstream

CUSTOMERS = 16
WINDOW_SECONDS = 4
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
RENT_TOKEN = re.compile(r'id="rent-token" name="token" value="([^"]+)"')
REFERENCE = re.compile(r'id="rental-(rent_[A-Za-z0-9_-]+)"')


class Browser:
    """A customer's browser over HTTP: cookies, and the CSRF token of the last page."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""

    def get(self, path: str, htmx: bool = False) -> str:
        request = urllib.request.Request(self.base + path, headers={"HX-Request": "true"} if htmx else {})
        body = self.opener.open(request, timeout=30).read().decode()
        found = TOKEN.search(body)
        self.token = found.group(1) if found else self.token
        return body

    def post(self, path: str, form: dict, base: str | None = None) -> tuple[int, str]:
        request = urllib.request.Request((base or self.base) + path, data=urllib.parse.urlencode(form).encode(),
                                         headers={"HX-Request": "true", "X-CSRFToken": self.token})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.fixture
def cluster(postgres_admin_url, postgres_template, site_dir, redis_server, consumers, tmp_path):
    name = "portal_cluster_" + uuid.uuid4().hex[:8]
    pg.admin(postgres_admin_url, f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    url = pg.database_url(postgres_admin_url, name)
    redis_server.flush()
    upstream = FakeUpstream().start()
    settings = {"SMS_PROVIDER": "sms-activate", "SMS_ACTIVATE_URL": upstream.url,
                "SMS_ACTIVATE_KEY": upstream.api_key, "REDIS_URL": redis_server.url,
                "QUEUE_IMMEDIATE": False}
    app = make_app(url, site_dir, **settings)
    with app.app_context(), db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
        Service.update(wait_seconds=WINDOW_SECONDS).where(Service.code == "wa").execute()
    db.database.obj.close_all()
    env = {**os.environ, "DATABASE_URL": url, "SITE_DIR": site_dir, "SECRET_KEY": "test-secret-key",
           "PUBLIC_URL": "http://127.0.0.1", "STRIPE_SECRET_KEY": "", "CRYPTO_API_KEY": "",
           **{key: str(value) for key, value in settings.items() if key != "QUEUE_IMMEDIATE"}}
    instances, bases = [], []
    for number in range(2):
        port = free_port()
        instances.append(gunicorn.start(env, port, "--workers", "2", "--threads", "4",
                                        stderr=open(tmp_path / f"portal-{number}.log", "wb")))
        bases.append(f"http://127.0.0.1:{port}")
    for _ in range(2):
        consumers(app, workers=3)
    try:
        yield app, bases, upstream
    finally:
        for process in instances:
            gunicorn.stop(process)
        upstream.stop()
        db.database.obj.close_all()
        pg.admin(postgres_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def customer_run(number: int, bases: list[str], upstream: FakeUpstream, app, outcomes: dict) -> None:
    home, other = bases[number % 2], bases[(number + 1) % 2]
    browser = Browser(home)
    email = f"c{number}@example.com"  # opened here: one address may open only so many an hour
    with app.app_context(), db.connection():
        terms = published(app.config["SITE_DIR"], terms_in_force(utcnow()).version, "en")
        user = users.register(email=email, password=PASSWORD, language="en", country="GB",
                              accepted=True, terms=terms, params=FAST_ARGON2)
        ledger.post(f"fund:{user.id}", "deposit",
                    [(ledger.house("card_clearing"), -1000), (ledger.wallet(user.id), 1000)])
    browser.get("/login")
    status, _ = browser.post("/login", {"email": email, "password": PASSWORD})
    assert status in (200, 204, 303), status
    page = browser.get("/rentals")
    status, body = browser.post("/rentals", {"offer": "GB:wa", "token": RENT_TOKEN.search(page).group(1)})
    assert status == 200, body[:300]
    reference = REFERENCE.search(body).group(1)
    with app.app_context(), db.connection():
        activation = Rental.get(Rental.reference == reference).activation_id
    delivers = number % 3 != 0  # two customers in three get an SMS, some of them twice
    if delivers:
        upstream.deliver(activation, f"{number:03d}111", f"Your code {number:03d}111")
        if number % 4 == 1:
            upstream.deliver(activation, f"{number:03d}222", f"Your code {number:03d}222")
        if number % 5 == 2:  # also pushed, to the other instance
            push = urllib.request.Request(f"{other}/webhooks/sms/sms-activate", method="POST",
                                          data=json.dumps({"activationId": activation, "code": "x"}).encode(),
                                          headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(push, timeout=30) as answer:
                assert answer.status == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = browser.get(f"/rentals/{reference}", htmx=True)
        if (delivers and row.count('class="sms"') == (2 if number % 4 == 1 else 1)) or \
                (not delivers and "Request refund" in row):
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"customer {number}: the row never showed what happened")
    if not delivers:  # refund, sent to both instances at once (a double click, two tabs)
        browser.get(f"/rentals/{reference}")
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda base: browser.post(f"/rentals/{reference}/refund", {}, base), bases))
        assert sorted(status for status, _ in answers) in ([200, 409], [200, 200]), answers
    outcomes[number] = (reference, delivers)


def test_two_instances_and_two_consumers_record_every_sms_once_and_credit_every_refund_once(cluster):
    app, bases, upstream = cluster
    outcomes: dict[int, tuple[str, bool]] = {}
    errors: list[BaseException] = []

    def run(number):
        try:
            customer_run(number, bases, upstream, app, outcomes)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CUSTOMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[0]
    assert len(outcomes) == CUSTOMERS
    with app.app_context(), db.connection():
        for number, (reference, delivers) in outcomes.items():
            rental = Rental.get(Rental.reference == reference)
            messages = RentalMessage.select().where(RentalMessage.rental == rental.id).count()
            refunds = (Entry.select().join(LedgerTransaction)
                       .where(LedgerTransaction.idempotency_key == f"rental:{rental.id}:refund").count())
            if delivers:
                assert (rental.state, messages, refunds) == ("received", 2 if number % 4 == 1 else 1, 0)
            else:
                assert (rental.state, messages, refunds) == ("refunded", 0, 2)  # one transaction, two entries
        assert ledger.check() == []
    assert "ledger-check: ok" in run_cli(app, "ledger-check").output
    batched = len(upstream.calls("getActiveActivations"))
    assert batched > 0 and len(upstream.calls("getStatus")) <= 3 * CUSTOMERS  # polled in batches
