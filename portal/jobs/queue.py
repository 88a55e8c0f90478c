"""The queue engine: Huey, with the backend the config names.

- ``REDIS_URL`` set: ``RedisHuey``, shared by every portal instance and consumer that
  names the same Redis (the distributed backend).
- otherwise ``SqliteHuey`` in ``QUEUE_FILE`` (``instance/queue.sqlite3``): no server, one
  machine (the embedded default that ``make run`` uses).
- ``QUEUE_IMMEDIATE``: tasks run at once in the caller's thread (Huey's immediate mode),
  for tests of what a job does rather than of the queue.

Results are not kept: every job writes what it did to the portal's database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from huey import Huey, RedisHuey, SqliteHuey

NAME = "portal"


def make_queue(config: Mapping[str, Any]) -> Huey:
    """The Huey instance ``config`` asks for (no task registered yet)."""
    if config.get("QUEUE_IMMEDIATE"):
        return Huey(NAME, results=False, immediate=True)
    if config.get("REDIS_URL"):
        return RedisHuey(NAME, results=False, url=config["REDIS_URL"])
    path = Path(config["QUEUE_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(NAME, results=False, filename=str(path), timeout=10)


def backend(queue: Huey) -> str:
    """A word for the engine behind ``queue`` (shown on the staff page and in logs)."""
    if queue.immediate:
        return "immediate"
    return "redis" if isinstance(queue, RedisHuey) else "sqlite"
