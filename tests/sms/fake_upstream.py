"""A local upstream speaking the SMS-Activate handler protocol, for tests.

It listens on 127.0.0.1 (a free port) in a thread, records every request's query
parameters, and answers from a small model of activations unless a test scripted the next
answers of an action::

    with FakeUpstream() as upstream:
        client = SmsActivateClient(upstream.url, upstream.api_key, timeout=0.2)
        upstream.script("getNumber", Reply("NO_NUMBERS"))       # the next getNumber only
        upstream.script("getStatus", Reply("", status=500), "STATUS_WAIT_CODE")
        upstream.script("getBalance", Reply("ACCESS_BALANCE:1", delay=0.5))  # too slow

The model: getNumber rents ``ACCESS_NUMBER:<id>:<phone>``; ``deliver(id, code, text)``
makes an SMS arrive (again for another one); getStatus/getFullSms report the latest,
getActiveActivations every activation not cancelled or finished with all its SMS (unless
``batch`` is off: BAD_ACTION, as on upstreams without it); setStatus 8 cancels a waiting
number (BAD_STATUS otherwise), setStatus 6 finishes a received one, setStatus 3 asks a
received one for another SMS (getStatus answers STATUS_WAIT_RETRY:<code> until the next
``deliver``); a wrong key is
BAD_KEY. While ``down`` is set every request answers 503 (an outage); with ``slow`` set,
every answer waits that many seconds first (an upstream that times out).
The portal's rental tests reuse it through ``from tests.sms.fake_upstream import ...``.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import defaultdict, deque
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.loopback import Loopback

HANDLER_PATH = "/stubs/handler_api.php"


@dataclass(frozen=True)
class Reply:
    body: str
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering


@dataclass
class FakeActivation:
    phone: str
    service: str
    country: str
    state: str = "waiting"  # waiting | received | cancelled | finished
    code: str | None = None
    text: str | None = None
    sms: list = field(default_factory=list)  # every (code, text) received, oldest first
    retrying: bool = False  # another SMS was asked for (setStatus 3) and has not come yet


class FakeUpstream:
    def __init__(self, api_key: str = "test-key", *, full_sms: bool = True) -> None:
        self.api_key = api_key
        self.full_sms = full_sms  # False: getFullSms is BAD_ACTION, as on older upstreams
        self.batch = True  # False: getActiveActivations is BAD_ACTION
        self.down = False
        self.slow = 0.0
        self.balance = "100.00"
        self.requests: list[dict[str, str]] = []
        self.activations: dict[str, FakeActivation] = {}
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._next_id = 70_000_000
        self._server: Loopback | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeUpstream:
        self._server = Loopback(_handler_for(self), poll_interval=0.01)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake upstream first"
        return self._server.url

    # --- what tests do -----------------------------------------------------------------

    def script(self, action: str, *replies: Reply | str) -> None:
        """Queue the next answers to ``action``; each is used once, then the model answers."""
        with self._lock:
            self._scripts[action].extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def deliver(self, activation_id: str, code: str, text: str | None = None) -> None:
        with self._lock:
            activation = self.activations[activation_id]
            activation.state, activation.code, activation.text = "received", code, text
            activation.sms.append((code, text))
            activation.retrying = False

    def calls(self, action: str | None = None) -> list[dict[str, str]]:
        with self._lock:
            return [r for r in self.requests if action is None or r.get("action") == action]

    # --- answering ---------------------------------------------------------------------

    def answer(self, params: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(params)
            scripted = self._scripts.get(params.get("action", ""))
            if scripted:
                return scripted.popleft()
            if self.down:
                return Reply("", status=503, delay=self.slow)
            return Reply(self._model(params), delay=self.slow)

    def _model(self, params: dict[str, str]) -> str:
        if params.get("api_key") != self.api_key:
            return "BAD_KEY"
        action = params.get("action")
        if action == "getBalance":
            return f"ACCESS_BALANCE:{self.balance}"
        if action == "getNumber":
            return self._rent(params)
        if action == "getActiveActivations":
            return self._active() if self.batch else "BAD_ACTION"
        if action not in ("getStatus", "getFullSms", "setStatus"):
            return "BAD_ACTION"
        activation = self.activations.get(params.get("id", ""))
        if activation is None:
            return "NO_ACTIVATION"
        if action == "setStatus":
            return _set_status(activation, params.get("status"))
        if activation.state in ("received", "finished"):
            if action == "getStatus":
                return f"STATUS_{'WAIT_RETRY' if activation.retrying else 'OK'}:{activation.code}"
            if not self.full_sms:
                return "BAD_ACTION"
            return f"FULL_SMS:{activation.text or activation.code}"
        return "STATUS_CANCEL" if activation.state == "cancelled" else "STATUS_WAIT_CODE"

    def _active(self) -> str:
        listed = [
            {"activationId": activation_id, "phoneNumber": activation.phone,
             "serviceCode": activation.service, "countryCode": activation.country,
             "activationStatus": "2" if activation.sms else "4",
             "smsCode": [code for code, _ in activation.sms] or None,
             "smsText": json.dumps([text or code for code, text in activation.sms]) if activation.sms else None}
            for activation_id, activation in self.activations.items()
            if activation.state in ("waiting", "received")
        ]
        if not listed:
            return json.dumps({"status": "error", "error": "NO_ACTIVATIONS"})
        return json.dumps({"status": "success", "activeActivations": listed})

    def _rent(self, params: dict[str, str]) -> str:
        if not params.get("service"):
            return "BAD_SERVICE"
        self._next_id += 1
        activation_id = str(self._next_id)
        phone = f"447700900{self._next_id % 1000:03d}"  # Ofcom's range reserved for fiction
        self.activations[activation_id] = FakeActivation(
            phone, params["service"], params.get("country", "")
        )
        return f"ACCESS_NUMBER:{activation_id}:{phone}"


def _set_status(activation: FakeActivation, status: str | None) -> str:
    if status == "8" and activation.state == "waiting":
        activation.state = "cancelled"
        return "ACCESS_CANCEL"
    if status == "6" and activation.state in ("received", "finished"):
        activation.state = "finished"
        return "ACCESS_ACTIVATION"
    if status == "3" and activation.state == "received":
        activation.retrying = True
        return "ACCESS_RETRY_GET"
    return "BAD_STATUS"


def _handler_for(upstream: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != HANDLER_PATH:
                reply = Reply("not found", status=404)
            else:
                query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
                reply = upstream.answer(dict(query))
            time.sleep(reply.delay)
            body = reply.body.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def upstream():
    """A fake upstream of its own for one test (import it where a test needs one)."""
    with FakeUpstream() as fake:
        yield fake
