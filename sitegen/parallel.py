"""Work done on every core, or in this process when there is too little of it."""

from __future__ import annotations

from typing import Callable, Sequence

PARALLEL_FROM = 16  # below this many texts or pages, starting workers costs more than it saves


def in_parallel(function: Callable, items: Sequence, jobs: int, work: int, given: object = None, *,
                worth_from: int = PARALLEL_FROM) -> list:
    """``function(given, item)`` of every item, in order: on ``jobs`` worker processes when
    ``work`` (how many texts or pages the items hold) reaches ``worth_from``. The workers are
    forked and get ``function`` and ``given`` as they start (the pool's initializer), so only
    the items and the results are pickled."""
    if jobs <= 1 or work < worth_from or len(items) < 2:
        return [function(given, item) for item in items]
    import multiprocessing  # here: importing it and concurrent.futures took a one-page rebuild 20 ms
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(jobs, len(items)), mp_context=multiprocessing.get_context("fork"),
                             initializer=_start, initargs=(function, given)) as pool:
        return list(pool.map(_call, items))


_started: tuple[Callable, object] | None = None  # in a worker: the function and what it was given


def _start(function: Callable, given: object) -> None:
    global _started
    _started = function, given


def _call(item: object) -> object:
    function, given = _started
    return function(given, item)
