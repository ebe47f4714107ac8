"""From a query to batches of CSV lines: sources, filtering and rendering.

A source hands out the data set block by block as columns (one list per
attribute); `Pipeline.batch` filters a block and renders the requested
fields to CSV lines. ordering.py decides in which order blocks are visited
and, where the sort key does not follow the row index, how rows are merged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import compress

from . import csvout
from .filters import Filter
from .generate import BLOCK, TIMELINE_END, Columns, generate_block, recipe_of
from .model import ANY, METADATA, METADATA_PREFIX, ObjectModel
from .world import World

INDEX = "#index"  # pseudo-column: each row's position in the data set


class SyntheticSource:
    """Generated rows; pure functions of (world, object, scope, row index)."""

    def __init__(self, world: World, model: ObjectModel, rows: int, scope: Mapping | None,
                 end: int = TIMELINE_END) -> None:
        self.world, self.model, self.rows, self.scope, self.end = world, model, max(0, int(rows)), scope, end
        recipe = recipe_of(model)
        self.monotone = recipe.monotone
        self.lagging = dict(recipe.lagging or {})

    @property
    def blocks(self) -> int:
        return -(-self.rows // BLOCK)

    def columns(self, number: int) -> Columns:
        columns = generate_block(self.world, self.model, number, self.rows, self.scope, self.end)
        columns[INDEX] = range(number * BLOCK, min(self.rows, (number + 1) * BLOCK))
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
        chunk = self.records[number * BLOCK:(number + 1) * BLOCK]
        names = dict.fromkeys(name for record in chunk for name in record)
        columns: Columns = {name: [record.get(name) for record in chunk] for name in names}
        columns[INDEX] = range(number * BLOCK, number * BLOCK + len(chunk))
        return columns


def column(columns: Columns, name: str) -> list:
    """An attribute's values; `metadata.<key>` reads the metadata column; unknown → empties."""
    if name in columns:
        return columns[name]
    size = len(columns[INDEX])
    if name.startswith(METADATA_PREFIX) and METADATA in columns:
        key = name[len(METADATA_PREFIX):]
        return [m.get(key) if isinstance(m, Mapping) else None for m in columns[METADATA]]
    return [None] * size


class Pipeline:
    """Filter + render for one query."""

    def __init__(self, model: ObjectModel, fields: Sequence[str], flt: Filter | None, *, typed: bool = True) -> None:
        """`typed`: values follow the row schema (generated rows); stored records may not."""
        self.fields = tuple(fields)
        self.filter = flt
        self.renderers = [csvout.renderer((model.attribute(name) if typed else None) or ANY) for name in self.fields]

    @property
    def header(self) -> str:
        return ",".join(csvout.quote(name) for name in self.fields)

    def select(self, columns: Columns, names: Sequence[str]) -> dict[str, list]:
        """The named columns, keeping only rows that pass the filter."""
        wanted = {name: column(columns, name) for name in dict.fromkeys((*names, INDEX))}
        if self.filter is None:
            return wanted
        mask = self.filter.mask(lambda name: column(columns, name))
        if all(mask):
            return wanted
        return {name: list(compress(values, mask)) for name, values in wanted.items()}

    def render(self, selected: dict[str, list]) -> list[str]:
        if not len(selected[INDEX]):
            return []
        lines = csvout.lines([render(selected[name]) for render, name in zip(self.renderers, self.fields)])
        if len(self.fields) == 1:  # an empty line would read as no row at all: write "" as the csv module does
            lines = [line or '""' for line in lines]
        return lines

    def batch(self, columns: Columns, extra: Sequence[str] = ()) -> tuple[dict[str, list], list[str]]:
        """(selected columns incl. `extra` and INDEX, rendered lines) of one block."""
        selected = self.select(columns, (*self.fields, *extra))
        return selected, self.render(selected)
