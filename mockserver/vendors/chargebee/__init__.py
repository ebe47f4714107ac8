"""Chargebee's exports, served by the generic engine (mockserver.vendors.openapi) from schemas/chargebee/:
the document and the `x-mock` annotations of its overlay.yaml say the credentials (the API key as HTTP
Basic's user name: each key is a site of its own), the error object, the export resource and its
statuses, the zip of CSV files, its download URL's validity, the in-process limit and the idempotency
keys.

Python stays only for what Chargebee does beyond the generic export protocol:

- its filter grammar (filters.py): bracketed operators (`order[status][in]`, `total[between]`,
  `is_present`, Unix times and days, the revenue reports' months) read as the engine's filters;
- its form lists (form.py): a list written as JSON, as the official SDK's Python repr, or item by item;
- its wording of a request's problems in form parameter names (`order[status][in] : …`, `cannot be
  blank`), with the API's codes `param_wrong_value` and `invalid_request`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ... import argtypes
from ...errors import ApiError
from ...options import Option
from ...spec import Operation, Spec, bundled_spec, schemas_dir
from ...validation import Invalid
from ..common import PatternWords, form_problem
from ..openapi import OpenApiVendor
from ..openapi.annotations import Role
from .contract import CONTRACT
from .filters import filter_params, report_period, translate
from .form import decode_form

FORM = "application/x-www-form-urlencoded"


class Chargebee(OpenApiVendor):
    name = "chargebee"
    folder = schemas_dir() / "chargebee"
    contract = CONTRACT  # the contract kit's dialect: data in contract.py
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
        self.worded = PatternWords(self.spec)  # a pattern mismatch, worded by the schema's x-reads-as
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

    def decode_form(self, raw: bytes) -> Any:
        return decode_form(raw)

    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        if problem.kind == "media_type":
            return ApiError(
                problem.status,
                "invalid_request",
                "Unsupported Media Type",
                f"{problem.message}; send the parameters form-encoded",
            )
        if problem.location in ("query", "path"):
            return ApiError(400, "param_wrong_value", "Invalid parameter", problem.message, param=problem.path)
        about = form_problem(problem)
        if about.unknown:  # an unknown filter or operator: name it, not the group it was sent in
            param = about.unknown
            return ApiError(
                400,
                "invalid_request",
                "Unknown parameter",
                f"{param} : is not a parameter of this operation",
                param=param,
            )
        if about.missing:  # Chargebee's word for a missing parameter
            param = about.missing
            return ApiError(400, "param_wrong_value", "Missing parameter", f"{param} : cannot be blank", param=param)
        param = about.param
        if not param:
            return ApiError(400, "invalid_request", "Invalid request", problem.message)
        # a body that is malformed around this parameter, or a value of the wrong form
        code = "invalid_request" if problem.kind == "malformed" else "param_wrong_value"
        return ApiError(400, code, "Invalid parameter", f"{param} : {self.worded(problem.message)}", param=param)
