"""Work done on every core, or in this process when there is too little of it."""

from __future__ import annotations

from typing import Callable, Sequence

PARALLEL_FROM = 16  # below this many texts or pages, starting workers costs more than it saves


def in_parallel(function: Callable, items: Sequence, jobs: int, work: int, *, worth_from: int = PARALLEL_FROM) -> list:
    """``function`` of every item, in order: on ``jobs`` worker processes when ``work`` (how
    many texts or pages the items hold) reaches ``worth_from``. The workers are forked: they
    inherit what this process holds when it calls this."""
    if jobs <= 1 or work < worth_from or len(items) < 2:
        return [function(item) for item in items]
    import multiprocessing  # here: importing it and concurrent.futures took a one-page rebuild 20 ms
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(jobs, len(items)), mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(function, items))
