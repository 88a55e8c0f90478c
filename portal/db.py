"""The portal's database connection: one ``DatabaseProxy`` bound from ``DATABASE_URL``.

SQLite (the default, a file under ``instance/``) runs in WAL mode with a busy timeout and
foreign keys on; every money transaction starts with ``BEGIN IMMEDIATE`` so two writers
never interleave. PostgreSQL (``postgresql://...``) runs the same code: its row locks and
``UPDATE ... WHERE`` re-checks give the same guarantees.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseProxy, SqliteDatabase
from playhouse.db_url import connect as connect_url

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 30_000,
    "foreign_keys": 1,
    "synchronous": "normal",
}


def open_database(url: str):
    """A peewee database for ``url`` (``sqlite:///path`` or ``postgresql://...``)."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=30)
    if url.startswith(("postgres://", "postgresql://")):
        return connect_url(url)
    raise ValueError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]!r}")


def bind(url: str):
    """Point the proxy at the database of ``url`` and return it."""
    db = open_database(url)
    database.initialize(db)
    return db


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


@contextmanager
def money_transaction():
    """A transaction for moving money: ``BEGIN IMMEDIATE`` on SQLite, plain on PostgreSQL.

    Nested use becomes a savepoint of the outer transaction.
    """
    if is_sqlite() and database.transaction_depth() == 0:
        with database.atomic("IMMEDIATE") as txn:
            yield txn
    else:
        with database.atomic() as txn:
            yield txn


@contextmanager
def connection():
    """Open a connection for the duration of the block unless one is already open."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield database
    finally:
        if opened and not database.is_closed():
            database.close()
