"""Fixtures of the portal's tests (here and in tests/jobs; the root conftest loads them as a
plugin): the built policy site (``site_dir``), a PostgreSQL server started for the session,
``db_url`` over SQLite and PostgreSQL, a fresh ``app`` per test, and a ``person``,
``customer`` and ``other_person``: test clients that act like people with a browser (CSRF
token included; see ``portal_testing.Person``)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from portal.store import db

sys.path.insert(0, str(Path(__file__).parent))
import portal_pg as pg  # noqa: E402
from portal_testing import Person, make_app  # noqa: E402,F401
from tests.payments.fake_api import fake_api  # noqa: E402,F401 (a fixture)


@pytest.fixture(scope="session")
def site_dir(built_site) -> str:
    return str(built_site)


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


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url):
    """A PostgreSQL database migrated once; each test's database is a copy of it."""
    from portal.store import migrate

    name = "portal_template_" + uuid.uuid4().hex[:8]
    pg.admin(postgres_admin_url, f"CREATE DATABASE {name}")
    template = db.open_database(pg.database_url(postgres_admin_url, name))
    with template.connection_context():
        migrate.upgrade(template)
    template.close_all()
    return name


def _database(request, tmp_path, migrated: bool):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.sqlite3'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = "portal_test_" + uuid.uuid4().hex[:12]
    template = f" TEMPLATE {request.getfixturevalue('postgres_template')}" if migrated else ""
    pg.admin(admin, f"CREATE DATABASE {name}{template}")
    try:
        yield pg.database_url(admin, name)
    finally:
        if not db.database.is_closed():
            db.database.close()
        pg.admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """A database URL, once per kind of database (PostgreSQL ones come migrated)."""
    yield from _database(request, tmp_path, migrated=True)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request, tmp_path):
    """A database URL of a database with no tables at all."""
    yield from _database(request, tmp_path, migrated=False)


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
