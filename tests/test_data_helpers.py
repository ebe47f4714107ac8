"""Shared helpers of the data engine tests (no tests here)."""

from __future__ import annotations

import csv
import io

from mockserver.data import ExportQuery, iter_csv, load_model
from mockserver.data.blocks import TIMELINE_END
from mockserver.spec import load_spec
from mockserver.vendors.voucherify import Voucherify

SPEC = load_spec("voucherify")
MODEL = load_model(SPEC, Voucherify.data_recipes)
OBJECTS = tuple(MODEL.objects)
NOW = TIMELINE_END / 1000 + 1800  # within the hour the data ends at: relative filters have rows to match


def export(
    obj: str,
    fields=(),
    *,
    rows: int = 100,
    seed: int = 1,
    app: str = "app",
    now: float = NOW,
    locale: str = "en_US",
    **query,
) -> bytes:
    chunks = iter_csv(
        MODEL, ExportQuery(obj, tuple(fields), rows=rows, **query), seed=seed, app_id=app, locale=locale, now=now
    )
    return b"".join(chunks)


def table(obj: str, fields=(), **kw) -> list[dict[str, str]]:
    """The export parsed back with the csv module, one dict per row."""
    fields = tuple(fields or MODEL.objects[obj].fields)
    header, *rows = csv.reader(io.StringIO(export(obj, fields, **kw).decode("utf-8"), newline=""))
    assert header == [MODEL.objects[obj].label(name) for name in fields]  # the vendor's labels, one per field
    return [dict(zip(fields, row)) for row in rows]


def header(obj: str, fields=(), **kw) -> list[str]:
    text = export(obj, fields, **kw).decode("utf-8")
    return next(csv.reader(io.StringIO(text, newline="")))
