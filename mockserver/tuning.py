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

`bound_malloc()`, for a process that is the command itself (not a test or a program the mock runs in),
pins glibc's mmap threshold: see its docstring.
"""

from __future__ import annotations

import gc
import os
import sys

SWITCH_SECONDS = 0.001  # sys.setswitchinterval: how long a thread keeps the GIL when another wants it
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc's malloc.h)
MMAP_THRESHOLD = 512 * 1024  # bytes: a block this big or bigger gets pages of its own, unmapped when freed


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


def bound_malloc() -> bool:
    """Pin glibc's mmap threshold at MMAP_THRESHOLD (mallopt, glibc's public interface); whether it was set.

    By default glibc raises the threshold each time a big block is freed (up to 32 MiB) and lets the heap
    keep twice that much free memory: a CSV download's per-batch buffers and arrays (a few hundred KiB to a
    few MiB each) then come from the heap, and the pages they leave stay resident. Pinned, such a block is
    mapped and unmapped on its own and the heap is trimmed as before: a 1,000,000-row order download's peak
    RSS 13-15 MiB lower, rows/s unchanged within the noise (docs/performance.md, "Memory"). Elsewhere than
    glibc (musl, macOS) nothing is done."""
    try:
        os.confstr("CS_GNU_LIBC_VERSION")  # only glibc defines this name
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
