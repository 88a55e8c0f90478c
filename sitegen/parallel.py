"""Work done on every core, or in this process when there is too little of it."""

from __future__ import annotations

from typing import Callable, Sequence

PARALLEL_FROM = 16  # below this many texts or pages, starting workers costs more than it saves


def in_parallel(function: Callable, items: Sequence, jobs: int, work: int,
                initializer: Callable | None = None, initargs: tuple = (), *, worth_from: int = PARALLEL_FROM) -> list:
    """``function`` of every item, in order: on ``jobs`` worker processes when ``work`` (how
    many texts or pages the items hold) reaches ``worth_from``. ``initializer(*initargs)``
    runs first in every process that calls ``function``; the workers are forked, so what it
    is given is inherited, not sent to them."""
    if jobs <= 1 or work < worth_from or len(items) < 2:
        if initializer:
            initializer(*initargs)
        return [function(item) for item in items]
    import multiprocessing  # here: importing it and concurrent.futures took a one-page rebuild 20 ms
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(min(jobs, len(items)), mp_context=context, initializer=initializer,
                             initargs=initargs) as pool:
        return list(pool.map(function, items))
