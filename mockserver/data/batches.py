"""From a query to batches of CSV lines: sources, filtering and rendering.

A source hands out the data set block by block as columns (one per
attribute, see columns.py); `Pipeline.select` filters a block into a polars
frame and `Pipeline.render` writes it as CSV (`RowPipeline.render`: as rows of
cell text, for iter_rows). ordering.py decides in which order blocks are visited
and, where the sort key does not follow the row index, how rows are merged.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import polars as pl

from . import csvout
from .blocks import BLOCK, SPAN, TIMELINE_END, Block, Columns, Recipe
from .columns import Column, Pooled, cells, formatted, quoted, series, values
from .filters import Filter
from .formats import CellFormat
from .model import ANY, SCHEMA_RECIPE, ObjectModel
from .pools import AppWorld
from .schema_rows import schema_recipe

INDEX = "#index"  # pseudo-column: each row's position in the data set


def recipe_of(model: ObjectModel) -> Recipe:
    """The object's recipe: one its vendor declares (imported now, on the first rows made), or one read
    off its row schema."""
    if model.recipe == SCHEMA_RECIPE:
        return schema_recipe(model)
    if not model.made:
        raise LookupError(
            f"no recipe for {model.name!r}: its vendor declares none (Vendor.data_recipes), "
            f"and its row schema does not say `x-recipe: {SCHEMA_RECIPE}`"
        )
    return model.recipes.load()[model.recipe or model.name]


def generate_block(
    world: AppWorld,
    model: ObjectModel,
    number: int,
    rows: int,
    scope: Mapping[str, object] | None = None,
    end: int = TIMELINE_END,
    span: int = 1,
) -> Columns:
    """Every attribute of rows [number·BLOCK, (number + span)·BLOCK) as columns; scope attributes pinned.
    A small data set's block is made once and kept (`_Kept`): the columns are pure functions of these
    arguments and nobody changes them, and one tenant's reports (dozens of report types over a few objects) or
    a client polling one export read the same rows again and again. A fresh dict each time, so a caller
    may add columns (INDEX) to it."""
    small = rows <= _Kept.ROWS
    kept = _KEPT.get(world, model, number, rows, scope, end, span) if small else None
    if kept is not None:
        return KeptColumns(kept[0], kept[1])
    block = Block(world, model, number, rows, scope, end, span)
    columns = recipe_of(model).make(block)
    for name, value in (scope or {}).items():
        columns[name] = Pooled((value,), np.zeros(block.n, dtype=np.int64))
    if small:
        cells = _KEPT.put(world, model, number, rows, scope, end, span, columns, block.n)
        if cells is not None:
            return KeptColumns(columns, cells)
    return columns


class KeptColumns(dict):
    """A kept block's columns (a copy of the dict), with `cells`: shared by every copy, where a Pipeline keeps
    the CSV cells it made of a column (formatting a column is most of a small file's cost, and the next
    report or poll asks for the same cells of the same rows)."""

    def __init__(self, columns: Columns, cells: dict) -> None:
        super().__init__(columns)
        self.cells = cells


class _Kept:
    """The blocks of small data sets, least recently used dropped first. Keyed by the world's and model's
    identity (each is made once per app and Spec, and lives as long as they do), checked through weak
    references, so a key never answers for a newer object that took a dropped one's id."""

    ROWS = 4096  # data sets up to this many rows (one block) are kept; a larger one is streamed, never held
    BUDGET = 16_384  # rows kept in all: a 4,096-row block of Voucherify's widest object (customer) holds ~5 MB,
    # so ~20 MB at worst (and their cells, made as asked); counted in blocks (256 of them), 300 distinct
    # 4,000-row customer sets grew a process by 1.3 GB

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key → (world, model weak references, columns, rows, their cells)
        self._blocks: OrderedDict[tuple, tuple[weakref.ref, weakref.ref, Columns, int, dict]] = OrderedDict()
        self._rows = 0  # rows of every block kept

    @staticmethod
    def _key(world, model, number, rows, scope, end, span) -> tuple | None:
        try:
            pinned = tuple(sorted((scope or {}).items()))
            hash(pinned)
        except TypeError:  # a scope value no key can hold: made each time
            return None
        return (id(world), id(model), number, rows, pinned, end, span)

    def get(self, world, model, number, rows, scope, end, span) -> tuple[Columns, dict] | None:
        key = self._key(world, model, number, rows, scope, end, span)
        with self._lock:
            found = self._blocks.get(key) if key is not None else None
            if found is None or found[0]() is not world or found[1]() is not model:
                return None
            self._blocks.move_to_end(key)
            return found[2], found[4]

    def put(self, world, model, number, rows, scope, end, span, columns: Columns, n: int) -> dict | None:
        """Keep a block; its (empty) cells, or None when it cannot be kept."""
        key = self._key(world, model, number, rows, scope, end, span)
        if key is None:
            return None
        try:
            refs = weakref.ref(world), weakref.ref(model)
        except TypeError:  # an object without weak references: made each time
            return None
        cells: dict = {}
        with self._lock:
            if key in self._blocks:
                self._rows -= self._blocks.pop(key)[3]
            self._blocks[key] = (*refs, columns, n, cells)
            self._rows += n
            while self._rows > self.BUDGET:
                self._rows -= self._blocks.popitem(last=False)[1][3]
        return cells


_KEPT = _Kept()


class SyntheticSource:
    """Generated rows; pure functions of (world, object, scope, row index)."""

    def __init__(
        self, world: AppWorld, model: ObjectModel, rows: int, scope: Mapping | None, end: int = TIMELINE_END
    ) -> None:
        self.world, self.model, self.rows, self.scope, self.end = world, model, max(0, int(rows)), scope, end
        recipe = recipe_of(model)
        self.monotone = recipe.monotone
        self.lagging = dict(recipe.lagging or {})

    @property
    def blocks(self) -> int:
        """How many pieces `columns` hands out: SPAN blocks each."""
        return -(-self.rows // (SPAN * BLOCK))

    def columns(self, number: int) -> Columns:
        first = number * SPAN
        columns = generate_block(self.world, self.model, first, self.rows, self.scope, self.end, SPAN)
        columns[INDEX] = pl.Series(np.arange(first * BLOCK, min(self.rows, (first + SPAN) * BLOCK), dtype=np.int64))
        return columns


class RecordSource:
    """Stored records (mappings of attribute → value), in the order given.

    A scope keeps only the records that carry its values. Nothing is known
    about their order, so every sort goes the general way.
    """

    monotone: tuple[str, ...] = ()
    lagging: dict = {}

    def __init__(self, records: Sequence[Mapping], scope: Mapping | None) -> None:
        self.records = [r for r in records if all(r.get(k) == v for k, v in (scope or {}).items())]

    @property
    def blocks(self) -> int:
        return -(-len(self.records) // BLOCK)

    def columns(self, number: int) -> Columns:
        chunk = self.records[number * BLOCK : (number + 1) * BLOCK]
        names = dict.fromkeys(name for record in chunk for name in record)
        columns: Columns = {name: [record.get(name) for record in chunk] for name in names}
        columns[INDEX] = pl.Series(np.arange(number * BLOCK, number * BLOCK + len(chunk), dtype=np.int64))
        return columns


def column(columns: Columns, name: str) -> Column:
    """An attribute's column; `<object>.<key>` (`metadata.<key>`) reads a key of an object column;
    unknown → empties."""
    if name in columns:
        return columns[name]
    size = len(columns[INDEX])
    head, dot, key = name.partition(".")
    if dot and head in columns:
        return [m.get(key) if isinstance(m, Mapping) else None for m in values(columns[head])]
    return [None] * size


RANK = "#rank"  # sort position of a row (ordering.py)


class Pipeline:
    """Filter + render for one query, a block at a time, in a polars DataFrame.

    A selected frame has the requested fields as columns `f0, f1, …` (fields
    may repeat) as CSV cells (columns.cells: text quoted where needed), then the
    sort key as `key` when asked for, and INDEX. A field with a format (formats.py) is written in it
    (its `x-decimals-when` does not apply then).
    """

    quoted = True  # whether a selected frame's text cells are quoted for the CSV writer

    def __init__(
        self,
        model: ObjectModel,
        fields: Sequence[str],
        flt: Filter | None,
        *,
        typed: bool = True,
        formats: Mapping[str, CellFormat] | None = None,
    ) -> None:
        """`typed`: values follow the row schema (generated rows); stored records may not."""
        self.fields = tuple(fields)
        self.labels = tuple(model.label(name) for name in self.fields)
        self.filter = flt
        self.attributes = [(model.attribute(name) if typed else None) or ANY for name in self.fields]
        # `x-decimals-when: {other: [values]}`: the cell written with two decimals (2000 → 2000.00) in the rows
        # whose `other` is one of the values, as the vendor writes some amounts; stored records too
        self.decimals = [((model.attribute(name) or ANY).hints.get("x-decimals-when") or {}) for name in self.fields]
        self.formats = [(formats or {}).get(name) for name in self.fields]
        self.model, self.typed = model, typed
        self.names = [f"f{k}" for k in range(len(self.fields))]

    @property
    def header(self) -> str:
        return ",".join(csvout.quote(label) for label in self.labels)

    def select(self, columns: Columns, key: str | None = None, *, fields: bool = True) -> pl.DataFrame:
        """The block's rows that pass the filter: fields (unless `fields=False`), the key if named, INDEX."""
        data = {}
        if fields:
            kept = getattr(columns, "cells", None)
            data = {
                alias: self._cells(column(columns, name), attribute, when, form, columns)
                if kept is None
                else self._kept_cells(kept, name, attribute, when, form, columns)
                for alias, name, attribute, when, form in zip(
                    self.names, self.fields, self.attributes, self.decimals, self.formats
                )
            }
        if key is not None:
            attribute = (self.model.attribute(key) if self.typed else None) or ANY
            data["key"] = _sortable(series(column(columns, key), attribute))
        data[INDEX] = columns[INDEX]
        frame = pl.DataFrame(data)
        if self.filter is not None:
            mask = self.filter.mask(lambda name: values(column(columns, name)))
            if not all(mask):
                frame = frame.filter(pl.Series(mask, dtype=pl.Boolean))
        return frame

    def _cells(
        self, values: Column, attribute, when: Mapping[str, Sequence], form: CellFormat | None, columns: Columns
    ) -> pl.Series:
        """One field's cells in the frame: in its format when it has one, else as the engine writes them."""
        if form is not None:
            text = formatted(series(values, attribute), form)
            return quoted(text) if self.quoted else text
        if self.quoted:
            return _decimals(cells(values, attribute), when, columns)
        return _decimals(series(values, attribute), when, columns)

    def _kept_cells(
        self, kept: dict, name: str, attribute, when: Mapping[str, Sequence], form: CellFormat | None, columns: Columns
    ) -> pl.Series:
        """`_cells` of a kept block's column, made once per field, format and kind of pipeline (a field's
        attribute and `when` are the block's model's; a typed pipeline's, as generated rows are)."""
        key = (name, form, self.quoted, self.typed)
        try:
            found = kept.get(key)
        except TypeError:  # a format no key can hold
            return self._cells(column(columns, name), attribute, when, form, columns)
        if found is None:
            found = kept[key] = self._cells(column(columns, name), attribute, when, form, columns)
        return found

    def render(self, frame: pl.DataFrame) -> Iterator[bytes]:
        """A selected frame's fields as CSV lines, a buffer per slice (csvout.write)."""
        return csvout.write(frame.select(self.names))


class RowPipeline(Pipeline):
    """The same rows as tuples of cell text, unquoted, "" for an empty cell: what the CSV's lines hold,
    for a vendor that composes its own lines (sums, groups) from them (iter_rows)."""

    quoted = False

    def render(self, frame: pl.DataFrame) -> Iterator[list[tuple[str, ...]]]:
        yield frame.select(pl.col(name).cast(pl.String).fill_null("") for name in self.names).rows()


def _decimals(cells: pl.Series, when: Mapping[str, Sequence], columns: Columns) -> pl.Series:
    """Whole numbers as `N.00` in the rows `when` names (see Pipeline.decimals); other cells unchanged."""
    if not when:
        return cells
    rows = np.ones(len(cells), dtype=bool)
    for other, allowed in when.items():
        wanted = set(allowed)
        rows &= np.fromiter((v in wanted for v in values(column(columns, other))), dtype=bool, count=len(cells))
    text = cells.cast(pl.String)
    whole = text.str.contains(r"^-?[0-9]+$").fill_null(False)
    return pl.select(pl.when(pl.Series(rows) & whole).then(text + ".00").otherwise(text)).to_series().alias(cells.name)


def _sortable(key: pl.Series) -> pl.Series:
    """Empty text is empty (sorts with the nulls)."""
    if key.dtype == pl.String:
        return pl.select(pl.when(key != "").then(key)).to_series()
    return key
