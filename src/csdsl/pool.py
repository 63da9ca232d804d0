"""Independent work on every core: results in the order of the inputs.

In: items and a function of one item.  Out: `(item, result)` pairs, in the order of the items.
With more than one worker, the items go to forked worker processes in chunks (the function and
what it closes over are inherited by the fork, never pickled; items and results are); with one
worker, or where processes cannot be forked, the work runs inline, with the same results.

The audit uses it for transcripts (each is checked on its own) on the DuckDB engine.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_WORK: Callable[[Any], Any] | None = None  # the function, as the forked workers inherit it


def _run(item: Any) -> Any:
    assert _WORK is not None
    return _WORK(item)


def workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def in_order(
    items: Iterable[T], work: Callable[[T], R], processes: int, chunk: int = 64
) -> Iterator[tuple[T, R]]:
    """`(item, work(item))` for every item, in order; `processes` > 1 forks that many workers."""
    if processes <= 1 or not can_fork():
        for item in items:
            yield item, work(item)
        return
    global _WORK
    _WORK = work
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(processes) as pool:
            batch: list[T] = []
            for item in items:
                batch.append(item)
                if len(batch) == chunk * processes * 4:
                    yield from zip(batch, pool.imap(_run, batch, chunk), strict=True)
                    batch = []
            if batch:
                yield from zip(batch, pool.imap(_run, batch, chunk), strict=True)
    finally:
        _WORK = None
