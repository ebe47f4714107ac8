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
"""

from __future__ import annotations

import gc
import sys

SWITCH_SECONDS = 0.001  # sys.setswitchinterval: how long a thread keeps the GIL when another wants it


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
