"""The handler protocol (``/stubs/handler_api.php``) through the test client, on SQLite and
PostgreSQL: keys, every error word, every action's answer, and the same policy as the web
(price, postings, the EU consent, standing, the refund rule; a web refund and an API cancel
racing credit once)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from portal.api import keys
from portal.money import ledger
from portal.numbers import catalog, polling, timeline
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import ApiKey, Consent, OutboxMessage, Rental, Service, User
from portal_testing import Person, run_cli

WINDOW = 2  # seconds: the wait window of wa here


@pytest.fixture
def api(app):
    """The customer ann (GB, $10.00) with a key; ``call(**params)`` asks the API."""
    app.config["SMS_SIMULATOR"] = "default=never;tg=deliver:0s"
    person = Person(app.test_client())
    person.register(country="GB")
    with app.app_context(), db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
        Service.update(wait_seconds=WINDOW).where(Service.code == "wa").execute()
        user = User.get()
        ledger.post("fund", "deposit", [(ledger.house("card_clearing"), -1000), (ledger.wallet(user.id), 1000)])
    key = run_cli(app, "api-key", "create", "ann@example.com", "--name", "bot").output.strip()

    class Api:
        web = person

        def __init__(self):
            self.key, self.app = key, app

        def call(self, method="GET", key=None, **params):
            query = {"api_key": self.key if key is None else key, **params}
            client = app.test_client()
            if method == "GET":
                answer = client.get("/stubs/handler_api.php", query_string=query)
            else:
                answer = client.post("/stubs/handler_api.php", data=query)
            assert answer.status_code == 200
            body = answer.get_data(as_text=True)
            return json.loads(body) if answer.mimetype == "application/json" else body

        def balance(self):
            with db.connection():
                return ledger.balance(User.get().id)

        def pass_window(self, rental_id):
            with db.connection():
                rental, back = Rental.get_by_id(rental_id), timedelta(seconds=WINDOW + 1)
                Rental.update(rented_at=rental.rented_at - back, ends_at=rental.ends_at - back).where(
                    Rental.id == rental_id).execute()

    return Api()


def rent(api, service="wa", **extra) -> int:
    answer = api.call(action="getNumber", service=service, country="16", **extra)
    assert answer.startswith("ACCESS_NUMBER:"), answer
    return int(answer.split(":")[1])


def test_the_cli_prints_a_key_that_is_kept_hashed(api):
    assert len(api.key) == 32
    with db.connection():
        row = ApiKey.get()
    assert row.digest == keys.digest(api.key) and api.key not in (row.digest, row.prefix + "x")
    assert row.name == "bot"


@pytest.mark.parametrize("params, answer", [
    ({"key": ""}, "NO_KEY"),
    ({"key": "0" * 32}, "BAD_KEY"),
    ({"action": "getWeather"}, "BAD_ACTION"),
    ({"action": "getNumber", "service": "zz", "country": "16"}, "BAD_SERVICE"),
    ({"action": "getNumber", "service": "wa", "country": "9999"}, "BAD_COUNTRY"),
    ({"action": "getNumber", "service": "wa", "country": "x"}, "BAD_COUNTRY"),
    ({"action": "getNumber", "service": "wa", "country": "16", "maxPrice": "0.50"}, "WRONG_MAX_PRICE:1.20"),
    ({"action": "getStatus", "id": "424242"}, "NO_ACTIVATION"),
    ({"action": "getStatus", "id": "nope"}, "NO_ACTIVATION"),
    ({"action": "getStatus", "id": "9" * 30}, "NO_ACTIVATION"),
    ({"action": "getStatusV2", "id": "-1"}, "NO_ACTIVATION"),
    ({"action": "setStatus", "id": "424242", "status": "8"}, "NO_ACTIVATION"),
])
def test_errors_are_the_protocols_words(api, params, answer):
    params = dict(params)  # shared by the runs on both databases
    key = params.pop("key", None)
    assert api.call(key=key, **{"action": "getBalance", **params}) == answer


def test_balance_and_a_rental_at_the_webs_price(api):
    assert api.call(action="getBalance") == "ACCESS_BALANCE:10.00"
    rental_id = rent(api, maxPrice="1.20")
    assert api.call(action="getBalance") == "ACCESS_BALANCE:8.80"
    with db.connection():
        rental = Rental.get_by_id(rental_id)
        assert (rental.price_cents, rental.api_key_id) == (120, ApiKey.get().id)
        assert ledger.check() == []
    assert api.call(action="getStatus", id=str(rental_id)) == "STATUS_WAIT_CODE"


def test_parameter_names_are_trimmed_and_post_works(api):
    answer = api.call("POST", **{"action ": "getNumber", " service": "wa", "country ": "16", "operator": "any"})
    assert answer.startswith("ACCESS_NUMBER:")


def test_no_balance(api):
    with db.connection():
        user = User.get()
        ledger.post("spend", "deposit", [(ledger.wallet(user.id), -1000), (ledger.house("card_clearing"), 1000)])
    assert api.call(action="getNumber", service="wa", country="16") == "NO_BALANCE"


def test_an_sms_shows_in_status_v1_and_v2_and_finish_closes_it(api):
    rental_id = rent(api, "tg")
    with api.app.app_context(), db.connection():
        polling.poll(api.app)
    status = api.call(action="getStatus", id=str(rental_id))
    assert status.startswith("STATUS_OK:")
    code = status.split(":")[1]
    v2 = api.call(action="getStatusV2", id=str(rental_id))
    assert v2["sms"]["code"] == code and code in v2["sms"]["text"] and v2["call"] is None
    refund = v2["policy"]["refund"]
    assert (refund["allowed"], refund["reason"]) == (False, "sms_refund.sms_received")
    assert "#non-refundable" in v2["policy"]["refund"]["clause"]
    assert api.call(action="setStatus", id=str(rental_id), status="3") == "ACCESS_RETRY_GET"
    assert api.call(action="getStatus", id=str(rental_id)) == f"STATUS_WAIT_RETRY:{code}"
    with db.connection():
        assert "another_sms_asked" in [event.kind for event in timeline.of(rental_id)]
    assert api.call(action="setStatus", id=str(rental_id), status="6") == "ACCESS_ACTIVATION"
    assert api.call(action="setStatus", id=str(rental_id), status="8") == "BAD_STATUS"  # not refundable
    with db.connection():
        assert Rental.get_by_id(rental_id).closed_at is not None


def test_cancel_refunds_exactly_when_the_web_would(api):
    rental_id = rent(api)
    assert api.call(action="setStatus", id=str(rental_id), status="3") == "BAD_STATUS"  # no SMS yet
    assert api.call(action="setStatus", id=str(rental_id), status="8") == "EARLY_CANCEL_DENIED"
    assert api.call(action="getStatus", id=str(rental_id)) == "STATUS_WAIT_CODE"  # the number stays
    v2 = api.call(action="getStatusV2", id=str(rental_id))
    assert v2["policy"]["refund"]["reason"] == "sms_refund.window_open" and v2["policy"]["refund"]["after"]
    api.pass_window(rental_id)
    assert api.call(action="setStatus", id=str(rental_id), status="8") == "ACCESS_CANCEL"
    assert api.call(action="setStatus", id=str(rental_id), status="8") == "ACCESS_CANCEL"  # idempotent
    assert api.call(action="getStatus", id=str(rental_id)) == "STATUS_CANCEL"
    assert api.balance() == 1000
    with db.connection():
        assert ledger.check() == []


def test_a_web_refund_and_an_api_cancel_credit_once(api):
    rental_id = rent(api)
    api.pass_window(rental_id)
    with db.connection():
        reference = Rental.get_by_id(rental_id).reference
    api.web.refresh_token("/rentals")
    assert api.web.post(f"/rentals/{reference}/refund", htmx=True).status_code == 200
    assert api.call(action="setStatus", id=str(rental_id), status="8") == "ACCESS_CANCEL"
    assert api.balance() == 1000


def test_another_customers_activation_is_no_activation(api, app):
    rental_id = rent(api)
    other = Person(app.test_client())
    other.register(email="bob@example.com", country="GB")
    with db.connection():
        other_key = keys.create(User.get(User.email == "bob@example.com"))[1]
    for action in ("getStatus", "getStatusV2"):
        assert api.call(key=other_key, action=action, id=str(rental_id)) == "NO_ACTIVATION"
    assert api.call(key=other_key, action="setStatus", id=str(rental_id), status="8") == "NO_ACTIVATION"


@pytest.mark.parametrize("status, answer", [("suspended", "ACCOUNT_INACTIVE"), ("restricted", "ACCOUNT_INACTIVE"),
                                            ("terminated", "BANNED")])
def test_standing_closes_the_api(api, status, answer):
    with db.connection():
        User.update(status=status).execute()
    assert api.call(action="getBalance") == answer


def test_a_revoked_key_opens_nothing(api):
    with db.connection():
        assert keys.revoke(User.get(), ApiKey.get().id)
    assert api.call(action="getBalance") == "BAD_KEY"


def test_an_eu_customers_key_works_after_the_api_consent(app):
    person = Person(app.test_client())
    person.register(country="DE")
    with app.app_context(), db.connection():
        key = keys.create(User.get())[1]
    ask = lambda: app.test_client().get(f"/stubs/handler_api.php?api_key={key}&action=getBalance").get_data(as_text=True)  # noqa: E731
    assert ask() == "ACCOUNT_INACTIVE"
    person.refresh_token("/account")
    refused = person.post("/account/api-consent", {}, htmx=True)
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert person.post("/account/api-consent", {"consent": "yes"}, htmx=True).status_code == 200
    assert ask() == "ACCESS_BALANCE:0.00"
    with db.connection():
        consent = Consent.get(Consent.action == "api")
    assert consent.terms_sha256 and consent.ip == "127.0.0.1"
    assert "Numbers rented through the API" in person.get("/account").get_data(as_text=True)


def test_an_eu_customers_api_rental_is_covered_by_the_api_consents_words_and_receipt(api):
    with db.connection():
        User.update(country="DE").execute()
    api.web.refresh_token("/account")
    assert api.web.post("/account/api-consent", {"consent": "yes"}, htmx=True).status_code == 200
    rental_id = rent(api)
    with db.connection():
        given, covered = Consent.get(Consent.action == "api"), Consent.get(Consent.action == "rental")
        receipts = [m.key for m in OutboxMessage.select().where(OutboxMessage.kind == "consent_receipt")]
        assert covered.subject == Rental.get_by_id(rental_id).reference
    assert covered.text == given.text and "through the API" in given.text
    assert receipts == [f"mail:consent_receipt:{given.receipt_id}"]  # one mail: the API consent's


def test_the_rate_limit_holds_per_key(api):
    api.app.config["API_RATE_PER_SECOND"] = 3
    answers = [api.call(action="getBalance") for _ in range(6)]
    assert "TOO_MANY_REQUESTS" in answers and answers[0] == "ACCESS_BALANCE:10.00"


def test_the_json_actions(api):
    rental_id = rent(api)
    prices = api.call(action="getPrices", country="16", service="wa")
    assert prices == {"16": {"wa": {"cost": 1.2, "count": 100}}}
    assert api.call(action="getNumbersStatus", country="16")["wa_0"] == "100"
    countries = api.call(action="getCountries")
    assert countries["16"]["eng"] == "United Kingdom" and countries["187"]["id"] == 187
    services = api.call(action="getServicesList")
    assert services["status"] == "success" and {"code": "wa", "name": "WhatsApp"} in services["services"]
    active = api.call(action="getActiveActivations")
    assert [a["activationId"] for a in active["activeActivations"]] == [str(rental_id)]
    history = api.call(action="getHistory")["data"]
    assert history[0]["id"] == str(rental_id) and history[0]["cost"] == "1.20"
    v2 = api.call(action="getNumberV2", service="wa", country="16")
    assert v2["currency"] == 840 and isinstance(v2["phoneNumber"], str) and v2["countryCode"] == "16"
    assert v2["activationTime"] < v2["activationEndTime"]


def test_keys_are_made_named_listed_and_revoked_on_the_account_page(api):
    page = api.web
    page.refresh_token("/account")
    made = page.post("/account/api-keys", {"name": "scraper"}, htmx=True).get_data(as_text=True)
    assert "shown only once" in made and 'id="new-api-key"' in made
    listing = page.get("/account").get_data(as_text=True)
    assert "scraper" in listing and 'id="new-api-key"' not in listing  # never shown again
    with db.connection():
        row = ApiKey.get(ApiKey.name == "scraper")
    assert page.post(f"/account/api-keys/{row.id}/revoke", htmx=True).status_code == 200
    assert page.post(f"/account/api-keys/{row.id}/revoke", htmx=True).status_code == 409
    assert page.post("/account/api-keys", {"name": "x" * 65}, htmx=True).status_code == 422


def test_the_documentation_page_lists_the_tables(app):
    page = Person(app.test_client()).get("/api").get_data(as_text=True)
    assert "/stubs/handler_api.php" in page and "getStatusV2" in page and "EARLY_CANCEL_DENIED" in page


def test_machine_endpoints_neither_read_nor_set_the_browser_session(api):
    """The signed-in browser's cookie goes along to the API and the webhooks: it names no
    caller there, is not renewed, and an error page there still renders."""
    browser = api.web.client
    assert browser.get_cookie("portal_session") is not None  # ann is signed in
    answer = browser.get("/stubs/handler_api.php", query_string={"action": "getBalance"})
    assert answer.get_data(as_text=True) == "NO_KEY"  # the cookie is not a key
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in answer.headers  # a program's answer, not a page
    missing = browser.get("/stubs/nothing-here")
    assert missing.status_code == 404 and "Set-Cookie" not in missing.headers
    refused = browser.post("/webhooks/stripe", data="{}", content_type="application/json")
    assert refused.status_code == 400 and "Set-Cookie" not in refused.headers
    assert browser.get("/dashboard").status_code == 200  # the browser's session is untouched
