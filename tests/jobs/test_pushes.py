"""SMS pushed by the upstream (``POST /webhooks/sms/<provider>``): the shape checked, the
source address checked, the SMS taken only as the upstream confirms it, recorded once
however often it is pushed or polled; every refusal a clear answer, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.money import ledger
from portal.numbers import catalog, pushes, rentals
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import Rental, RentalMessage, User
from portal_testing import make_app
from tests.sms.fake_upstream import FakeUpstream

# (address, SMS_PUSH_ALLOWED) -> allowed
SOURCES = [
    ("203.0.113.7", "", True),
    ("203.0.113.7", "203.0.113.0/24", True),
    ("203.0.113.7", "198.51.100.7, 203.0.113.7", True),
    ("198.51.100.8", "198.51.100.7", False),
    ("2001:db8::1", "2001:db8::/32", True),
    ("not an address", "203.0.113.0/24", False),
]


@pytest.mark.parametrize("address, allowed_list, allowed", SOURCES)
def test_sources(address, allowed_list, allowed):
    assert pushes.allowed(address, allowed_list) is allowed


# fields -> the activation id read, or the refusal
SHAPES = [
    ({"activationId": "70000001", "code": "1234"}, "70000001"),
    ({" activationId ": " 70000001 "}, "70000001"),
    ({"activationId": 70000001, "service": "wa", "extra": "ignored"}, "70000001"),
    ({}, "push.bad_activation_id"),
    ({"activationId": "../../etc"}, "push.bad_activation_id"),
    ({"activationId": "x" * 200}, "push.bad_activation_id"),
]


@pytest.mark.parametrize("fields, expected", SHAPES)
def test_shapes(fields, expected):
    try:
        assert pushes.parse(fields).activation_id == expected
    except pushes.InvalidPush as invalid:
        assert invalid.reason == expected


@pytest.fixture
def upstream():
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def pushed(db_url, site_dir, upstream):
    app = make_app(db_url, site_dir, SMS_PROVIDER="sms-activate", SMS_ACTIVATE_URL=upstream.url,
                   SMS_ACTIVATE_KEY=upstream.api_key, SMS_TIMEOUT_SECONDS=0.3, SMS_RETRIES=0)
    with app.app_context(), db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
        user = User.create(email="p@example.com", password_hash="x", country="GB", terms_version="2026-11-24",
                           terms_sha256="0" * 64, terms_accepted_at=utcnow())
        ledger.open_wallet(user)
        ledger.post("fund", "deposit", [(ledger.house("card_clearing"), -1000), (ledger.wallet(user.id), 1000)])
        rental = rentals.rent(user, "GB", "wa")
    return app, app.test_client(), rental


def push(client, body, json=True, address="127.0.0.1"):
    kwargs = {"json": body} if json else {"data": body}
    return client.post("/webhooks/sms/sms-activate", environ_base={"REMOTE_ADDR": address}, **kwargs)


def test_a_confirmed_push_is_recorded_once_as_json_or_form(pushed, upstream):
    app, client, rental = pushed
    upstream.deliver(rental.activation_id, "5555", "Your code 5555")
    first = push(client, {"activationId": rental.activation_id, "code": "5555", "text": "forged text"})
    assert first.status_code == 200 and first.json["result"] == "push.recorded"
    again = push(client, {"activationId": rental.activation_id}, json=False)
    assert again.status_code == 200 and again.json["result"] == "push.already_recorded"
    with db.connection():
        [message] = RentalMessage.select()
        assert (message.text, message.source) == ("Your code 5555", "push")  # the upstream's text
        assert Rental.get_by_id(rental.id).state == "received"


def test_a_push_the_upstream_does_not_confirm_records_nothing(pushed):
    _app, client, rental = pushed
    answer = push(client, {"activationId": rental.activation_id, "code": "0000", "text": "fake"})
    assert answer.status_code == 409 and answer.json["result"] == "push.not_confirmed"
    with db.connection():
        assert RentalMessage.select().count() == 0


@pytest.mark.parametrize("body, status, result", [
    ({"activationId": "99999999"}, 404, "push.unknown_activation"),
    ({"code": "1"}, 400, "push.bad_activation_id"),
    (["not", "an", "object"], 400, "push.bad_activation_id"),
])
def test_bad_pushes_get_clear_answers(pushed, body, status, result):
    _app, client, _rental = pushed
    answer = push(client, body)
    assert answer.status_code == status and result in (answer.json.get("result"), answer.json.get("error"))


def test_a_push_while_the_upstream_is_down_asks_to_come_again(pushed, upstream):
    _app, client, rental = pushed
    upstream.down = True
    answer = push(client, {"activationId": rental.activation_id})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"


def test_only_listed_sources_may_push_and_only_to_the_configured_provider(pushed):
    app, client, rental = pushed
    app.config["SMS_PUSH_ALLOWED"] = "203.0.113.0/24"
    refused = push(client, {"activationId": rental.activation_id}, address="198.51.100.1")
    assert refused.status_code == 403 and refused.json["error"] == "push.source_not_allowed"
    assert client.post("/webhooks/sms/simulator", json={"activationId": "1"}).status_code == 404
