"""``flask --app portal jobs``: a consumer of the app's queue, with its scheduler (the periodic
jobs). Start as many as you like, on as many machines as share the database and the Redis
named by ``REDIS_URL``; the ticker's lease keeps its work to one of them at a time, and the
outbox's claims keep each delivery to one."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from portal import jobs
from portal.jobs.queue import backend


@click.command("jobs")
@click.option("--workers", default=4, show_default=True,
              help="Threads running jobs (the ticker holds one while it ticks).")
@with_appcontext
def run_consumer(workers: int) -> None:
    """Run a consumer of the portal's job queue until interrupted (Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs %(levelname)s %(name)s: %(message)s")
    queue = jobs.of(current_app).queue
    if queue.immediate:
        raise click.UsageError("the queue runs in immediate mode (QUEUE_IMMEDIATE): there is nothing to consume")
    click.echo(f"jobs: consuming the {backend(queue)} queue with {workers} workers")
    # Ctrl-C (SIGINT) stops at once: every job's work is safe to cut short (an outbox claim
    # lapses, the ticker's lease too); SIGTERM lets running jobs finish, for 5 s at most.
    queue.create_consumer(workers=max(2, workers), worker_type="thread", periodic=True,
                          scheduler_interval=1, check_worker_health=True,
                          graceful_signal="TERM", shutdown_timeout=5).run()
