"""Chargebee's exports, served by the generic engine (mockserver.vendors.openapi) from schemas/chargebee/:
the document and the `x-mock` annotations of its overlay.yaml say the credentials (the API key as HTTP
Basic's user name: each key is a site of its own), the error object, the export resource and its
statuses, the zip of CSV files, its download URL's validity, the in-process limit, the idempotency
keys, its form lists (a JSON array or the official SDK's Python repr in one field, or item by item) and
how it words a request's problems (`order[status][in] : …`, `cannot be blank`).

Python stays only for what Chargebee does beyond the generic export protocol: its filter grammar
(filters.py), bracketed operators (`order[status][in]`, `total[between]`, `is_present`, Unix times and
days, the revenue reports' months) read as the engine's filters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ... import argtypes
from ...options import Option
from ...spec import Operation, Spec, bundled_spec, schemas_dir
from ..base import Imported
from ..openapi import OpenApiVendor
from ..openapi.annotations import Role
from .filters import filter_params, report_period, translate

FORM = "application/x-www-form-urlencoded"


class Chargebee(OpenApiVendor):
    name = "chargebee"
    folder = schemas_dir() / "chargebee"
    contract = Imported(f"{__name__}.contract", "CONTRACT")  # the contract kit's dialect: data in contract.py
    options = (
        Option(
            "chargebee-key",
            "pin a Chargebee API key (repeatable); other keys then get 401 (default: any key works)",
            argtypes.text,
            repeatable=True,
            metavar="KEY",
            dest="keys",
        ),
    )

    def __init__(self, spec: Spec | None = None, keys: Iterable[str] = ()) -> None:
        super().__init__(keys=tuple(keys), spec=spec or bundled_spec("chargebee"))
        self.filter_params = {}
        for op in self.spec.operations:
            if "x-exported-object" not in op.raw:
                continue
            exported = self.exports.model.object(op.raw["x-exported-object"])
            params = filter_params(op.body_schemas.get(FORM, {}))
            stray = [p.attribute for p in params if p.attribute not in exported.attributes]
            if stray:
                raise ValueError(f"{op.operation_id} filters {stray}, which {exported.name} rows lack")
            self.filter_params[op.operation_id] = params

    def export_filters(self, op: Operation, role: Role, body: Mapping[str, Any]) -> dict | None:
        filters = translate(self.filter_params.get(op.operation_id, []), body)
        period = op.raw.get("x-report-period")  # the date attribute report_from/to_month/year bound
        if period:  # a period that ends before it starts matches nothing, as a reversed `between` does
            filters.update(report_period(period, body))
        return filters
