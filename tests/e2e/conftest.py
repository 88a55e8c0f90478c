"""Fixtures for tests that drive pages in Debian's headless Chromium through Playwright.

The browser is the system one (/usr/bin/chromium, installed by `make test`); Playwright's
own browser download is never used. Every page records console errors and failed requests:
a test fails if the page it drove logged any (see ``page``).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Debian's chromium is not installed: run `make test`, which installs it")
    return path


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _navigated_away(request) -> bool:
    """The favicon load the browser cancels when a test navigates on before it finished."""
    return request.url.endswith("/favicon.svg") and "ERR_ABORTED" in (request.failure or "")


@pytest.fixture
def page(browser):
    """A fresh browser context and page; fails the test on console errors or page errors."""
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: None if _navigated_away(req) else problems.append(
        f"request failed: {req.url} {req.failure}"))
    page.problems = problems
    yield page
    context.close()
    assert not problems, "the page reported problems:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def serve_directory():
    """A function serving a folder over HTTP on 127.0.0.1 and a free port, returning its
    base URL; every server it started stops with the test module."""
    stops = []

    def start(root: Path) -> str:
        url, stop = _serve(root)
        stops.append(stop)
        return url

    yield start
    for stop in stops:
        stop()


def _serve(root: Path):
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass
