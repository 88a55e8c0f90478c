"""Helpers of the portal tests (imported by name: a module called ``conftest`` is ambiguous
when several test folders have one): ``make_app``, ``run_cli`` and ``Person``."""

from __future__ import annotations

import itertools
import re
import tempfile
from pathlib import Path

from portal import create_app

FAST_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
PASSWORD = "correct horse battery"
# The apps' API rate files: one folder per test process, deleted when the process ends.
_RATE_FILES = tempfile.TemporaryDirectory(prefix="api-rate-")
_RATE_FILE_NUMBERS = itertools.count()


def make_app(db_url: str, site_dir: str, **overrides):
    config = {
        "TESTING": True, "DATABASE_URL": db_url, "SITE_DIR": site_dir,
        "SECRET_KEY": "test-secret-key", "ARGON2": FAST_ARGON2,
        "PUBLIC_URL": "http://localhost", "STRIPE_SECRET_KEY": "", "CRYPTO_API_KEY": "",
        # Jobs run at once in the caller (Huey's immediate mode): these tests are about what
        # the portal does; tests/jobs run the real queues and consumers.
        "QUEUE_IMMEDIATE": True, "REDIS_URL": "",
        # Each app counts API requests alone: on PostgreSQL the default file is the
        # instance's, shared by every test process (key ids repeat from one database to the next).
        "API_RATE_FILE": str(Path(_RATE_FILES.name) / f"{next(_RATE_FILE_NUMBERS)}.sqlite3"),
    }
    config.update(overrides)
    return create_app(config)


def run_cli(app, *args):
    """``flask --app portal ARGS`` against ``app``; its result (exit code and output). An
    exception other than the command's exit fails the test with its own traceback."""
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Person:
    """A test client that behaves like a user's browser: it reads the CSRF token from the
    page it got last and sends it, as a form field or (for htmx) in the X-CSRFToken header."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def refresh_token(self, path="/login"):
        page = self.client.get(path)
        found = TOKEN.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        self.token = found.group(1)

    def get(self, path, htmx=False, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, path, data=None, htmx=False, csrf=True, **kwargs):
        headers = kwargs.pop("headers", {})
        if csrf:
            if self.token is None:
                self.refresh_token()
            headers["X-CSRFToken"] = self.token
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(path, data=data or {}, headers=headers, **kwargs)

    def register(self, email="ann@example.com", password=PASSWORD, country="US", language="en",
                 accept=True):
        self.refresh_token("/register")
        data = {"email": email, "password": password, "country": country, "language": language}
        if accept:
            data["accept_terms"] = "yes"
        response = self.post("/register", data)
        self.token = None
        return response

    def login(self, email="ann@example.com", password=PASSWORD):
        self.refresh_token("/login")
        response = self.post("/login", {"email": email, "password": password})
        self.token = None
        return response

    def deposit(self, amount="25", method="card", **extra):
        """Submit the deposit form the way htmx does; returns the response."""
        self.refresh_token("/deposits/new")
        return self.post("/deposits", {"amount": amount, "method": method, **extra}, htmx=True)
