"""Fixtures of the job tests: a Redis server for the session (Debian's redis-server, started
here like PostgreSQL), ``queue`` over both backends (the embedded SQLite file and Redis),
``live_app``: an app whose jobs go through that real queue, and ``consumers`` started as
`make run` starts one (``flask --app portal jobs`` in a process of its own)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from redis_server import RedisServer  # noqa: E402
from tests.consumers import Consumer, consumer_env  # noqa: E402
from tests.portal.portal_testing import make_app  # noqa: E402


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, tmp_path) -> dict:
    """The settings of one queue backend: an embedded file, or the session's Redis (emptied)."""
    if request.param == "sqlite":
        return {"QUEUE_IMMEDIATE": False, "QUEUE_FILE": str(tmp_path / "queue.sqlite3"), "REDIS_URL": ""}
    server = request.getfixturevalue("redis_server")
    server.flush()
    return {"QUEUE_IMMEDIATE": False, "REDIS_URL": server.url}


@pytest.fixture
def live_app(db_url, site_dir, queue):
    """An app whose jobs are enqueued on a real queue (nothing runs them until a consumer
    starts)."""
    return make_app(db_url, site_dir, **queue)


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
