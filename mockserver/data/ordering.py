"""`order` without holding the data set in memory.

Three strategies, picked per sort key (blocks.Recipe says which keys
follow the time axis):

- walk: the key never increases with the row index (created_at, date,
  time-ordered ids, expires_at). Descending is a forward walk over the
  blocks, ascending a backward walk with each block reversed. No memory.
- window: the key is an anchor that follows the walk plus a bounded lag
  (updated_at ≤ created_at + 3 days). Walk along the anchor and keep the
  rows whose key could still be overtaken; a row is written once no later
  row can come before it. Memory: the rows of one lag window.
- ranked: anything else (status, code, email …). A first pass keeps only
  (key, row index) of each matching row in Arrow memory (about 30 bytes a
  row: 30 MB for a million codes) and sorts them, which gives every row its
  rank. A second pass regenerates the data set (blocks are pure functions
  of their number) and appends each row, as CSV with its rank, to the
  temporary file of its window of ranks (SORT_BUDGET bytes of rows each);
  then each window is read back, sorted and written. Memory: the keys and
  one window; disk: about the size of the export, removed as it is read.
  When all matching rows fit SORT_BUDGET, the first pass keeps them and
  there is no second pass and no file.

Ties are broken by row index (newest first), so every order is total and
every download byte-identical. Empty values sort first (last when descending).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from . import csvout
from .batches import INDEX, RANK, Pipeline
from .columns import quoted, values
from .timefmt import iso_ms, parse_ms

SORT_BUDGET = 4 * 2**20  # bytes of rows (Arrow memory) held at once while sorting; a window costs a few times that
WINDOW = "#window"


@dataclass(frozen=True)
class Order:
    key: str
    descending: bool

    @classmethod
    def parse(cls, text: str) -> Order:
        return cls(text.lstrip("-"), text.startswith("-"))


def ordered_batches(source, pipeline: Pipeline, order: Order | None) -> Iterator:
    """Batches of CSV lines (bytes; a RowPipeline's: lists of rows) in the requested order."""
    if order is None:
        return _walk(source, pipeline, forward=True)
    if order.key in source.monotone:
        return _walk(source, pipeline, forward=order.descending)
    if order.key in source.lagging:
        anchor, lag = source.lagging[order.key]
        return _window(source, pipeline, order, anchor, lag)
    return _ranked(source, pipeline, order)


def _blocks(source, forward: bool) -> range:
    return range(source.blocks) if forward else range(source.blocks - 1, -1, -1)


def _walk(source, pipeline: Pipeline, forward: bool) -> Iterator[bytes | memoryview]:
    for number in _blocks(source, forward):
        frame = pipeline.select(source.columns(number))
        yield from pipeline.render(frame if forward else frame.reverse())
        del frame  # released before the next block is made, not after: one block's rows held at a time


def _sorted(frame: pl.DataFrame, order: Order, by: str = "key") -> pl.DataFrame:
    return frame.sort([by, INDEX], descending=[order.descending, False], nulls_last=order.descending)


def _instant_like(ms: int, sample: str) -> str:
    """An instant as text in the format of `sample` (ms or whole seconds), rounded up, so text order is time order."""
    if len(sample) == 20:  # YYYY-MM-DDTHH:MM:SSZ
        return iso_ms(-(-ms // 1000) * 1000)[:19] + "Z"
    return iso_ms(ms)


def _window(source, pipeline: Pipeline, order: Order, anchor: str, lag_ms: int) -> Iterator[bytes | memoryview]:
    """Descending: walk forward (anchors fall); a row is final once its key ≥ the frontier + lag.
    Ascending: walk backward (anchors rise); a row is final once its key < the frontier."""
    forward = order.descending
    pending: pl.DataFrame | None = None
    for number in _blocks(source, forward):
        columns = source.columns(number)
        frame = pipeline.select(columns, order.key)
        pending = frame if pending is None else pl.concat([pending, frame])
        anchors = values(columns[anchor])
        frontier = parse_ms(anchors[-1] if forward else anchors[0])
        if not pending.height or frontier is None:
            continue
        sample = pending.get_column("key")[0]
        key = pl.col("key")
        ready = key >= _instant_like(frontier + lag_ms, sample) if forward else key < _instant_like(frontier, sample)
        yield from pipeline.render(_sorted(pending.filter(ready), order))
        pending = pending.filter(~ready)
    if pending is not None:
        yield from pipeline.render(_sorted(pending, order))


def _ranked(source, pipeline: Pipeline, order: Order) -> Iterator[bytes | memoryview]:
    keys, kept, kept_bytes = [], [], 0
    for number in range(source.blocks):
        frame = pipeline.select(source.columns(number), order.key, fields=kept is not None)
        keys.append(frame.select("key", INDEX))
        if kept is not None:
            kept.append(frame)
            kept_bytes += frame.estimated_size()
            if kept_bytes > SORT_BUDGET:
                row_bytes = kept_bytes / max(1, sum(part.height for part in kept))
                kept = None
    if kept is not None:
        if kept:
            yield from pipeline.render(_sorted(pl.concat(kept), order))
        return
    ranked = _sorted(pl.concat(keys), order).get_column(INDEX).to_numpy()
    del keys
    rank_of = np.full(int(ranked.max()) + 1, -1, dtype=np.int64)
    rank_of[ranked] = np.arange(len(ranked))
    window = max(1, int(SORT_BUDGET / row_bytes))
    with tempfile.TemporaryDirectory(prefix="mockserver-sort-") as folder:
        spill = Path(folder)
        for number in range(source.blocks):  # the second and last pass: each row to its window's file
            frame = pipeline.select(source.columns(number))
            rank = rank_of[frame.get_column(INDEX).to_numpy()]
            frame = frame.select(pl.Series(RANK, rank), *pipeline.names).with_columns(pl.Series(WINDOW, rank // window))
            if not pipeline.quoted:  # the spill file is CSV: its cells quoted as the writer expects them
                frame = frame.with_columns(quoted(frame.get_column(name).cast(pl.String)) for name in pipeline.names)
            for (part,), rows in frame.partition_by(WINDOW, as_dict=True, include_key=False).items():
                with open(spill / f"{part}.csv", "ab") as file:
                    file.writelines(csvout.write(rows))
        for part in range(-(-len(ranked) // window)):
            path = spill / f"{part}.csv"
            if path.exists():
                rows = pl.read_csv(path, has_header=False, infer_schema=False, new_columns=[RANK, *pipeline.names])
                path.unlink()
                if pipeline.quoted:  # read back unquoted
                    rows = rows.with_columns(quoted(rows.get_column(name)) for name in pipeline.names)
                yield from pipeline.render(rows.sort(pl.col(RANK).cast(pl.Int64)))
