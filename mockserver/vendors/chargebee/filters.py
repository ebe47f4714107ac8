"""Chargebee filters → the data engine's filters (mockserver/data/filters.py).

The engine already honours every comparison Chargebee offers, so this module
only translates, per operator:

    is, is_not, starts_with, in, not_in   $is, $is_not, $starts_with, $in, $not_in
    lt, lte, gt, gte                      $less_than, $less_than_equal, $more_than, $more_than_equal
    between [a, b]                        $more_than_equal a and $less_than_equal b (inclusive)
    after, before                         $after, $before (strict), on a Unix time read as UTC
    on                                    $is on the UTC calendar day of the Unix time
    is_present true / false               $has_value / $is_unknown
    report_from_month/year … to_month/year  $after / $before around those months (the revenue
                                          reports: `x-report-period` names the date they bound)

Which request parameters are filters, on which row attribute and of which
kind, is read once from the export's request schema (`x-filter`, see
schemas/chargebee/filters.yaml). The schema has already checked every value's
form by the time `translate` runs, so nothing here refuses anything: a
`between` whose bounds are the wrong way round simply matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ...data.model import flatten

RENAMED = {
    "is": "$is",
    "is_not": "$is_not",
    "starts_with": "$starts_with",
    "in": "$in",
    "not_in": "$not_in",
    "lt": "$less_than",
    "lte": "$less_than_equal",
    "gt": "$more_than",
    "gte": "$more_than_equal",
    "after": "$after",
    "before": "$before",
}
LOWER_BOUNDS = ("$more_than", "$more_than_equal", "$after")  # the larger operand is the stricter
UPPER_BOUNDS = ("$less_than", "$less_than_equal", "$before")
NUMERIC = ("number", "timestamp")  # operand kinds compared as numbers


@dataclass(frozen=True)
class FilterParam:
    """One filter of a request: where it sits in the body, what it tests, how its operands read."""

    path: tuple[str, ...]  # ("order", "status")
    attribute: str  # the row attribute it tests
    kind: str  # text | enum | boolean | number | timestamp


def filter_params(body_schema: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[FilterParam]:
    """Every filter a request body schema declares, at any depth (`order[status]`, `total`)."""
    found = []
    for name, schema in (body_schema.get("properties") or {}).items():
        schema = flatten(schema)  # a filter with `x-mock-field` wraps its kind in allOf
        if "x-filter" in schema:
            found.append(FilterParam((*prefix, name), schema.get("x-mock-field", name), schema["x-filter"]))
        elif schema.get("type") == "object":
            found += filter_params(schema, (*prefix, name))
    return found


def translate(params: list[FilterParam], body: Mapping[str, Any] | None) -> dict[str, dict]:
    """The engine's `{attribute: {"conditions": {"$op": operand}}}` for a decoded, valid body."""
    filters: dict[str, dict] = {}
    for param in params:
        given = _dig(body or {}, param.path)
        if not given:
            continue
        conditions = filters.setdefault(param.attribute, {"conditions": {}})["conditions"]
        for operator, value in given.items():
            for engine_op, operand in _conditions(param, operator, value):
                _merge(conditions, engine_op, operand)
    for spec in filters.values():
        spec["conditions"] = {
            op: _engine_operand(op, operand, kind) for op, (operand, kind) in spec["conditions"].items()
        }
    return filters


def _conditions(param: FilterParam, operator: str, value: Any) -> list[tuple[str, tuple[Any, str]]]:
    kind = param.kind
    if operator == "is_present":
        return [("$has_value" if value == "true" else "$is_unknown", (True, "flag"))]
    if operator == "between":
        low, high = (int(v) for v in value)
        return [("$more_than_equal", (low, kind)), ("$less_than_equal", (high, kind))]
    if operator == "on":
        return [("$is", (int(value), "day"))]
    operand = (
        [int(v) for v in value]
        if kind in NUMERIC and isinstance(value, list)
        else int(value)
        if kind in NUMERIC
        else value
    )
    return [(RENAMED[operator], (operand, kind))]


def _merge(conditions: dict, engine_op: str, entry: tuple[Any, str]) -> None:
    """Two operators that both bound a value (`between` and `gte`) must both hold: keep the stricter."""
    if engine_op not in conditions:
        conditions[engine_op] = entry
        return
    (old, kind), (new, _) = conditions[engine_op], entry
    if engine_op in LOWER_BOUNDS:
        conditions[engine_op] = (max(old, new), kind)
    elif engine_op in UPPER_BOUNDS:
        conditions[engine_op] = (min(old, new), kind)


def _engine_operand(op: str, operand: Any, kind: str) -> Any:
    """Unix times become the ISO 8601 instants (or UTC days, for `on`) the engine compares dates by."""
    if kind == "timestamp":
        return datetime.fromtimestamp(operand, timezone.utc).isoformat()
    if kind == "day":
        return datetime.fromtimestamp(operand, timezone.utc).date().isoformat()
    return operand


def _dig(body: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    node: Any = body
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node if isinstance(node, Mapping) else None


def report_period(attribute: str, body: Mapping[str, Any]) -> dict[str, dict]:
    """The engine filter of a report's months: from the first second of report_from_month/year to
    the last of report_to_month/year, in UTC."""
    start = datetime(int(body["report_from_year"]), int(body["report_from_month"]), 1, tzinfo=timezone.utc)
    to_year, to_month = int(body["report_to_year"]), int(body["report_to_month"])
    end = datetime(to_year + to_month // 12, to_month % 12 + 1, 1, tzinfo=timezone.utc)
    return {attribute: {"conditions": {"$after": (start - _SECOND).isoformat(), "$before": end.isoformat()}}}


_SECOND = timedelta(seconds=1)
