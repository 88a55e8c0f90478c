"""Brings a database to the current schema: the numbered scripts in ``portal/migrations``.

Several workers may start at once; a lock (an advisory lock on PostgreSQL, a lock file
beside the SQLite file) makes exactly one of them apply what is missing.
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from peewee import SqliteDatabase
from playhouse.migrations import Runner

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_ID = 1001_0005


@contextmanager
def _exclusive(db):
    if isinstance(db, SqliteDatabase):
        if db.database == ":memory:":
            yield
            return
        with open(f"{db.database}.migrate-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        # Wait as long as it takes: for the worker that migrates, and for the tables' locks.
        db.execute_sql("SET lock_timeout = 0")
        db.execute_sql("SELECT pg_advisory_lock(%s)", (_PG_LOCK_ID,))
        try:
            yield
        finally:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (_PG_LOCK_ID,))
            db.execute_sql("RESET lock_timeout")


def upgrade(db, target: str | None = None) -> list[str]:
    """Apply every migration not yet applied (up to ``target``); returns their names."""
    with _exclusive(db):
        return Runner(db, str(MIGRATIONS)).up(target)


def pending(db) -> list[str]:
    """Names of the migrations not applied yet."""
    return [m.name for m in Runner(db, str(MIGRATIONS)).status() if not m.applied]
