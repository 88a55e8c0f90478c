"""The published Python clients of the SMS-Activate protocol (``smsactivate``,
``aiosmsactivate``, ``herosms``, ``grizzly-sms-client``, pinned in the dev extra), each driven
by its own methods against the portal under gunicorn on 127.0.0.1: balance, a number, its
status waiting, the SMS (status and V2 status), finish, a second number cancelled before its
window (refused as each client reports it) and after (credited), a bad key, no balance.

Pointing them at the portal: ``smsactivate`` hard-codes its host in a name-mangled private
attribute, so the test sets ``api._SMSActivateAPI__api_url`` to the portal's handler URL
(the README says so for users); the others take ``base_url``. Where the clients disagree
(getServicesList as a list or an object, getActiveActivations' list name) the server
follows SMS-Activate's own shape and adds what the others read (``data``); see
``portal/api/actions.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
from datetime import timedelta

import pytest

from portal.api import keys
from portal.money import ledger
from portal.numbers import catalog, polling
from portal.policy import terms_in_force
from portal.site_versions import published
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import Rental, Service
from portal.accounts import users
from portal_pg import free_port
from portal_testing import FAST_ARGON2, make_app
from tests import gunicorn_server as gunicorn
from tests.sms.fake_upstream import FakeUpstream

WINDOW = 60  # seconds: wa's wait window here; pass_window moves a rental past it


@pytest.fixture(scope="module")
def portal_under_gunicorn(tmp_path_factory, built_site):
    """The portal under gunicorn (2 workers, SQLite) with a fake SMS-Activate upstream."""
    work = tmp_path_factory.mktemp("api")
    upstream = FakeUpstream().start()
    url = f"sqlite:///{work / 'portal.sqlite3'}"
    settings = {"SMS_PROVIDER": "sms-activate", "SMS_ACTIVATE_URL": upstream.url,
                "SMS_ACTIVATE_KEY": upstream.api_key, "QUEUE_FILE": str(work / "queue.sqlite3")}
    app = make_app(url, str(built_site), **settings)
    with app.app_context(), db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
        Service.update(wait_seconds=WINDOW).where(Service.code == "wa").execute()
    db.database.obj.close_all()
    port, log = free_port(), work / "access.log"
    env = {**os.environ, "DATABASE_URL": url, "SITE_DIR": str(built_site), "SECRET_KEY": "test-secret-key",
           "PUBLIC_URL": f"http://127.0.0.1:{port}", "STRIPE_SECRET_KEY": "", "CRYPTO_API_KEY": "", **settings}
    server = gunicorn.start(env, port, "--workers", "2", "--access-logfile", str(log),
                            "--logger-class", "portal.web.access_log.RedactingLogger")
    yield app, f"http://127.0.0.1:{port}", upstream, log
    gunicorn.stop(server)
    upstream.stop()


class ApiServer:
    """What a client test needs of the portal: its URL, two keys, and the upstream's hand."""

    def __init__(self, app, url, upstream, number):
        self.app, self.url, self.upstream = app, url, upstream
        with app.app_context(), db.connection():
            terms = published(app.config["SITE_DIR"], terms_in_force(utcnow()).version, "en")
            made = []
            for email, cents in ((f"rich{number}@example.com", 1000), (f"poor{number}@example.com", 0)):
                user = users.register(email=email, password="correct horse battery", language="en",
                                      country="GB", accepted=True, terms=terms, params=FAST_ARGON2)
                if cents:
                    ledger.post(f"fund:{user.id}", "deposit",
                                [(ledger.house("card_clearing"), -cents), (ledger.wallet(user.id), cents)])
                made.append(keys.create(user, "client test")[1])
        self.key, self.empty_key = made

    def deliver(self, activation_id, code="482913") -> None:
        """The SMS reaches the upstream, and a poll (the ticker's work) records it."""
        with self.app.app_context(), db.connection():
            rental = Rental.get_by_id(int(activation_id))
            self.upstream.deliver(rental.activation_id, code, f"Your WhatsApp code {code[:3]}-{code[3:]}")
            polling.poll(self.app)

    def asked_again(self, activation_id) -> bool:
        """Whether the portal asked the upstream for another SMS on this activation."""
        with db.connection():
            upstream_id = Rental.get_by_id(int(activation_id)).activation_id
        return any(call.get("id") == upstream_id and call.get("status") == "3"
                   for call in self.upstream.calls("setStatus"))

    def pass_window(self, activation_id) -> None:
        with db.connection():
            rental, back = Rental.get_by_id(int(activation_id)), timedelta(seconds=WINDOW + 1)
            Rental.update(rented_at=rental.rented_at - back, ends_at=rental.ends_at - back).where(
                Rental.id == rental.id).execute()


@pytest.fixture
def api_server(portal_under_gunicorn, request):
    app, url, upstream, _log = portal_under_gunicorn
    return ApiServer(app, url, upstream, request.node.name.replace("[", "_").replace("]", ""))


def test_the_access_log_holds_no_key(portal_under_gunicorn, api_server):
    app, url, _upstream, log = portal_under_gunicorn
    urllib.request.urlopen(f"{url}/stubs/handler_api.php?api_key={api_server.key}&action=getBalance").read()
    time.sleep(0.3)
    text = log.read_text()
    assert "api_key=[redacted]&action=getBalance" in text and api_server.key not in text


HANDLER = "/stubs/handler_api.php"


def _handler_url(server):
    return server.url.rstrip("/") + HANDLER


# --------------------------------------------------------------------------
# smsactivate (sync, requests, GET). Host is hard-coded in a name-mangled
# private attribute: self.__api_url -> instance attribute _SMSActivateAPI__api_url
# --------------------------------------------------------------------------
def _smsactivate(server, key):
    from smsactivate.api import SMSActivateAPI

    api = SMSActivateAPI(key)
    # must be the FULL handler URL, not the base URL
    api._SMSActivateAPI__api_url = _handler_url(server)
    return api


def test_smsactivate_flow(api_server):
    api = _smsactivate(api_server, api_server.key)

    # balance: {"balance": "<text after 'ACCESS_BALANCE:'>"} -- a string
    bal = api.getBalance()
    assert "error" not in bal
    assert float(bal["balance"]) == pytest.approx(10.00)

    # getNumber -> {"activation_id": int, "phone": int} (both int()-parsed)
    n = api.getNumber(service="wa", country=16)
    assert "error" not in n, n
    aid = n["activation_id"]
    assert isinstance(aid, int) and isinstance(n["phone"], int)

    # getStatus returns the raw text unless it is in the client's error table
    assert api.getStatus(id=aid) == "STATUS_WAIT_CODE"

    api_server.deliver(aid)
    st = api.getStatus(id=aid)
    assert isinstance(st, str) and st.startswith("STATUS_OK:")
    code = st.split(":", 1)[1]
    assert code
    # (no getStatusV2 in this client)

    # another SMS: the portal asks the upstream (setStatus 3) and shows the next code
    assert api.setStatus(id=aid, status=3) == "ACCESS_RETRY_GET"
    assert api_server.asked_again(aid)
    assert api.getStatus(id=aid) == f"STATUS_WAIT_RETRY:{code}"
    api_server.deliver(aid, code="730155")
    assert api.getStatus(id=aid) == "STATUS_OK:730155"

    # setStatus returns raw text
    assert api.setStatus(id=aid, status=6) == "ACCESS_ACTIVATION"
    bal_after_first = float(api.getBalance()["balance"])
    assert bal_after_first < 10.00

    n2 = api.getNumber(service="wa", country=16)
    assert "error" not in n2, n2
    aid2 = n2["activation_id"]
    bal_mid = float(api.getBalance()["balance"])
    price2 = bal_after_first - bal_mid
    assert price2 > 0

    # EARLY_CANCEL_DENIED is NOT in smsactivate's error table -> raw string back
    assert api.setStatus(id=aid2, status=8) == "EARLY_CANCEL_DENIED"

    api_server.pass_window(aid2)
    assert api.setStatus(id=aid2, status=8) == "ACCESS_CANCEL"
    # STATUS_CANCEL *is* in the error table, so getStatus turns it into an error dict
    assert api.getStatus(id=aid2) == {
        "error": "STATUS_CANCEL",
        "message": "Current activation canceled and no longer available",
    }
    assert float(api.getBalance()["balance"]) == pytest.approx(bal_mid + price2)
    assert float(api.getBalance()["balance"]) == pytest.approx(bal_after_first)

    # bad key -> error dict (no exception)
    bad = _smsactivate(api_server, "definitely-not-a-key")
    assert bad.getBalance() == {"error": "BAD_KEY", "message": "Invalid API access key"}

    # no balance -> error dict
    empty = _smsactivate(api_server, api_server.empty_key)
    assert empty.getNumber(service="wa", country=16) == {
        "error": "NO_BALANCE",
        "message": "Not enough funds",
    }


# --------------------------------------------------------------------------
# aiosmsactivate (async, aiohttp, POST with params in the QUERY STRING)
# --------------------------------------------------------------------------
def test_aiosmsactivate_flow(api_server):
    from aiosmsactivate import SmsActivate, SmsActivateException
    from aiosmsactivate.models import ActivationData, SetActivationStatusResponse
    from aiosmsactivate.types import ActivationStatus, SetActivationStatus

    url = _handler_url(api_server)

    async def flow():
        sa = SmsActivate(api_server.key, base_url=url)  # str -> [url]

        assert await sa.get_balance() == pytest.approx(10.00)  # float

        # purchase() = getNumberV2 -> pydantic Number (activation_id int, phone_number str)
        num = await sa.purchase("wa", country=16)
        assert not isinstance(num, str), num  # a str means the server answered non-JSON
        aid = num.activation_id
        assert isinstance(aid, int)

        # getStatus -> (ActivationStatus, code|None)
        assert await sa.get_activation_status_v1(aid) == (ActivationStatus.WAIT, None)

        # getStatusV2 while waiting: JSON with sms null (the client gives the raw text otherwise)
        v2 = await sa.get_activation_status(aid)
        assert isinstance(v2, ActivationData) and v2.sms is None

        api_server.deliver(aid)
        st, code = await sa.get_activation_status_v1(aid)
        assert st == ActivationStatus.OK and code
        v2 = await sa.get_activation_status(aid)
        assert isinstance(v2, ActivationData)
        assert v2.sms is not None and v2.sms.code == code

        r = await sa.set_activation_status(aid, SetActivationStatus.COMPLETE)
        assert r == SetActivationStatusResponse.ACTIVATED
        bal_after_first = await sa.get_balance()

        num2 = await sa.purchase("wa", country=16)
        aid2 = num2.activation_id
        price2 = num2.activation_cost
        assert await sa.get_balance() == pytest.approx(bal_after_first - price2)

        # EARLY_CANCEL_DENIED is in aiosmsactivate's error table -> raised
        with pytest.raises(SmsActivateException) as ei:
            await sa.set_activation_status(aid2, SetActivationStatus.CANCEL)
        assert ei.value.code == "EARLY_CANCEL_DENIED"

        api_server.pass_window(aid2)
        r = await sa.set_activation_status(aid2, 8)
        assert r == SetActivationStatusResponse.CANCEL
        assert await sa.get_activation_status_v1(aid2) == (ActivationStatus.CANCEL, None)
        assert await sa.get_balance() == pytest.approx(bal_after_first)

        # bad key
        bad = SmsActivate("definitely-not-a-key", base_url=url)
        with pytest.raises(SmsActivateException) as ei:
            await bad.get_balance()
        assert ei.value.code == "BAD_KEY"

        # no balance (getNumberV2 answered with plain text NO_BALANCE)
        empty = SmsActivate(api_server.empty_key, base_url=url)
        with pytest.raises(SmsActivateException) as ei:
            await empty.purchase("wa", country=16)
        assert ei.value.code == "NO_BALANCE"

    asyncio.run(flow())


# --------------------------------------------------------------------------
# herosms (async, httpx, GET). NOTE: it never looks at 200-body error words;
# only HTTP status >= 400 raises APIError subclasses.
# --------------------------------------------------------------------------
def test_herosms_flow(api_server):
    import pydantic
    from herosms import HeroSMSClient
    from herosms.exceptions import ResponseFormatError, WaitTimeoutError

    url = _handler_url(api_server)

    def client(key):
        # retry_attempts=1: don't sleep 2s x3 on 5xx; poll fast in wait_for_sms
        return HeroSMSClient(key, base_url=url, retry_attempts=1, poll_interval=0.05)

    async def flow():
        async with client(api_server.key) as c:
            bal = await c.get_balance()
            assert bal.amount == pytest.approx(10.00)

            # getNumberV2 -> ActivationResource (falls back to getNumber only on HeroSMSError)
            act = await c.activations.create(service="wa", country=16)
            aid = act.id
            assert isinstance(aid, int)

            # get_status_v1 returns raw text by default
            assert await c.get_status_v1(aid) == "STATUS_WAIT_CODE"
            # V2 while waiting: wait_for_sms polls getStatusV2; needs JSON (text -> ValidationError)
            with pytest.raises(WaitTimeoutError):
                await act.wait_for_sms(timeout=0.15, poll_interval=0.05)

            api_server.deliver(aid)
            s1 = await c.get_status_v1(aid)
            assert s1.startswith("STATUS_OK:")
            code = s1.split(":", 1)[1]
            res = await act.wait_for_sms(timeout=2, poll_interval=0.05)
            assert res.code == code and res.sms.code == code

            # setStatus answers are ignored entirely (returns None)
            assert await act.complete() is None
            bal_after_first = (await c.get_balance()).amount

            act2 = await c.activations.create(service="wa", country=16)
            price2 = act2.cost
            assert (await c.get_balance()).amount == pytest.approx(bal_after_first - price2)

            # EARLY_CANCEL_DENIED is silently ignored; cancel() returns None and
            # marks the resource finished anyway. Only observable via status.
            assert await act2.cancel() is None
            assert await c.get_status_v1(act2.id) == "STATUS_WAIT_CODE"

            api_server.pass_window(act2.id)
            assert await act2.cancel() is None
            assert await c.get_status_v1(act2.id) == "STATUS_CANCEL"
            assert (await c.get_balance()).amount == pytest.approx(bal_after_first)

        # bad key: "BAD_KEY" (HTTP 200) is not parseable as a balance
        async with client("definitely-not-a-key") as bad:
            with pytest.raises(ResponseFormatError):
                await bad.get_balance()

        # no balance: "NO_BALANCE" (HTTP 200) reaches Activation.model_validate(str)
        # -> pydantic.ValidationError (NOT a HeroSMSError). Would be
        # InsufficientFundsError only if the server answered HTTP 402.
        async with client(api_server.empty_key) as empty:
            with pytest.raises(pydantic.ValidationError):
                await empty.activations.create(service="wa", country=16)

    asyncio.run(flow())


# --------------------------------------------------------------------------
# grizzly-sms-client (sync, httpx, GET, adds ref_id=tysik; JSON parsed only
# when Content-Type contains "json")
# --------------------------------------------------------------------------
def test_grizzly_flow(api_server):
    from grizzly_sms import GrizzlySms, GrizzlySmsError
    from grizzly_sms.types import ActivationStatus

    base = api_server.url  # base only; client appends /stubs/handler_api.php

    with GrizzlySms(api_server.key, base_url=base) as sms:
        assert sms.get_balance() == pytest.approx(10.00)

        n = sms.get_number("wa", country=16)  # OrderedNumber, str fields
        aid = n.activation_id
        assert isinstance(aid, str) and n.phone_number

        assert sms.get_status(aid) == ActivationStatus(status="STATUS_WAIT_CODE")
        v2 = sms.get_status_v2(aid)  # dict, requires JSON + json Content-Type
        assert isinstance(v2, dict)
        assert v2["sms"] is None

        api_server.deliver(aid)  # NOTE: aid is a str here
        st = sms.get_status(aid)
        assert st.status == "STATUS_OK" and st.code
        v2 = sms.get_status_v2(aid)
        assert v2["sms"]["code"] == st.code

        assert sms.complete(aid) == "ACCESS_ACTIVATION"
        bal_after_first = sms.get_balance()

        n2 = sms.get_number_v2("wa", country=16)  # OrderedNumberV2 with activation_cost
        aid2 = n2.activation_id
        price2 = n2.activation_cost
        assert sms.get_balance() == pytest.approx(bal_after_first - price2)

        # EARLY_CANCEL_DENIED is not in grizzly's known codes and not ACCESS_* ->
        # parse_set_status raises UNEXPECTED_RESPONSE with the raw body
        with pytest.raises(GrizzlySmsError) as ei:
            sms.cancel(aid2)
        assert ei.value.code == "UNEXPECTED_RESPONSE"
        assert ei.value.raw == "EARLY_CANCEL_DENIED"

        api_server.pass_window(aid2)
        assert sms.cancel(aid2) == "ACCESS_CANCEL"
        assert sms.get_status(aid2) == ActivationStatus(status="STATUS_CANCEL")
        assert sms.get_balance() == pytest.approx(bal_after_first)

    with GrizzlySms("definitely-not-a-key", base_url=base) as bad:
        with pytest.raises(GrizzlySmsError) as ei:
            bad.get_balance()
        assert ei.value.code == "BAD_KEY"

    with GrizzlySms(api_server.empty_key, base_url=base) as empty:
        with pytest.raises(GrizzlySmsError) as ei:
            empty.get_number("wa", country=16)
        assert ei.value.code == "NO_BALANCE"
