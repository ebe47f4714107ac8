"""A block's columns and their move into Arrow memory (polars), where filtering, sorting and CSV writing happen.

A recipe may give a column as
- a list of Python values (the general form; None is an empty cell),
- a `polars.Series` made vectorised (ids, instants, amounts), or
- a `Pooled` column: indices into a small list of values (enum picks, metadata
  objects, Faker pools), so a million cells cost a million small ints and the
  pool's text is converted once.
`values()` gives any of them as Python values (what filters read); `series()`
gives any of them as a Series in the attribute's CSV form: text, Int64 or
Boolean, with null for an empty cell.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import polars as pl

from .model import Attribute, JsonObject


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

    def masked(self, keep: np.ndarray) -> Pooled:
        """Empty where `keep` is false."""
        return Pooled(self.pool, np.where(keep, self.index, -1))


Column = list | pl.Series | Pooled


def values(column: Column) -> list:
    """Python values (None for empty), as filters and stored records see them."""
    if isinstance(column, list):
        return column
    if isinstance(column, Pooled):
        return column.values()
    return column.to_list()


def series(column: Column, attribute: Attribute) -> pl.Series:
    """The column as the CSV writer needs it."""
    if isinstance(column, pl.Series):
        return column
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
