"""The CSV data engine: realistic, filtered, ordered, deterministic, streamed.

The server calls exactly this:

    model = load_model(spec, vendor.data_recipes)  # once at start-up; model.check_recipes(name) too
    for chunk in iter_csv(model, ExportQuery(...), seed=..., app_id=..., now=...):
        ...                                       # ~64 KiB of UTF-8 CSV each

A vendor whose files write some values unlike the engine (amounts in major units, times in a run's
zone) names a format per field (`ExportQuery(formats={"net": MajorUnits(","), ...})`, formats.py): the
engine writes those cells so, and quotes them with the rest. One whose file is lines it composes itself
(totals, groups) reads the same rows as tuples of cell text with `iter_rows`. Neither reads CSV back.

Modules: model (what the schema says), pools (value pools, id codecs and the
neutral per-app AppWorld), blocks (draws, the time axis), schema_rows (rows
from the row schema alone), filters, ordering, columns (a block's columns
into polars, formats applied), formats (the cell formats a vendor may ask
for), batches (finding a recipe, sources, filter, render), csvout
(RFC 4180 via polars' writer); `mockserver generate` is mockserver/commands/generate.py.

A new exported object: its row schema goes in schemas/<vendor>/export-rows.yaml (`x-recipe: schema`
if schema_rows.py's rules suffice), else also a recipe in mockserver/vendors/<vendor>/data/, declared
by the vendor's data_recipes.
This package knows no vendor: a vendor's recipes and world (its entities) live in its own package.

Importing this package is cheap: the engine's libraries (numpy, polars, faker) are imported with the
first rows made (iter_csv), so a server or a command's --help starts without them.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from itertools import chain
from typing import Any

from .formats import CellFormat, DateTime, MajorUnits
from .model import DataModel, Recipes, build_model

__all__ = [
    "CellFormat",
    "DataModel",
    "DateTime",
    "ExportQuery",
    "MajorUnits",
    "Recipes",
    "iter_csv",
    "iter_rows",
    "load_engine",
    "load_model",
    "timeline_end",
    "warm",
]
HOUR_MS = 3_600_000
ENGINE = tuple(f"{__name__}.{name}" for name in ("batches", "ordering", "filters", "csvout", "schema_rows"))
_warming: set[str] = set()  # modules a warm-up thread was started for
# id(model) → the model, once every module it needs is imported: a create's warm-up is then one dict read (8 µs less)
_WARM: dict[int, DataModel] = {}
# the engine is imported by one thread at a time (the warm-up, a first download): two importing it at
# once could meet a module the other had only half initialised (ImportError, a 500 to the client)
_FIRST_IMPORT = threading.Lock()
# id(spec) → (the spec, held weakly: its entry goes with it; its models by recipes)
_MODELS: dict[int, tuple[weakref.ref[Any], dict[Recipes | None, DataModel]]] = {}


def load_model(spec, recipes: Recipes | None = None) -> DataModel:
    """The data model of a vendor's spec (empty when the spec has no `x-export-rows`), its objects made
    by the vendor's declared `recipes` where their row schemas do not make them. Built once per spec and
    recipes and shared (a DataModel is frozen): every app built on a Spec needs it, and a test process
    builds hundreds of apps on one (about 3 ms each for Voucherify's)."""
    key = id(spec)  # a Spec compares by value, so it is no dict key: its id is, while it lives
    held = _MODELS.get(key)
    if held is None or held[0]() is not spec:
        held = _MODELS[key] = (weakref.ref(spec, lambda _: _MODELS.pop(key, None)), {})
    models = held[1]
    if recipes not in models:
        models[recipes] = build_model(spec, recipes)
    return models[recipes]


def timeline_end(epoch_seconds: float) -> int:
    """The time axis' end for a clock reading (mockserver.data.blocks): the start of its hour, in epoch ms."""
    return int(epoch_seconds * 1000) // HOUR_MS * HOUR_MS


def warm(model: DataModel) -> None:
    """Import the engine (numpy, polars, faker with it) and the model's declared recipes in a background
    thread, once: called when an export is created, so the file asked for moments later does not wait for
    them. An import in a thread holds the GIL only in short turns: the event loop keeps answering."""
    kept = _WARM.get(id(model))
    if kept is not None and kept is model:  # every module it needs is imported: nothing to look for again
        return
    needed = _modules(model)
    if not needed:
        if len(_WARM) >= 64:  # a model per vendor spec; a bound all the same (tests load many)
            _WARM.clear()
        _WARM[id(model)] = model
        return
    missing = [name for name in needed if name not in _warming]
    if missing:
        _warming.update(missing)
        threading.Thread(target=_import, args=(missing,), name="mockserver-data-warm", daemon=True).start()


def load_engine(model: DataModel | None = None) -> None:
    """Import the engine (numpy, polars, faker with it), and `model`'s declared recipes, now, in this thread.
    A mock running inside another program's process (tests, the pytest plugin) does this at start: a
    background import there would let that program's threads meet numpy half initialised (hypothesis checks
    `sys.modules["numpy"]` while drawing, and failed its stateful runs so)."""
    _import(_modules(model))


def _modules(model: DataModel | None) -> list[str]:
    """The engine's modules and `model`'s declared recipes' modules not imported yet."""
    declared = {obj.recipes.module for obj in model.objects.values() if obj.recipes is not None} if model else ()
    return [name for name in (*ENGINE, *sorted(declared)) if name not in sys.modules]


def _import(modules: list[str]) -> None:
    with _FIRST_IMPORT:
        for name in modules:
            import_module(name)


@dataclass(frozen=True)
class ExportQuery:
    exported_object: str
    fields: tuple[str, ...]  # already defaulted by the server
    order: str | None = None  # e.g. "-created_at"
    filters: Mapping | None = None  # as sent, e.g. {"status": {"conditions": {"$in": ["PAID"]}}}
    rows: int = 100  # size of the synthetic data set before filtering
    scope: Mapping[str, object] | None = None  # attributes every row must carry
    records: Sequence[Mapping] | None = None  # stored records used instead of synthetic rows
    formats: Mapping[str, CellFormat] | None = None  # field → how its cells are written (formats.py)


def iter_csv(
    model: DataModel, query: ExportQuery, *, seed: int, app_id: str, locale: str = "en_US", now: float
) -> Iterator[bytes]:
    """The export's CSV file as UTF-8 chunks of about 64 KiB.

    Raises ValueError at once (before any chunk) for an unknown object, field
    or order value; filters never raise (see filters.py).
    """
    from . import csvout  # loaded with the engine (_batches)

    pipeline, batches = _batches(model, query, seed=seed, app_id=app_id, locale=locale, now=now, rows=False)
    return csvout.chunked(pipeline.header, batches)


def iter_rows(
    model: DataModel,
    query: ExportQuery,
    *,
    seed: int,
    app_id: str,
    locale: str = "en_US",
    now: float,
    header: bool = False,
) -> Iterator[tuple[str, ...]]:
    """The rows iter_csv writes, each a tuple of its cells' text, unquoted ("" for an empty cell), formats
    applied, the header's labels first when `header`: for a vendor whose file is made of lines it composes
    from them (totals, groups), or written in another format than CSV (TSV, XLSX). A CSV file of the rows
    themselves is iter_csv's, with `formats`: one writer for every CSV file.

    Raises as iter_csv does, at once.
    """
    pipeline, batches = _batches(model, query, seed=seed, app_id=app_id, locale=locale, now=now, rows=True)
    rows = chain.from_iterable(batches)
    return chain([pipeline.labels], rows) if header else rows


def _batches(
    model: DataModel, query: ExportQuery, *, seed: int, app_id: str, locale: str, now: float, rows: bool
) -> tuple[Any, Iterator]:
    """The query's pipeline (a RowPipeline when `rows`) and its batches in order; raises ValueError at once
    for an unknown object, field, format's field or order value."""
    # the engine proper, and numpy, polars and faker with it, load with the first data set made; by one
    # thread: concurrent first downloads each importing it could meet a module another thread had only
    # half initialised (an ImportError, a 500 to the client)
    with _FIRST_IMPORT:
        from .batches import Pipeline, RecordSource, RowPipeline, SyntheticSource, recipe_of
        from .filters import compile_filters
        from .ordering import Order, ordered_batches

    obj = model.object(query.exported_object)
    fields = tuple(query.fields) or obj.default_fields
    unknown = [name for name in fields if not obj.is_field(name)]
    unknown += [name for name in query.formats or () if name not in fields]
    if unknown:
        raise ValueError(f"{obj.name} has no field {unknown[0]!r}")
    if query.order and query.order not in obj.orders:
        raise ValueError(f"{obj.name} cannot be ordered by {query.order!r}")
    order = Order.parse(query.order) if query.order else None
    flt = compile_filters(obj, query.filters, now)
    kind = RowPipeline if rows else Pipeline
    if query.records is not None:
        source = RecordSource(query.records, query.scope)
        pipeline = kind(obj, fields, flt, typed=False, formats=query.formats)
    else:
        with _FIRST_IMPORT:  # a declared recipe's module loads at its first use, as the engine does
            recipe = recipe_of(obj)
        world = recipe.world(seed, app_id, locale)
        source = SyntheticSource(world, obj, query.rows, query.scope, timeline_end(now))
        pipeline = kind(obj, fields, flt, formats=query.formats)
    return pipeline, ordered_batches(source, pipeline, order)
