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
from werkzeug.serving import make_server

from tests.consumers import Consumer, consumer_env
from tests.loopback import Loopback
from tests.portal.portal_testing import make_app

ROOT = Path(__file__).resolve().parents[2]

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


@pytest.fixture
def page(browser):
    """A fresh browser context and page; fails the test on console errors, page errors or
    failed requests. A request the browser aborted because the page went on to another
    document (an htmx redirect, a click away before the favicon loaded) is not a failure."""
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    navigations: list[str] = []  # every document the page showed, in order
    started: dict = {}  # request -> how many navigations there had been when it started
    failed: list[tuple[str, str, int]] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.on("request", lambda req: started.__setitem__(req, len(navigations)))
    page.on("requestfailed", lambda req: failed.append((req.url, req.failure or "", started.get(req, 0))))
    page.problems = problems
    yield page
    context.close()
    problems += [f"request failed: {url} {failure}" for url, failure, at in failed
                 if not ("ERR_ABORTED" in failure and len(navigations) > at)]
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
    served = Loopback(functools.partial(QuietHandler, directory=str(root)), poll_interval=0.5)
    return served.url, served.stop


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture(scope="module")
def start_portal(tmp_path_factory, built_site):
    """A function that starts the portal (demo processor, fresh SQLite database, the built
    site) on 127.0.0.1 and a free port, with a job consumer beside it as `make run` has
    (the embedded queue in a file of its own), and returns its URL. ``config`` adds
    settings; ``prepare`` runs with a database connection before the first request. Every
    portal and consumer it started stops with the test module."""
    from portal.store import db

    servers, consumers = [], []

    def start(config: dict | None = None, prepare=None) -> str:
        data = tmp_path_factory.mktemp("portal-db")
        app = make_app(f"sqlite:///{data / 'portal.sqlite3'}", str(built_site), TESTING=False,
                       SECRET_KEY="e2e-secret", QUEUE_IMMEDIATE=False,
                       QUEUE_FILE=str(data / "queue.sqlite3"), **(config or {}))
        if prepare:
            with db.connection():
                prepare()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_port}"
        consumers.append(Consumer({**consumer_env(app.config), "PUBLIC_URL": url},
                                  data / "jobs.log").start())
        return url

    yield start
    for consumer in consumers:
        consumer.stop()
    for server in servers:
        server.shutdown()
    if not db.database.is_closed():
        db.database.close()


@pytest.fixture(scope="module")
def portal_url(start_portal) -> str:
    """The portal with its default settings."""
    return start_portal()
