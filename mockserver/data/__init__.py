"""The CSV data engine: realistic, filtered, ordered, deterministic, streamed.

The server calls exactly this:

    model = load_model(spec)                      # once at start-up
    for chunk in iter_csv(model, ExportQuery(...), seed=..., app_id=..., now=...):
        ...                                       # ~64 KiB of UTF-8 CSV each

Modules: model (what the schema says), pools (value pools and id codecs
shared by every app), world (who customer c and voucher v are), blocks (draws, the time axis, the recipe
registry), generate (Voucherify's recipes),
filters, ordering, columns (a block's columns into polars), pipeline
(sources, filter, render), csvout (RFC 4180 via polars' writer),
cli (`mockserver generate`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from . import (
    csvout,
    generate,  # noqa: F401 (registers Voucherify's recipes; moves to its vendor package)
)
from .blocks import timeline_end
from .filters import compile_filters
from .model import DataModel, build_model
from .ordering import Order, ordered_batches
from .pipeline import Pipeline, RecordSource, SyntheticSource
from .world import world

__all__ = ["DataModel", "ExportQuery", "iter_csv", "load_model"]


def load_model(spec) -> DataModel:
    """The data model of a vendor's spec (empty when the spec has no `x-export-rows`)."""
    return build_model(spec)


@dataclass(frozen=True)
class ExportQuery:
    exported_object: str
    fields: tuple[str, ...]  # already defaulted by the server
    order: str | None = None  # e.g. "-created_at"
    filters: Mapping | None = None  # as sent, e.g. {"status": {"conditions": {"$in": ["PAID"]}}}
    rows: int = 100  # size of the synthetic data set before filtering
    scope: Mapping[str, object] | None = None  # attributes every row must carry
    records: Sequence[Mapping] | None = None  # stored records used instead of synthetic rows


def iter_csv(model: DataModel, query: ExportQuery, *, seed: int, app_id: str, locale: str = "en_US",
             now: float) -> Iterator[bytes]:
    """The export's CSV file as UTF-8 chunks of about 64 KiB.

    Raises ValueError at once (before any chunk) for an unknown object, field
    or order value; filters never raise (see filters.py).
    """
    obj = model.object(query.exported_object)
    fields = tuple(query.fields) or obj.default_fields
    unknown = [name for name in fields if not obj.is_field(name)]
    if unknown:
        raise ValueError(f"{obj.name} has no field {unknown[0]!r}")
    if query.order and query.order not in obj.orders:
        raise ValueError(f"{obj.name} cannot be ordered by {query.order!r}")
    order = Order.parse(query.order) if query.order else None
    flt = compile_filters(obj, query.filters, now)
    if query.records is not None:
        source = RecordSource(query.records, query.scope)
        pipeline = Pipeline(obj, fields, flt, typed=False)
    else:
        source = SyntheticSource(world(seed, app_id, locale), obj, query.rows, query.scope, timeline_end(now))
        pipeline = Pipeline(obj, fields, flt)
    return csvout.chunked(pipeline.header, ordered_batches(source, pipeline, order))
