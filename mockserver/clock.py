"""Time as the mock sees it: wall-clock time plus an offset the tests control.

`advance()` moves the clock forward (never back), which drives the `time`
lifecycle without sleeping; `frozen=True` stops it from moving by itself.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Clock:
    def __init__(self, start: float | None = None, *, frozen: bool = False) -> None:
        self._frozen_at = start if start is not None else time.time()
        self._offset = 0.0 if start is None else start - time.time()
        self._advanced = 0.0  # what advance() added: a full reset takes it back
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
        self._advanced += seconds
        return self.now()

    async def rewind(self) -> float:
        """Take back every advance (`POST /__mock/reset` of everything: a fresh mock has a fresh clock;
        with every export gone, nothing is left that the clock already moved on)."""
        self._frozen_at -= self._advanced
        self._offset -= self._advanced
        self._advanced = 0.0
        return self.now()

    async def step(self, seconds: float) -> float:
        """`advance`, for the admin API: a shared clock moves through its store."""
        return self.advance(seconds)

    async def sync(self) -> None:
        """Catch up with other processes (a shared clock's offset); called once per request."""


class SharedClock(Clock):
    """The clock of processes sharing one store (`serve --workers N`, replicas on
    Redis): the offset `step()` adds is a counter in the store, so moving the
    clock through any process moves it for all of them. Never frozen.

    The offset is read once per request (`sync()`, before the request is
    handled), so one request sees one offset and costs one read of the store,
    not one per timestamp it takes; `now()` never waits."""

    OFFSET = "clock-offset"

    def __init__(self, counters) -> None:  # counters: a Store (its counter/incr)
        super().__init__()
        self._counters = counters
        self._cached = 0.0

    def now(self) -> float:
        return time.time() + self._cached

    async def sync(self) -> None:
        self._cached = await self._counters.counter(self.OFFSET)

    def advance(self, seconds: float) -> float:
        raise TypeError("a shared clock moves through its store: await step(seconds)")

    async def step(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._cached = await self._counters.incr(self.OFFSET, seconds)
        return time.time() + self._cached

    async def rewind(self) -> float:
        self._cached = await self._counters.incr(self.OFFSET, -await self._counters.counter(self.OFFSET))
        return time.time() + self._cached


def parse_iso(value: str) -> datetime:
    """datetime.fromisoformat, with a final `Z` for UTC on every supported Python (3.10's takes none)."""
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)


@lru_cache(maxsize=4096)  # a pure function, called for every export shown; the same ones recur
def iso(epoch: float) -> str:
    """ISO 8601 with milliseconds and Z, the way Voucherify writes timestamps."""
    moment = EPOCH + timedelta(milliseconds=round(epoch * 1000))  # exact, also far before 1970
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # pads years < 1000 too
