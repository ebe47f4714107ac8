"""`order` without holding the data set in memory.

Three strategies, picked per sort key (generate.Recipe says which keys
follow the time axis):

- walk: the key never increases with the row index (created_at, date,
  time-ordered ids, expires_at). Descending is a forward walk over the
  blocks, ascending a backward walk with each block reversed. No memory.
- window: the key is an anchor that follows the walk plus a bounded lag
  (updated_at ≤ created_at + 3 days). Walk along the anchor and keep a heap
  of the rows whose key could still be overtaken; a row leaves the heap once
  no later row can come before it. Memory: the rows of one lag window.
- passes: anything else (status, code, email …). Each pass regenerates the
  data set and keeps the next SORT_BUDGET rows in sort order (heapq.nsmallest
  over (key, index), so memory is bounded by the budget); a data set of n
  matching rows costs ceil(n / SORT_BUDGET) passes. One pass up to 50,000
  rows; a million rows sorted by e-mail take 20 passes (slow, but flat).

Ties are broken by row index (newest first), so every order is total and
every download byte-identical.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from .pipeline import INDEX, Pipeline
from .timefmt import parse_ms

SORT_BUDGET = 50_000


@dataclass(frozen=True)
class Order:
    key: str
    descending: bool

    @classmethod
    def parse(cls, text: str) -> Order:
        return cls(text.lstrip("-"), text.startswith("-"))


def ordered_batches(source, pipeline: Pipeline, order: Order | None) -> Iterator[list[str]]:
    """Batches of CSV lines in the requested order."""
    if order is None:
        return _walk(source, pipeline, forward=True)
    if order.key in source.monotone:
        return _walk(source, pipeline, forward=order.descending)
    if order.key in source.lagging:
        anchor, lag = source.lagging[order.key]
        return _window(source, pipeline, order, anchor, lag)
    return _passes(source, pipeline, order)


def _blocks(source, forward: bool) -> range:
    return range(source.blocks) if forward else range(source.blocks - 1, -1, -1)


def _walk(source, pipeline: Pipeline, forward: bool) -> Iterator[list[str]]:
    for number in _blocks(source, forward):
        _, lines = pipeline.batch(source.columns(number))
        if not forward:
            lines.reverse()
        yield lines


def _window(source, pipeline: Pipeline, order: Order, anchor: str, lag_ms: int) -> Iterator[list[str]]:
    """Descending: walk forward (anchors fall); a row is final once its key ≥ the frontier + lag.
    Ascending: walk backward (anchors rise); a row is final once its key < the frontier."""
    forward = order.descending
    sign = -1 if order.descending else 1
    heap: list[tuple[int, int, str]] = []
    for number in _blocks(source, forward):
        columns = source.columns(number)
        selected, lines = pipeline.batch(columns, (order.key,))
        for key, index, line in zip(selected[order.key], selected[INDEX], lines):
            heapq.heappush(heap, (sign * parse_ms(key), index, line))
        anchors = columns[anchor]
        frontier = parse_ms(anchors[-1] if forward else anchors[0])
        ready = []
        if forward:
            while heap and -heap[0][0] >= frontier + lag_ms:
                ready.append(heapq.heappop(heap)[2])
        else:
            while heap and heap[0][0] < frontier:
                ready.append(heapq.heappop(heap)[2])
        yield ready
    yield [entry[2] for entry in sorted(heap)]


class _Descending:
    """Reverses the comparison of a key (for nsmallest over a descending order)."""

    __slots__ = ("key",)

    def __init__(self, key) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.key == self.key


def _sort_key(value: object) -> tuple:
    """Empty values first, then by value; mixed types by type name so nothing raises."""
    if value is None or value == "":
        return (0, "", "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, "", value)
    if isinstance(value, str):
        return (2, "", value)
    return (3, type(value).__name__, str(value))


def _passes(source, pipeline: Pipeline, order: Order) -> Iterator[list[str]]:
    wrap = _Descending if order.descending else (lambda key: key)
    after = None
    while True:
        def candidates():
            for number in range(source.blocks):
                selected, lines = pipeline.batch(source.columns(number), (order.key,))
                for value, index, line in zip(selected[order.key], selected[INDEX], lines):
                    rank = (wrap(_sort_key(value)), index)
                    if after is None or after < rank:  # noqa: B023 (consumed within this pass)
                        yield rank, line
        best = heapq.nsmallest(SORT_BUDGET, candidates(), key=lambda entry: entry[0])
        yield [line for _, line in best]
        if len(best) < SORT_BUDGET:
            return
        after = best[-1][0]
