"""Customer webhooks (``portal.api.webhooks``): the URL rules (a table), the signature a
receiver checks, and the whole path: an SMS recorded for a number rented with a key that has
a webhook is POSTed, signed, to a local receiver that fails the first try; the retry
succeeds, the receiver counts the event once; the account page lists the delivery and sends
it again on request (the same event id)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest

from portal.api import webhooks
from portal.jobs import outbox, tasks
from portal.numbers import polling
from portal.store import db
from portal.store.models import ApiKey, OutboxMessage, Rental
from test_handler import api, rent  # noqa: F401 (a fixture)
from tests.loopback import Loopback

PUBLIC = {"hooks.example.com": ["93.184.216.34"], "inside.example.com": ["10.0.0.5"],
          "mixed.example.com": ["93.184.216.34", "192.168.1.2"], "local.example.com": ["127.0.0.1"],
          "v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"], "link.example.com": ["169.254.169.254"],
          "localhost": ["127.0.0.1", "::1"]}

# (url, demo mode) -> accepted, or the refusal
URLS = [
    ("https://hooks.example.com/sms", False, True),
    ("https://v6.example.com/sms", False, True),
    ("http://hooks.example.com/sms", False, "webhook.url_not_https"),
    ("https://inside.example.com/sms", False, "webhook.url_private"),
    ("https://mixed.example.com/sms", False, "webhook.url_private"),
    ("https://link.example.com/latest/meta-data", False, "webhook.url_private"),
    ("https://local.example.com/sms", False, "webhook.url_private"),
    ("http://127.0.0.1:8000/hook", False, "webhook.url_not_https"),
    ("http://127.0.0.1:8000/hook", True, True),
    ("http://localhost:9/hook", True, True),
    ("http://inside.example.com/sms", True, "webhook.url_not_https"),
    ("https://inside.example.com/sms", True, "webhook.url_private"),
    ("https://nowhere.example.com/", False, "webhook.url_unresolvable"),
    ("ftp://hooks.example.com/", False, "webhook.url_invalid"),
    ("https://user:pw@hooks.example.com/", False, "webhook.url_invalid"),
    ("not a url", False, "webhook.url_invalid"),
]


@pytest.mark.parametrize("url, demo, expected", URLS)
def test_urls(url, demo, expected):
    try:
        webhooks.check_url(url, demo=demo, resolve=lambda host: PUBLIC.get(host, []))
        outcome = True
    except webhooks.BadUrl as bad:
        outcome = bad.reason
    assert outcome == expected


def test_a_signature_verifies_and_a_changed_body_or_an_old_one_does_not():
    header = webhooks.signature("s3cret", 1_800_000_000, b'{"a":1}')
    assert webhooks.verify("s3cret", header, b'{"a":1}', now=1_800_000_010)
    assert not webhooks.verify("s3cret", header, b'{"a":2}', now=1_800_000_010)
    assert not webhooks.verify("other", header, b'{"a":1}', now=1_800_000_010)
    assert not webhooks.verify("s3cret", header, b'{"a":1}', now=1_800_001_000)
    assert not webhooks.verify("s3cret", "garbage", b'{"a":1}')


class Receiver:
    """A customer's webhook endpoint: fails the first request, verifies every signature,
    counts events by their id."""

    def __init__(self, secret: str):
        self.secret, self.seen, self.events, self.lock = secret, [], {}, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.seen.append(self.headers["X-Webhook-Id"])
                    good = webhooks.verify(receiver.secret, self.headers["X-Webhook-Signature"], body)
                    first = len(receiver.seen) == 1
                    if good and not first:
                        receiver.events[self.headers["X-Webhook-Id"]] = json.loads(body)
                self.send_response(500 if first or not good else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = Loopback(Handler, poll_interval=0.05)


def test_an_sms_reaches_the_customers_webhook_once_signed_through_retries(api):  # noqa: F811
    with db.connection():
        key = ApiKey.get()
    receiver = Receiver(key.webhook_secret)
    try:
        api.web.refresh_token("/account")
        saved = api.web.post(f"/account/api-keys/{key.id}/webhook", {"webhook_url": receiver.server.url + "/hook"},
                             htmx=True)
        assert saved.status_code == 200 and "Webhook saved." in saved.get_data(as_text=True)
        rental_id = rent(api, "tg")
        with api.app.app_context(), db.connection():
            polling.poll(api.app)  # the SMS comes, and its webhook is written with it
            row = OutboxMessage.get(OutboxMessage.channel == "webhook")
            assert row.state == "pending" or row.tries >= 1
            now = row.created_at
            for _ in range(3):  # the first try fails (500): retried after its backoff
                now += timedelta(seconds=10)
                outbox.deliver_due(tasks.senders.senders_for(api.app), now)
            row = OutboxMessage.get_by_id(row.id)
        assert row.state == "sent"
        [(event_id, event)] = receiver.events.items()
        assert event_id == row.key and len(receiver.seen) == 2 and set(receiver.seen) == {row.key}
        with db.connection():
            assert event["activationId"] == rental_id == Rental.get().id
        assert event["service"] == "tg" and event["country"] == 16 and event["code"] in event["text"]
        page = api.web.get("/account").get_data(as_text=True)
        assert 'id="webhook-deliveries"' in page and receiver.server.url in page
        again = api.web.post(f"/account/webhooks/{row.id}/again", htmx=True)
        assert again.status_code == 200
        time.sleep(0.1)
        assert receiver.seen.count(row.key) == 3 and len(receiver.events) == 1  # the same event again
    finally:
        receiver.server.stop()


def test_a_private_webhook_address_is_refused_on_the_account_page(api):  # noqa: F811
    api.app.config["DEMO_MODE"] = False
    with db.connection():
        key = ApiKey.get()
    api.web.refresh_token("/account")
    refused = api.web.post(f"/account/api-keys/{key.id}/webhook", {"webhook_url": "https://127.0.0.1/hook"},
                           htmx=True)
    assert refused.status_code == 422 and "private network" in refused.get_data(as_text=True)


def test_webhooks_are_retried_for_a_day_then_given_up(connected):
    row = outbox.add(key="webhook:sms:1", channel="webhook", target="https://x", kind="sms", body="{}",
                     headers={"api_key_id": "1"})
    failing = {"webhook": lambda r: (_ for _ in ()).throw(outbox.DeliveryFailed("answered 500"))}
    now, outcome = row.created_at, None
    while outcome != "dead":
        outcome = outbox.deliver(row.id, failing, now)
        now = OutboxMessage.get_by_id(row.id).next_attempt_at or now
    stored = OutboxMessage.get_by_id(row.id)
    assert stored.tries > outbox.MAX_TRIES and now - row.created_at >= timedelta(hours=24)
