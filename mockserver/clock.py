"""Time as the mock sees it: wall-clock time plus an offset the tests control.

`advance()` moves the clock forward (never back), which drives the `time`
lifecycle without sleeping; `frozen=True` stops it from moving by itself.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    def __init__(self, start: float | None = None, *, frozen: bool = False) -> None:
        self._frozen_at = start if start is not None else time.time()
        self._offset = 0.0 if start is None else start - time.time()
        self.frozen = frozen

    def now(self) -> float:
        """Seconds since the epoch."""
        if self.frozen:
            return self._frozen_at
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._frozen_at += seconds
        self._offset += seconds
        return self.now()


def iso(epoch: float) -> str:
    """ISO 8601 with milliseconds and Z, the way Voucherify writes timestamps."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
