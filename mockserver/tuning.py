"""Process-wide tuning of a serving process (`mockserver serve` and its workers;
tests and embedders are left alone).

`settle_heap()`, once the app is built and listening, moves everything made so
far (resolved specs, compiled validators, imported modules: nearly the whole
heap) out of the garbage collector's sight. A full collection then looks only
at what requests made since: well under a millisecond instead of tens of
milliseconds, which is what the slowest 1 % of answers used to wait for.
It also shortens the interval at which a thread holding the GIL hands it over
(5 ms → 1 ms): while a thread checks a 2,000-order import or runs its store
transaction, the event loop waits for the GIL at each turn, and a GET takes
several turns.
"""

from __future__ import annotations

import gc
import sys

SWITCH_SECONDS = 0.001  # sys.setswitchinterval: how long a thread keeps the GIL when another wants it


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_SECONDS)
