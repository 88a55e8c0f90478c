"""Fixtures of the portal tests: the built policy site, a PostgreSQL server started for
the session, ``db_url`` over SQLite and PostgreSQL, a fresh ``app`` per test, and a
``user_agent`` that acts like a person with a browser (CSRF token included)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from portal import create_app, db

sys.path.insert(0, str(Path(__file__).parent))
import pg  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "build.py", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    return str(out)


@pytest.fixture(scope="session")
def postgres_admin_url():
    given = os.environ.get("PORTAL_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    server = pg.Server().start()
    try:
        yield server.admin_url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.sqlite3'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = "portal_test_" + uuid.uuid4().hex[:12]
    pg.admin(admin, f"CREATE DATABASE {name}")
    try:
        yield pg.database_url(admin, name)
    finally:
        if not db.database.is_closed():
            db.database.close()
        pg.admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def make_app(db_url: str, site_dir: str, **overrides):
    config = {
        "TESTING": True, "DATABASE_URL": db_url, "SITE_DIR": site_dir,
        "SECRET_KEY": "test-secret-key", "ARGON2": FAST_ARGON2,
        "PUBLIC_URL": "http://localhost", "STRIPE_SECRET_KEY": "", "CRYPTO_API_KEY": "",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(db_url, site_dir):
    application = make_app(db_url, site_dir)
    yield application
    if not db.database.is_closed():
        db.database.close()


@pytest.fixture
def connected(app):
    """The app with a database connection open in the test's own thread."""
    with db.connection():
        yield app


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


@pytest.fixture
def person(app):
    return Person(app.test_client())


@pytest.fixture
def customer(app):
    someone = Person(app.test_client())
    assert someone.register().status_code == 303
    return someone


@pytest.fixture
def other_person(app):
    return Person(app.test_client())
