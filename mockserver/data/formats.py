"""Per-column cell formats a vendor asks of the engine (`ExportQuery.formats`: field → format).

The engine writes a formatted column's cells in its format, then quotes them as RFC 4180 needs, with the
rest of the file: a vendor whose files write values unlike the engine (amounts in major units, times in
the run's zone) shapes them without reading the engine's CSV back and writing it again. A small
declarative vocabulary, not Python callables: each format is applied to a whole column at once
(columns.formatted, in polars), and `text()` gives the same cell for one value, for a vendor composing
lines of its own (totals) from the engine's rows (`iter_rows`). This module imports no polars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class MajorUnits:
    """An integer amount in minor units written in major units with two decimals: 1234 → `12.34`,
    -5 → `-0.05`, an empty cell → `0.00` (no amount is zero), `separator` between the two parts."""

    separator: str = "."

    def text(self, cents: int) -> str:
        sign = "-" if cents < 0 else ""
        whole, fraction = divmod(abs(cents), 100)
        return f"{sign}{whole}{self.separator}{fraction:02d}"


@dataclass(frozen=True)
class DateTime:
    """An instant (the engine's ISO 8601 UTC text, `2025-01-31T23:05:09Z`, milliseconds or not) written
    with strftime's `pattern` in the IANA time zone `zone` (None: UTC); fractions of a second are dropped,
    an empty cell, or one that is no such instant, is empty."""

    pattern: str = "%Y-%m-%d %H:%M:%S"
    zone: str | None = None

    def text(self, cell: str) -> str:
        try:
            moment = datetime.strptime(cell[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        except ValueError:
            return ""
        return moment.astimezone(ZoneInfo(self.zone or "UTC")).strftime(self.pattern)


CellFormat = MajorUnits | DateTime
