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
"""

from __future__ import annotations

import gc
import os
import sys

SWITCH_SECONDS = 0.001  # sys.setswitchinterval: how long a thread keeps the GIL when another wants it
M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)


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
