"""A local fake HTTP server standing in for Stripe's and the crypto processor's APIs.

Each test gets its own server on 127.0.0.1 (a free port): it records every request it
receives and answers from a queue the test fills (default: 200 with ``{}``), or from its
``respond`` function when a test sets one (to play a processor through a whole run). No
network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from tests.loopback import Loopback


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        """The urlencoded body as {field: value}; a repeated field fails the test."""
        fields = parse_qs(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        assert all(len(values) == 1 for values in fields.values()), fields
        return {name: values[0] for name, values in fields.items()}

    def header(self, name: str) -> str | None:
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())


@dataclass
class FakeApi:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    respond: Callable[[Recorded], tuple[int, dict]] | None = None

    def answer(self, status: int, body: dict | bytes) -> None:
        self.answers.append((status, body if isinstance(body, bytes) else json.dumps(body).encode()))


@pytest.fixture
def fake_api(monkeypatch):
    # A proxy from the environment must never see (or swallow) loopback requests.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            recorded = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            api.requests.append(recorded)
            if api.respond is not None:
                status, answer = api.respond(recorded)
                body = json.dumps(answer).encode()
            else:
                status, body = api.answers.pop(0) if api.answers else (200, b"{}")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, *args) -> None:
            pass

    served = Loopback(Handler)
    api.url = served.url
    try:
        yield api
    finally:
        served.stop()
