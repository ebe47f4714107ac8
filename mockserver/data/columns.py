"""A block's columns and their move into Arrow memory (polars), where filtering, sorting and CSV writing happen.

A recipe may give a column as
- a list of Python values (the general form; None is an empty cell),
- a `polars.Series` made vectorised (ids, instants, amounts),
- a `Plain` one: such a Series of text its maker knows needs no CSV quoting
  (ids from the codec's tables, instants, digits), or
- a `Pooled` column: indices into a small list of values (enum picks, metadata
  objects, Faker pools), so a million cells cost a million small ints and the
  pool's text is converted (and quoted) once.
`values()` gives any of them as Python values (what filters read); `series()`
gives any of them as a Series in the attribute's CSV form: text, Int64 or
Boolean, with null for an empty cell; `cells()` the same with text quoted as
RFC 4180 needs, so the frame is written as it is (csvout.write).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import numpy as np
import polars as pl

from .csvout import SPECIAL, quote
from .formats import CellFormat, DateTime, MajorUnits
from .model import Attribute, JsonObject

# Text columns of up to this many rows are quoted in Python (quoted): a polars expression costs ~0.15 ms of
# set-up (a query planned and run), more than Python's regex over a few hundred cells, and a small data set
# (100 rows by default) has dozens of columns (docs/performance.md, "Tenants")
SMALL = 256
_special = re.compile(SPECIAL).search


class Pooled:
    """Per row an index into `pool`; a negative index is an empty cell."""

    __slots__ = ("pool", "index")

    def __init__(self, pool: Sequence, index: np.ndarray) -> None:
        self.pool, self.index = pool, index

    def __len__(self) -> int:
        return len(self.index)

    def values(self) -> list:
        pool = self.pool
        return [pool[i] if i >= 0 else None for i in self.index.tolist()]

    def series(self, attribute: Attribute) -> pl.Series:
        pool = series(list(self.pool), attribute)
        index = pl.Series(self.index, dtype=pl.Int64)
        if (self.index < 0).any():
            index = pl.select(pl.when(index >= 0).then(index)).to_series()
        return pool.gather(index)

    def cells(self, attribute: Attribute) -> pl.Series:
        """series() with the pool's text quoted first: a quote per pool value, not per row."""
        pool = series(list(self.pool), attribute)
        return Pooled(quoted(pool) if pool.dtype == pl.String else pool, self.index).series(attribute)

    def masked(self, keep: np.ndarray) -> Pooled:
        """Empty where `keep` is false."""
        return Pooled(self.pool, np.where(keep, self.index, -1))


class Plain:
    """Text cells that need no CSV quoting by how they are made (no comma, quote, CR or LF: ids from the
    codec's tables, ISO instants, digits), so writing them skips the search for those characters."""

    __slots__ = ("series",)

    def __init__(self, series: pl.Series) -> None:
        self.series = series

    def __len__(self) -> int:
        return len(self.series)


Column = list | pl.Series | Pooled | Plain


def values(column: Column) -> list:
    """Python values (None for empty), as filters and stored records see them."""
    if isinstance(column, list):
        return column
    if isinstance(column, Pooled):
        return column.values()
    if isinstance(column, Plain):
        return column.series.to_list()
    return column.to_list()


def series(column: Column, attribute: Attribute) -> pl.Series:
    """The column as the CSV writer needs it."""
    if isinstance(column, pl.Series):
        return column
    if isinstance(column, Plain):
        return column.series
    if isinstance(column, Pooled):
        return column.series(attribute)
    kind = attribute.type
    if kind == "integer" and _all(column, int):
        return pl.Series(column, dtype=pl.Int64, strict=False)
    if kind == "boolean" and _all(column, bool):
        return pl.Series(column, dtype=pl.Boolean)
    if kind == "string" and _all(column, str):
        return pl.Series(column, dtype=pl.String)
    if kind == "array":  # the vendor writes arrays of scalars comma-joined
        return pl.Series(
            [",".join(map(str, v)) if isinstance(v, (list, tuple)) else text(v) for v in column], dtype=pl.String
        )
    return pl.Series([text(v) for v in column], dtype=pl.String)


def cells(column: Column, attribute: Attribute) -> pl.Series:
    """The column as CSV cells, written as they are: series() with text quoted where RFC 4180 needs it."""
    if isinstance(column, Pooled):
        return column.cells(attribute)
    cells = series(column, attribute)
    if isinstance(column, Plain) or cells.dtype != pl.String:
        return cells
    return quoted(cells)


def quoted(cells: pl.Series) -> pl.Series:
    """Text cells holding a comma, quote, CR or LF in quotes, their quotes doubled; the others unchanged."""
    if len(cells) <= SMALL:  # Python's regex over a default 100-row set's column: 20 µs, polars' ~170 µs
        texts = cells.to_list()
        if not any(text is not None and _special(text) for text in texts):
            return cells
        return pl.Series(cells.name, [None if text is None else quote(text) for text in texts], dtype=pl.String)
    if not cells.str.contains(SPECIAL).any():
        return cells
    text = pl.lit(cells)
    escaped = pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.select(pl.when(text.str.contains(SPECIAL)).then(escaped).otherwise(text).alias(cells.name)).to_series()


def formatted(cells: pl.Series, form: CellFormat) -> pl.Series:
    """A column's cells (series(): Int64 or text) in a vendor's format (formats.py), as unquoted text, a
    whole column at once: what `form.text` gives for each cell."""
    if isinstance(form, MajorUnits):
        cents = cells.cast(pl.Int64, strict=False).fill_null(0)
        size = cents.abs()
        text = pl.concat_str(
            pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (size // 100).cast(pl.String),
            pl.lit(form.separator),
            (size % 100).cast(pl.String).str.zfill(2),
        )
        return pl.select(text.alias(cells.name)).to_series()
    if isinstance(form, DateTime):
        moment = (
            cells.cast(pl.String).str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_zone="UTC", strict=False)
        )
        if form.zone is not None:
            moment = moment.dt.convert_time_zone(form.zone)
        return moment.dt.strftime(form.pattern).alias(cells.name)
    raise TypeError(f"not a cell format: {form!r}")


def _all(column: list, kind: type) -> bool:
    return all(v is None or type(v) is kind for v in column)


def text(value: object) -> str | None:
    """A value of any type as its (unquoted) cell text; None stays empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, JsonObject):
        return value.text
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
