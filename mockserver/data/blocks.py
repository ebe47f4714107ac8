"""Blocks of synthetic rows, vendor-neutral: draws, the time axis and the recipe registry.

A data set is cut into blocks of BLOCK rows. A block's random draws come
from a generator seeded by (world, object, block number) and are always
drawn for a whole block, so row i is the same whatever the data set's size:
data is a pure function of (seed, app id, exported object, scope, row index).
Recipes (how one object's rows are made) are declared by the vendor that
needs them (`Vendor.data_recipes`, a mockserver.data.model.Recipes, e.g. made in
mockserver/vendors/<name>/data/); schema-made ones (`x-recipe: schema`) come from
schema_rows.py.
Each draw is an array for the whole block (see columns.py for how columns
move into polars), with list views for recipes written per row.

Time axis. Every data set ends at `end`: the start of the hour the export is
made in, so dates look current and relative date filters ("today", "last 7
days") find rows, while a restarted server gives byte-identical files for the
rest of the hour (and always, with a fixed clock). It runs back from there: row i was created at

    end − 1 day·√i − 30 s·i − jitter(i)        (jitter < 15 s)

which is strictly decreasing in i, spreads the default 100 rows over ten days
and a million rows over ~3.7 years. Row 0 is the newest record; the natural
order of a data set is newest first, so `-created_at` is a forward walk and
`created_at` a backward one (see ordering.py). Relative date filters are
evaluated against the same clock (`now`), so `$today`, `$is_days_ago` … match
rows. TIMELINE_END is the default end for callers that name no day.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .columns import Column, Pooled
from .model import Attribute, ObjectModel
from .pools import AppWorld, app_world, mix, salt_of
from .timefmt import DAY_MS

BLOCK = 4096  # rows per block: the unit of random draws (changing it changes every data set)
SPAN = 4  # blocks made and rendered together: polars' per-call cost paid once per 16,384 rows (more costs RSS)
TIMELINE_END = 1_767_222_000_000  # 2025-12-31T23:00:00.000Z


STEP_MS = 30_000
JITTER_MS = STEP_MS // 2

Columns = dict[str, Column]


class Block:
    """Random draws for rows [start, stop) of one data set: `span` consecutive blocks from block `number`,
    each drawing from its own generator, so the rows are the same however many blocks are made at once."""

    def __init__(
        self,
        world: AppWorld,
        model: ObjectModel,
        number: int,
        rows: int,
        scope: Mapping[str, object] | None = None,
        end: int = TIMELINE_END,
        span: int = 1,
    ) -> None:
        self.world, self.model, self.rows, self.end = world, model, rows, end
        self.scope = dict(scope or {})
        self.start = number * BLOCK
        self.stop = max(self.start, min(rows, self.start + span * BLOCK))
        self.n = self.stop - self.start
        self.indices = range(self.start, self.stop)
        self.salt = salt_of(world.salt, model.name, tuple(sorted(self.scope.items())))
        blocks = max(1, -(-self.n // BLOCK))
        self.rngs = [_mersenne(salt_of(self.salt, number + k)) for k in range(blocks)]

    # ---------------------------------------------------------------- draws
    # Each draw exists once, as a numpy array (vectorised recipes use those);
    # the list forms are views of the same draws for recipes written per row.
    def draw(self) -> np.ndarray:
        """One uniform 32-bit number per row (each block draws for all its BLOCK rows), as int64."""
        if len(self.rngs) == 1:
            return self.rngs[0].random_raw(BLOCK)[: self.n].astype(np.int64)
        return np.concatenate([rng.random_raw(BLOCK) for rng in self.rngs])[: self.n].astype(np.int64)

    def u32(self) -> list[int]:
        return self.draw().tolist()

    def int_array(self, low: int, high: int) -> np.ndarray:
        return low + self.draw() % (high - low + 1)

    def ints(self, low: int, high: int) -> list[int]:
        return self.int_array(low, high).tolist()

    def pick_index(self, size: int) -> np.ndarray:
        return self.draw() % size

    def pick(self, values) -> list:
        return [values[i] for i in self.pick_index(len(values)).tolist()]

    def pick_array(self, values) -> np.ndarray:
        return np.asarray(values)[self.pick_index(len(values))]

    def pooled(self, values) -> Pooled:
        """pick() as indices into `values`: cheap to render and to filter."""
        return Pooled(values, self.pick_index(len(values)))

    def chance_array(self, p: float) -> np.ndarray:
        return self.draw() < int(p * 2**32)

    def chance(self, p: float) -> list[bool]:
        return self.chance_array(p).tolist()

    def maybe(self, p: float, values: list) -> list:
        """Each value kept with probability p, else None (an empty cell)."""
        return [v if keep else None for v, keep in zip(values, self.chance(p))]

    def enum(self, name: str, where: Callable[[str], bool] | None = None) -> list:
        """Values of an enum attribute, weighted by its `x-weights`."""
        return self.pick(weighted(self.model.attributes[name], where))

    def enum_pooled(self, name: str) -> Pooled:
        return self.pooled(weighted(self.model.attributes[name], None))

    def ref_array(self, p: float = 1.0) -> np.ndarray:
        """Per row an index into another object's data set, in [0, row index]; −1 (none) with probability 1 − p."""
        refs = self.draw() % (self.index_array() + 1)
        return refs if p >= 1 else np.where(self.chance_array(p), refs, -1)

    def refs(self, p: float = 1.0) -> list:
        return [None if r < 0 else r for r in self.ref_array(p).tolist()]

    def index_array(self) -> np.ndarray:
        return np.arange(self.start, self.stop, dtype=np.int64)

    def hashes(self, what: str) -> list[int]:
        """Per row a 64-bit hash of the row index: stable even when the block's draws change."""
        salt = salt_of(self.salt, "hash", what)
        return [mix(i ^ salt) for i in self.indices]

    # ----------------------------------------------------------------- time
    def timeline_array(self) -> np.ndarray:
        """Creation instants in epoch ms, strictly decreasing in the row index (see the module's docstring)."""
        index = self.index_array()
        return self.end - (DAY_MS * np.sqrt(index)).astype(np.int64) - STEP_MS * index - self.draw() % JITTER_MS

    def timeline(self) -> list[int]:
        return self.timeline_array().tolist()

    def later_array(self, times: np.ndarray, max_ms: int) -> np.ndarray:
        """A moment up to max_ms after each time, never past the end of the time axis."""
        span = np.maximum(np.minimum(max_ms, self.end - times) + 1, 1)
        return times + self.draw() % span

    def later(self, times: list[int], max_ms: int) -> list[int]:
        return self.later_array(np.asarray(times, dtype=np.int64), max_ms).tolist()

    def metadata(self) -> Pooled:
        return self.pooled(self.world.metadata_pool(self.model.name, self.model.attributes["metadata"]))


def _mersenne(seed: int) -> np.random.MT19937:
    """numpy's Mersenne Twister in the state `random.Random(seed)` starts in: its raw 32-bit outputs are the
    words `Random.randbytes` gives (little-endian), so data sets stay byte for byte what they were when
    draws were `randbytes`, at a third of the cost (no big int made and cut up per draw)."""
    state = random.Random(seed).getstate()[1]  # 624 words and the position
    generator = np.random.MT19937(0)  # any seed: the state is replaced
    key = np.fromiter(state, dtype=np.uint32, count=len(state))[:-1]
    generator.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": state[-1]}}
    return generator


_WEIGHTED: dict[tuple, tuple] = {}


def weighted(attribute: Attribute, where: Callable[[str], bool] | None) -> tuple:
    """The enum expanded so that a uniform pick follows the weights (`where`: a module-level
    predicate, since the cache is keyed by it)."""
    key = (attribute.enum, attribute.weights, where)
    if key not in _WEIGHTED:
        weights = attribute.weights or (1,) * len(attribute.enum)
        _WEIGHTED[key] = tuple(
            value
            for value, weight in zip(attribute.enum, weights)
            if where is None or where(value)
            for _ in range(weight)
        )
    return _WEIGHTED[key]


@dataclass(frozen=True)
class Recipe:
    """How to make one object's rows, which attributes follow the time axis, and whose world
    (the per-app entities its rows share with other objects' rows) it draws from."""

    make: Callable[[Block], Columns]
    monotone: tuple[str, ...] = ()  # non-increasing in the row index
    lagging: Mapping[str, tuple[str, int]] | None = None  # attribute → (anchor, max lag in ms)
    world: Callable[[int, str, str], AppWorld] = app_world  # (seed, app id, locale) → the app's world
