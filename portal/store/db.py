"""The portal's database connection: one ``DatabaseProxy`` bound from ``DATABASE_URL``.

SQLite (the default, a file under ``instance/``) runs in WAL mode with a busy timeout and
foreign keys on; every money transaction starts with ``BEGIN IMMEDIATE`` so two writers
never interleave. PostgreSQL (``postgresql://...``) runs the same code: its row locks and
``UPDATE ... WHERE`` re-checks give the same guarantees.

A request waits for a lock at most the lock timeout (SQLite's busy timeout, PostgreSQL's
``lock_timeout``), then fails with an error ``is_busy`` recognises: the portal answers 503,
try again. The timeout must stay well below gunicorn's worker timeout (30 s), or a worker
waiting for a lock is killed instead of answering.
"""

from __future__ import annotations

import sqlite3
import zlib
from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseProxy, SqliteDatabase
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
}
# 5 s: a transaction holds a lock for milliseconds; waiting 5 s means something is wrong,
# and leaves the request 25 s to answer 503 before gunicorn's 30 s worker timeout.
LOCK_TIMEOUT_SECONDS = 5


# Connections are pooled: a request "closes" its connection back into the pool, so the
# next request does not pay for a new connection (no limit: a worker uses few anyway).
POOL = {"max_connections": 0, "stale_timeout": 300}


def open_database(url: str, lock_timeout: float = LOCK_TIMEOUT_SECONDS):
    """A peewee database for ``url`` (``sqlite:///path`` or ``postgresql://...``) whose
    statements wait at most ``lock_timeout`` seconds for a lock."""
    milliseconds = max(1, round(lock_timeout * 1000))
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: a pooled connection serves one thread at a time, then another
        return PooledSqliteDatabase(path, pragmas={**SQLITE_PRAGMAS, "busy_timeout": milliseconds},
                                    timeout=lock_timeout, check_same_thread=False, **POOL)
    if url.startswith(("postgres://", "postgresql://")):
        return PooledPostgresqlDatabase(**parse_url(url), options=f"-c lock_timeout={milliseconds}",
                                        **POOL)
    raise ValueError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]!r}")


def bind(url: str, lock_timeout: float = LOCK_TIMEOUT_SECONDS):
    """Point the proxy at the database of ``url`` and return it (closing the pool of the
    database it pointed at before, if any)."""
    if database.obj is not None and hasattr(database.obj, "close_all"):
        database.obj.close_all()
    db = open_database(url, lock_timeout)
    database.initialize(db)
    return db


_compiled: dict[tuple[str, type], str] = {}


def compiled_sql(name: str, build) -> str:
    """The SQL of the peewee query ``build()`` returns, generated once per kind of database.

    For the hottest reads (the signed-in user, the balance): generating SQL costs more than
    running it. ``build`` must use placeholder values in the order the caller passes them.
    """
    key = (name, type(database.obj))
    sql = _compiled.get(key)
    if sql is None:
        sql = _compiled[key] = build().sql()[0]
    return sql


def first_row(sql: str, *params) -> tuple | None:
    """The first row of ``sql`` (with ``params``), as the driver returns it."""
    return database.execute_sql(sql, params).fetchone()


def as_model(model, values):
    """An instance of ``model`` from the values of a row that selected its columns in the
    order ``model.select()`` does, each converted as peewee converts it.

    With ``compiled_sql``, for the hottest reads: ``Model.raw`` inspects the cursor's columns
    on every query, which cost three times the query (65 us against 18 us for the signed-in
    user, SQLite; getStatus and the balance fragment in ``bench/``).
    """
    return model(**{field.name: field.python_value(value)
                    for field, value in zip(model._meta.sorted_fields, values)})


def as_models(values, *models) -> tuple:
    """One instance of each of ``models`` from a row that selected their columns one model
    after the other (``Rental.select(Rental, Service)``), as ``as_model`` builds one."""
    built, start = [], 0
    for model in models:
        width = len(model._meta.sorted_fields)
        built.append(as_model(model, values[start:start + width]))
        start += width
    return tuple(built)


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


# PostgreSQL's lock_not_available (lock_timeout), serialization_failure, deadlock_detected
_PG_BUSY = {"55P03", "40001", "40P01"}


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` (peewee's, or the driver's it wraps) is the database giving up on a
    lock held by others: worth trying again in a moment."""
    for cause in (error, *error.args, error.__cause__, error.__context__):
        if isinstance(cause, sqlite3.Error) and getattr(cause, "sqlite_errorname", "").startswith(
                ("SQLITE_BUSY", "SQLITE_LOCKED")):
            return True
        if getattr(cause, "pgcode", None) in _PG_BUSY:
            return True
    return False


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


_NAMED_LOCKS = 1001_0007  # the first key of the advisory locks locked_transaction takes


@contextmanager
def locked_transaction(*names: str):
    """A write transaction holding a lock on each of ``names`` until it ends: transactions
    naming the same thing run one after the other. SQLite's ``BEGIN IMMEDIATE`` serializes
    every writer already; PostgreSQL takes a transaction-scoped advisory lock per name, in
    one order for all (two transactions never each hold what the other waits for)."""
    with money_transaction() as txn:
        if not is_sqlite():
            for key in sorted({zlib.crc32(name.encode()) - 2**31 for name in names}):  # int4
                database.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (_NAMED_LOCKS, key))
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
