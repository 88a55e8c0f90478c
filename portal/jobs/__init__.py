"""Background work on a queue (Huey): the outbox's deliveries, the ticker that polls the SMS
upstreams, reconciliation with the processors and the demo processor's clock.

``init_app`` builds the app's queue from its config (``portal.jobs.queue``) and registers
the tasks (``portal.jobs.tasks``); ``flask --app portal jobs`` runs a consumer
(``portal.jobs.consumer``). Code that wrote an outbox row calls ``deliver_soon`` after its
transaction; the ticker sends anything a lost request forgot.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from portal.jobs.queue import make_queue
from portal.jobs.tasks import Jobs, register

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = register(make_queue(app.config), app)


def of(app: Flask) -> Jobs:
    return app.extensions["jobs"]


def deliver_soon() -> bool:
    """Ask a consumer to send what is due in the outbox (at once, in immediate mode); False
    when the queue could not be reached: the rows are committed, and the ticker sends them."""
    try:
        of(current_app).deliver_outbox()
    except Exception as unreachable:  # Redis down, the queue file locked: never the cause's failure
        log.warning("could not enqueue an outbox delivery: %s", unreachable)
        return False
    return True
