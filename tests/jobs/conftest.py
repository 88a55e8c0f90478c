"""Fixtures of the job tests: a Redis server for the session (Debian's redis-server, started
here like PostgreSQL), ``live_app``: an app whose jobs go through a real queue, on the two
stacks the portal runs on (SQLite with the embedded SqliteHuey, as `make run` has it;
PostgreSQL with Redis, as several machines have it), and ``consumers`` started as `make run`
starts one (``flask --app portal jobs`` in a process of its own)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from redis_server import RedisServer  # noqa: E402
from tests.consumers import Consumer, consumer_env  # noqa: E402
from tests.portal.fixtures import _database  # noqa: E402
from tests.portal.portal_testing import make_app  # noqa: E402


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite+sqlitehuey", "postgres+redis"])
def live_app(request, tmp_path, site_dir):
    """An app whose jobs are enqueued on a real queue (nothing runs them until a consumer
    starts): SQLite with its queue in a file, or PostgreSQL with the session's Redis (emptied)."""
    if request.param == "sqlite":
        queue = {"QUEUE_IMMEDIATE": False, "QUEUE_FILE": str(tmp_path / "queue.sqlite3"), "REDIS_URL": ""}
    else:
        server = request.getfixturevalue("redis_server")
        server.flush()
        queue = {"QUEUE_IMMEDIATE": False, "REDIS_URL": server.url}
    databases = _database(request, tmp_path, migrated=True)
    app = make_app(next(databases), site_dir, **queue)
    yield app
    databases.close()  # drops a PostgreSQL database


@pytest.fixture
def consumers(tmp_path):
    """A function starting a consumer for an app (with extra environment); all stop at the end."""
    started = []

    def start(app, workers: int = 4, **env) -> Consumer:
        log = tmp_path / f"consumer-{len(started)}.log"
        consumer = Consumer({**consumer_env(app.config), **env}, log, workers).start()
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.stop()
