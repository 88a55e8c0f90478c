"""Job consumers for tests, as `make run` starts them: ``flask --app portal jobs`` in a
process of its own, configured by environment variables (the same database and queue as
the portal under test). ``kill`` is ``kill -9``; ``stop`` is Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Consumer:
    def __init__(self, env: dict[str, str], log: Path, workers: int = 4):
        self.env = {**os.environ, **env}
        self.log = log
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def start(self) -> "Consumer":
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "portal", "jobs", "--workers", str(self.workers)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while b"Huey consumer started" not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the consumer did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """``kill -9``: whatever it was doing stops in the middle."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def consumer_env(app_config: dict) -> dict[str, str]:
    """The environment that gives a consumer ``app_config``'s database, queue, secrets and
    providers (the keys ``portal.config`` reads from the environment)."""
    from portal.config import ENV_KEYS

    env = {key: str(app_config[key]) for key in ENV_KEYS if app_config.get(key) not in (None, "")}
    env["PORTAL_DEMO_SEED"] = "0"
    return env
