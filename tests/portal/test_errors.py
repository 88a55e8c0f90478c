"""Errors the portal did not expect answer in its own layout and the user's language, as a
fragment for htmx (shown in the page's problem area): a database lock that outlasts the lock
timeout answers 503 with Retry-After, a read-only database or any other exception 500, logged
with its traceback."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import psycopg2
import pytest

from portal.accounts import users
from portal.money import ledger
from portal.store import db
from portal_testing import Person, make_app

BUSY = "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es in einigen Sekunden erneut."
BROKEN = "Bei uns ist ein unerwarteter Fehler aufgetreten."


@pytest.fixture
def app(db_url, site_dir):
    """Errors handled as in production (not raised into the test), a short lock timeout."""
    application = make_app(db_url, site_dir, PROPAGATE_EXCEPTIONS=False, DATABASE_LOCK_TIMEOUT_SECONDS=0.2)
    yield application
    if not db.database.is_closed():
        db.database.close()


@pytest.fixture
def german(app):
    someone = Person(app.test_client())
    assert someone.register(language="de", country="AT").status_code == 303
    someone.refresh_token("/account")
    return someone


@contextmanager
def locked(db_url):
    """Another connection holding the user's row (PostgreSQL) or the write lock (SQLite)."""
    if db_url.startswith("sqlite"):
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg2.connect(db_url)
        other.cursor().execute('SELECT 1 FROM "user" FOR UPDATE')
    try:
        yield
    finally:
        other.rollback()
        other.close()


@contextmanager
def read_only(db_url):
    """The portal's connection may only read (as a read-only file or volume would)."""
    db.database.obj.close_all()
    with db.connection():
        db.database.execute_sql("PRAGMA query_only = 1")  # back into the pool, the only one
    yield


@contextmanager
def broken(monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(users, "update_preferences", boom)
    yield


CASES = [  # (database, trouble, status, message, Retry-After); read-only: SQLite's
    ("sqlite", "locked", 503, BUSY, True),
    ("postgres", "locked", 503, BUSY, True),
    ("sqlite", "read-only", 500, BROKEN, False),
    ("sqlite", "unexpected", 500, BROKEN, False),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("db_url, case, status, message, retry", CASES, indirect=["db_url"],
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_errors_answer_in_the_portals_layout_and_the_users_language(
        db_url, german, monkeypatch, caplog, case, status, message, retry, htmx):
    trouble = {"locked": lambda: locked(db_url), "read-only": lambda: read_only(db_url),
               "unexpected": lambda: broken(monkeypatch)}[case]
    with trouble():
        response = german.post("/account/preferences", {"language": "de", "country": "DE"}, htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == status and message in body
    assert ("Retry-After" in response.headers) == retry
    if htmx:
        assert "<html" not in body and 'id="problem-message"' in body
        assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#problem", "innerHTML")
    else:
        assert '<html lang="de">' in body and 'id="problem-message"' in body
    assert [r for r in caplog.records if r.exc_info], "logged with its traceback"
    assert german.get("/dashboard").status_code == 200  # and the next request is fine


def test_the_lock_timeout_stays_well_below_gunicorns_worker_timeout():
    from portal.config import defaults

    assert defaults()["DATABASE_LOCK_TIMEOUT_SECONDS"] <= 30 / 3  # gunicorn kills a worker at 30 s


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_page_that_does_not_exist_answers_404_in_the_layout(customer, htmx):
    response = customer.get("/tickets/999", htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 404 and "There is nothing here" in body
    assert ("<html" in body) != htmx


def test_an_error_page_reads_nothing_from_the_database(german, monkeypatch):
    """The header's balance is left out: the error may be that the database cannot be read."""
    def unreadable(_user_id):
        raise AssertionError("the error page read the balance")

    with broken(monkeypatch):
        monkeypatch.setattr(ledger, "balance", unreadable)
        response = german.post("/account/preferences", {"language": "de", "country": "DE"})
    assert response.status_code == 500 and BROKEN in response.get_data(as_text=True)
