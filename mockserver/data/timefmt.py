"""Fast ISO 8601 formatting and lenient parsing, in epoch milliseconds.

`datetime.strftime` costs about a microsecond; a million-row export writes two
or three timestamps a row, so formatting goes through small lookup tables
(one string per day seen, per hour and per minute:second).
"""

from __future__ import annotations

from datetime import date, timezone
from functools import cache

import numpy as np
import polars as pl

from ..clock import parse_iso

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class _Days(dict):
    """Day number (days since 1970-01-01) → its date text plus `suffix`, made on first use."""

    def __init__(self, suffix: str) -> None:
        super().__init__()
        self.suffix = suffix

    def __missing__(self, day: int) -> str:
        text = self[day] = date.fromordinal(day + 719_163).isoformat() + self.suffix
        return text


_DAYS = _Days("")  # `YYYY-MM-DD`
_DAYS_T = _Days("T")  # `YYYY-MM-DDT`
_TWO = [f"{i:02d}" for i in range(60)]


@cache
def _clock() -> list[str]:
    """`HH:MM:SS.` for each second of the day, built by concatenation (10× quicker than formatting each), on
    first use: 86,400 Python strings hold ~6 MiB, and a vectorised recipe (an order's) never needs them."""
    return [hh_mm + ss for hh_mm in [f"{h}:{m}:" for h in _TWO[:24] for m in _TWO] for ss in [f"{s}." for s in _TWO]]


_MILLIS_Z = [f"{ms:03d}Z" for ms in range(1000)]


def iso_ms(ms: int) -> str:
    """`2024-03-09T09:16:32.521Z` for epoch milliseconds."""
    return _DAYS_T[ms // DAY_MS] + _clock()[ms // 1000 % 86_400] + _MILLIS_Z[ms % 1000]


def iso_ms_all(times: list) -> list:
    """iso_ms of many instants, None staying None (the hot path: one comprehension, no calls)."""
    days, clock, millis = _DAYS_T, _clock(), _MILLIS_Z
    if None in times:
        return [None if t is None else days[t // DAY_MS] + clock[t // 1000 % 86_400] + millis[t % 1000] for t in times]
    return [days[t // DAY_MS] + clock[t // 1000 % 86_400] + millis[t % 1000] for t in times]


@cache
def _clock_series() -> pl.Series:
    """`_clock()` as a polars column, made by polars from the hours' and the minutes' texts, never as 86,400
    Python strings (docs/performance.md, "Memory of a download"), on first use: the query that makes it starts
    polars' engine, ~10 MiB that a server which only creates and polls exports never needs."""
    second = pl.Series(np.arange(86_400))
    hours = pl.Series([f"{h}:" for h in _TWO[:24]]).gather(second // 3600)
    minutes = pl.Series([f"{m}:{s}." for m in _TWO for s in _TWO]).gather(second % 3600)
    return pl.select(pl.concat_str(hours, minutes)).to_series()


_MILLIS_SERIES = pl.Series(_MILLIS_Z, dtype=pl.String)


def iso_ms_series(times: np.ndarray) -> pl.Series:
    """iso_ms of an int64 array of instants, vectorised: the same lookup tables, gathered by polars."""
    days = times // DAY_MS
    first = int(days.min()) if len(days) else 0
    last = int(days.max()) if len(days) else 0
    day_texts = pl.Series([_DAYS_T[day] for day in range(first, last + 1)], dtype=pl.String)
    return pl.select(
        pl.concat_str(
            [
                day_texts.gather(pl.Series(days - first)),
                _clock_series().gather(pl.Series(times // 1000 % 86_400)),
                _MILLIS_SERIES.gather(pl.Series(times % 1000)),
            ]
        )
    ).to_series()


def iso_date(ms: int) -> str:
    """`2024-03-09` for epoch milliseconds."""
    return _DAYS[ms // DAY_MS]


def parse_ms(value: object) -> int | None:
    """Epoch ms of an ISO 8601 date or date-time (naive means UTC); None if it is not one."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        moment = parse_iso(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def civil(ms: int) -> date:
    """The UTC calendar date of an instant."""
    return date.fromordinal(ms // DAY_MS + 719_163)


def day_start_ms(day: date) -> int:
    return (day.toordinal() - 719_163) * DAY_MS
