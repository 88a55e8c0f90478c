"""The ticker: the portal's heartbeat, every ``TICK_SECONDS``, in one consumer at a time.

Huey's periodic tasks run at most once a minute, so a periodic task starts a ticker each
minute; the ticker holds the ``ticker`` lease and ticks for a minute, then the next one
takes over (waiting a moment for the lease when the two overlap). Each consumer starts one
each minute; all but the lease's holder find it taken and stop. Each tick runs ``work``
(polling the SMS upstreams, sending due outbox rows); an exception in one tick is logged and
the next tick runs as planned.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Callable

from portal.jobs import leases

log = logging.getLogger(__name__)

NAME = "ticker"
TICK_SECONDS = 2.0
RUN_SECONDS = 60.0
LEASE_SECONDS = 10.0  # well above one tick: a slow tick does not lose the lease
# How long a new ticker waits for the lease: longer than a lease lasts, so the lease of a
# ticker that was killed lapses within the wait and the new one takes over at once.
HANDOVER_SECONDS = LEASE_SECONDS + 2.0


def run(work: Callable[[], None], *, run_seconds: float = RUN_SECONDS,
        tick_seconds: float = TICK_SECONDS, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep) -> int:
    """Tick for ``run_seconds`` while holding the lease; the number of ticks run (0 when
    another ticker held the lease throughout the handover wait)."""
    holder = uuid.uuid4().hex
    started = clock()
    while not leases.take(NAME, holder, LEASE_SECONDS):
        if clock() - started > HANDOVER_SECONDS:
            return 0
        sleep(0.2)
    ticks, next_tick = 0, clock()
    try:
        while clock() - started < run_seconds:
            try:
                work()
            except Exception:  # one bad tick must not stop the heartbeat
                log.exception("ticker: a tick failed")
            ticks += 1
            if not leases.take(NAME, holder, LEASE_SECONDS):
                log.warning("ticker: lost the lease; another ticker goes on")
                return ticks
            next_tick += tick_seconds
            sleep(max(0.0, next_tick - clock()))
    finally:
        leases.release(NAME, holder)
    return ticks
