"""The per-key rate limit: requests per second, counted where every worker and instance
sees the same count, and off the portal's database (a counter per request would make every
API read a database write):

- ``REDIS_URL`` set: Redis (``INCR`` of a key per second, expiring), shared across machines;
- otherwise a SQLite file of its own on this machine (``API_RATE_FILE``, by default beside
  the SQLite database, or ``instance/api_rate.sqlite3``), written without fsync: a lost
  count after a crash costs nothing.

``init_app`` chooses one; ``allow`` counts a request and says whether it is within the limit.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from portal import config as settings


class Counter(Protocol):
    def hit(self, name: str, window: int) -> int:
        """Count one request of ``name`` in ``window``; how many there were in it so far."""
        ...


class SqliteCounter:
    def __init__(self, path: str):
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.local = threading.local()
        self._connection().execute(
            "CREATE TABLE IF NOT EXISTS rate (name TEXT PRIMARY KEY, window INTEGER, count INTEGER)")

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            self.local.connection = connection
        return connection

    def hit(self, name: str, window: int) -> int:
        return self._connection().execute(
            "INSERT INTO rate (name, window, count) VALUES (?, ?, 1) ON CONFLICT (name) DO UPDATE SET "
            "count = CASE WHEN window = excluded.window THEN count + 1 ELSE 1 END, window = excluded.window "
            "RETURNING count", (name, window)).fetchone()[0]


class RedisCounter:
    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)

    def hit(self, name: str, window: int) -> int:
        key = f"portal:api-rate:{name}:{window}"
        pipeline = self.redis.pipeline()
        pipeline.incr(key)
        pipeline.expire(key, 5)
        return int(pipeline.execute()[0])


def _default_file(config) -> str:
    url = config["DATABASE_URL"]
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        return url[len("sqlite:///"):] + ".api-rate"
    return str(settings.INSTANCE / "api_rate.sqlite3")


def init_app(app: Flask) -> None:
    config = app.config
    if config.get("REDIS_URL"):
        app.extensions["api_rate"] = RedisCounter(config["REDIS_URL"])
    else:
        app.extensions["api_rate"] = SqliteCounter(config.get("API_RATE_FILE") or _default_file(config))


def allow(key_id: int, per_second: int, now: float | None = None) -> bool:
    """Count one request of the key; False once it is over ``per_second`` in this second."""
    counter: Counter = current_app.extensions["api_rate"]
    return counter.hit(str(key_id), int(now if now is not None else time.time())) <= per_second
