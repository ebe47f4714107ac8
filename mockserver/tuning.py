"""Process-wide tuning of a serving process (`mockserver serve` and its workers;
tests and embedders are left alone).

`settle_heap()`, once the app is built and listening, moves everything made so
far (resolved specs, compiled validators, imported modules: nearly the whole
heap) out of the garbage collector's sight. A full collection then looks only
at what requests made since: well under a millisecond instead of tens of
milliseconds, which is what the slowest 1 % of answers used to wait for.
Until then the collector is off (`starting()`, from the command line's first line): start-up makes
long-lived objects only, and the automatic collections that tens of thousands of them trigger while
modules import and specs load found nothing to free but cost about a fifth of start-up's CPU.

It also shortens the interval at which a thread holding the GIL hands it over
(5 ms → 1 ms): while a thread checks a 2,000-order import or runs its store
transaction, the event loop waits for the GIL at each turn, and a GET takes
several turns.

`one_malloc_arena()`, for a process that is the command itself (not a test or a program the mock runs
in), keeps glibc's malloc to one arena: see its docstring.

`fewer_collections()`, around a contract run (the command's, or one run in another program), lets the
young generation grow to YOUNG_COLLECTION_EVERY allocations before it is collected, and puts the
collector's thresholds back afterwards: see its docstring.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_SECONDS = 0.001  # sys.setswitchinterval: how long a thread keeps the GIL when another wants it
M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)
YOUNG_COLLECTION_EVERY = 10_000  # allocations between young collections (fewer_collections; CPython's: 700)


def starting() -> bool:
    """Turn the collector off until the process serves (settle_heap) or the command runs; whether it was on."""
    enabled = gc.isenabled()
    gc.disable()
    return enabled


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
    gc.enable()  # off since start-up (starting())
    sys.setswitchinterval(SWITCH_SECONDS)


def one_malloc_arena() -> bool:
    """Keep glibc's malloc to one arena (mallopt(M_ARENA_MAX, 1), glibc's public interface); whether it was set.

    By default each thread that allocates while another holds the arena gets an arena of its own (up to 8
    per core), and each keeps the pages its freed blocks leave. A download runs on a thread of its own, and
    polars' writer threads make the Python bytes of each slice: with an arena each, their freed memory was
    never reused by the others (a 1,000,000-row order download's peak RSS 3.5 MiB higher; docs/performance.md,
    "Memory of a download"). Threads here take turns on the GIL anyway, and polars' own work allocates
    with its jemalloc, so the one arena's lock is hardly contended (rows/s unchanged within the noise).
    Elsewhere than glibc (musl, macOS) nothing is done."""
    try:
        os.confstr("CS_GNU_LIBC_VERSION")  # only glibc defines this name
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, 1))


def collect_less() -> tuple[int, int, int]:
    """Collect the young generation every YOUNG_COLLECTION_EVERY allocations, where it was more often (a
    threshold of 0, the automatic collector off, stays); the thresholds before, for gc.set_threshold."""
    before = gc.get_threshold()
    if 0 < before[0] < YOUNG_COLLECTION_EVERY:
        gc.set_threshold(YOUNG_COLLECTION_EVERY, *before[1:])
    return before


@contextmanager
def fewer_collections() -> Iterator[None]:
    """collect_less() for the duration, then the thresholds as they were.

    Generating cases (hypothesis, for schemathesis) makes millions of short-lived objects. At CPython's
    threshold of 700 they set off some 2,000 young collections in a default contract run, and with them
    ten full ones over everything the run holds (schemathesis' loaded schema, its strategies): 1.9 s of
    17 s of CPU. Every 10,000 allocations: 130 young, 2 full, 0.8 s, the same cases; the young objects
    live a few milliseconds longer (docs/performance.md, "Test loop", seventh pass). Process-wide while
    it lasts: another thread's objects are collected at the same pace meanwhile."""
    before = collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*before)
