"""Run-wide fault injection, so client retry paths can be tested:

- latency `50-200` (ms, uniformly random in the range; `100` for a fixed delay)
- error rate `0.05`: that share of requests fails with a vendor-shaped 500 or 503
- rate limit `10/s`: over that many requests per second per app → 429 + Retry-After

Randomness comes from the run's seed, so a failing run can be replayed.
Faults raise ApiError, which the error middleware words in the vendor's shape.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from ..errors import ApiError

_LATENCY = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?(?:ms)?\s*$")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*s(?:ec(?:ond)?)?\s*$")


def parse_latency(text: str | None) -> tuple[int, int] | None:
    """`"50-200"` → (50, 200); `"100"` → (100, 100); None/"" → None."""
    if not text:
        return None
    match = _LATENCY.match(str(text))
    if not match:
        raise ValueError(f"latency takes milliseconds as MIN-MAX or N, e.g. 50-200, not {text!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if high < low:
        raise ValueError(f"latency range {text!r} goes backwards")
    return low, high


def parse_rate_limit(text: str | None) -> int | None:
    """`"10/s"` → 10; None/"" → None."""
    if not text:
        return None
    match = _RATE.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"rate limit takes requests per second as N/s with N ≥ 1, e.g. 10/s, not {text!r}")
    return int(match.group(1))


def check_error_rate(rate: float) -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"error rate must be between 0 and 1, not {rate}")
    return rate


@dataclass
class Faults:
    latency: tuple[int, int] | None = None
    error_rate: float = 0.0
    rate_limit: int | None = None
    seed: int = 0
    monotonic: Callable[[], float] = time.monotonic  # injectable for tests

    def __post_init__(self) -> None:
        self._random = random.Random(f"mockserver-faults-{self.seed}")
        self._recent: dict[str, deque[float]] = {}  # app → times of its requests in the last second

    @property
    def active(self) -> bool:
        return bool(self.latency or self.error_rate or self.rate_limit)

    def count(self, request: web.Request, app: str | None) -> None:
        """Count the request against its app's budget (429 + Retry-After over it). Called once the
        request is authenticated, so `app` is who it proved to be: a caller with a wrong key never
        uses up another app's budget. A request of an unsecured operation (None) counts against its
        address."""
        if self.rate_limit:
            self._count(f"app:{app}" if app is not None else f"address:{request.remote or '-'}")

    async def before(self, request: web.Request) -> None:
        """Delay or fail the request as configured (--latency, --error-rate); the rate limit is `count`."""
        if self.latency:
            await asyncio.sleep(self._random.uniform(*self.latency) / 1000)
        if self.error_rate and self._random.random() < self.error_rate:
            if self._random.random() < 0.5:
                raise ApiError(500, "internal_error", "Internal Server Error", "Injected fault (--error-rate)")
            raise ApiError(
                503,
                "service_unavailable",
                "Service Unavailable",
                "Injected fault (--error-rate)",
                headers={"Retry-After": "1"},
            )

    def reset(self) -> None:
        self._recent.clear()

    def _count(self, client: str) -> None:
        now = self.monotonic()
        recent = self._recent.setdefault(client, deque())
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= self.rate_limit:
            wait = max(1, math.ceil(recent[0] + 1.0 - now))
            raise ApiError(
                429,
                "too_many_requests",
                "Too Many Requests",
                f"More than {self.rate_limit} requests per second; retry after {wait} s",
                headers={"Retry-After": str(wait)},
            )
        recent.append(now)
