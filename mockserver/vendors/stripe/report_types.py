"""The report types, read once from the create request's branches
(schemas/stripe/report-types.yaml), and what a run of one may ask for.

Data availability follows the mock clock: data ends (`data_available_end`)
at the start of the current hour, where the data engine's time axis ends
(`available_after_hours` earlier for a type whose data comes later, as the
Fees reports' 96 hours), and starts `available_days` before. A run's interval
must lie within it and not be empty, as Stripe requires; anything else is a
400 naming the parameter. A `live_only` type exists for live-mode keys only,
as Stripe's Fees reports: a test-mode key is told so with a 404.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...data import timeline_end
from ...errors import ApiError
from ...spec import Spec

DAY = 86_400
REQUEST = "ReportRunCreateRequest"
GROUP_BY = {"reporting_category": "reporting_category", "currency": "currency"}  # a grouped summary's default
SUMS = {"gross": "gross", "fee": "fee", "net": "net"}


@dataclass(frozen=True)
class ReportType:
    id: str
    name: str
    columns: tuple[str, ...]  # every column it can output
    default_columns: tuple[str, ...] | None  # None: the type takes no `columns` and writes all of them
    parameters: frozenset[str]  # the run parameters it takes
    rows: str | None  # the exported object it lists, one line per row
    summary: str | None  # or the summary it computes
    sources: dict[str, dict[str, str]]  # a summary's parts → {rows, at}: the rows it sums, placed in time by `at`
    interval: str | None  # the row attribute the interval bounds (none: a type run by another parameter, `payout`)
    filters: dict[str, str]  # run parameter → row attribute it must equal
    available_days: int
    within: dict[str, str] = field(default_factory=dict)  # list parameter → row attribute that must be one of it
    requires: tuple[str, ...] = ()  # row attributes a row must have a value for
    local_times: bool = False  # whether `timezone` moves its x-timezone: requested columns (else all UTC)
    group_by: dict[str, str] = field(default_factory=dict)  # a grouped summary's columns → row attributes
    sums: dict[str, str] = field(default_factory=dict)  # a grouped summary's summed columns → row attributes
    order: str | None = None  # the row attribute itemized rows run by, oldest first (default: the interval's)
    pending_at: str | None = None  # a row attribute that must not be before interval_end (not yet paid out then)
    live_only: bool = False  # only live-mode keys see it (Stripe's Fees reports)
    available_after_hours: int = 0  # how long after it happened a row's data is available

    @property
    def version(self) -> int:
        return int(self.id.rsplit(".", 1)[1])

    def available(self, now: float) -> tuple[int, int]:
        """(data_available_start, data_available_end) at `now`."""
        end = timeline_end(now) // 1000 - self.available_after_hours * 3600
        return end - self.available_days * DAY, end

    def resource(self, now: float, livemode: bool) -> dict[str, Any]:
        start, end = self.available(now)
        return {
            "id": self.id,
            "object": "reporting.report_type",
            "data_available_end": end,
            "data_available_start": start,
            "default_columns": None if self.default_columns is None else list(self.default_columns),
            "livemode": livemode,
            "name": self.name,
            "updated": end,
            "version": self.version,
        }


# (id(spec), id(model)) → (the two, held weakly: the entry goes with either, the types read from them)
_TYPES: dict[tuple[int, int], tuple[weakref.ref[Any], weakref.ref[Any], Mapping[str, ReportType]]] = {}


def report_types(spec: Spec, model: Any) -> Mapping[str, ReportType]:
    """load_report_types of a spec and its data model (mockserver.data.load_model), read once and shared
    read-only by every app built on them: a test process builds hundreds of Stripe apps on one Spec."""
    key = (id(spec), id(model))  # a Spec compares by value, so it is no dict key: its id is, while it lives
    held = _TYPES.get(key)
    if held is None or held[0]() is not spec or held[1]() is not model:
        types = MappingProxyType(load_report_types(spec, dict(model.objects)))

        def gone(_: object) -> None:
            _TYPES.pop(key, None)

        held = _TYPES[key] = (weakref.ref(spec, gone), weakref.ref(model, gone), types)
    return held[2]


def load_report_types(spec: Spec, exported: dict[str, Any]) -> dict[str, ReportType]:
    """Every report type of the spec; raises when one names rows or columns the data model lacks."""
    mapping = spec.schema(REQUEST)["discriminator"]["mapping"]
    types = {}
    for type_id, branch in mapping.items():
        meta = branch["x-report-type"]
        params = branch["properties"]["parameters"]["properties"]
        columns_schema = params.get("columns")
        columns = tuple(columns_schema["items"]["enum"] if columns_schema else meta["columns"])
        report = ReportType(
            id=type_id,
            name=meta["name"],
            columns=columns,
            default_columns=tuple(columns_schema["default"]) if columns_schema else None,
            parameters=frozenset(params),
            rows=meta.get("rows"),
            summary=meta.get("summary"),
            sources=dict(meta.get("sources") or {}),
            interval=meta.get("interval"),
            filters=dict(meta.get("filters") or {}),
            available_days=int(meta["available_days"]),
            within=dict(meta.get("within") or {}),
            requires=tuple(meta.get("requires") or ()),
            local_times=bool(meta.get("local_times")),
            order=meta.get("order") or meta.get("interval"),
            pending_at=meta.get("pending_at"),
            live_only=bool(meta.get("live_only")),
            available_after_hours=int(meta.get("available_after_hours") or 0),
        )
        if report.summary == "grouped":
            report = replace(
                report, group_by=dict(meta.get("group_by") or GROUP_BY), sums=dict(meta.get("sums") or SUMS)
            )
            unknown = sorted(set(columns) - {*report.group_by, *report.sums, "count"})
            if unknown:
                raise ValueError(f"report type {type_id}: columns {unknown} are neither grouped, summed nor count")
        listed = report.rows and report.summary is None
        reads = (
            {
                report.rows: {
                    *(columns if listed else ()),
                    *(name for name in (report.interval, report.order, report.pending_at) if name),
                    *report.filters.values(),
                    *report.within.values(),
                    *report.requires,
                    *report.group_by.values(),
                    *report.sums.values(),
                }
            }
            if report.rows
            else {}
        )
        for source in report.sources.values():
            reads.setdefault(source["rows"], set()).update(
                {"currency", "net", source["at"], *report.filters.values(), *report.within.values(), *report.requires}
            )
        if not reads:
            raise ValueError(f"report type {type_id} names neither rows nor sources")
        for rows, wanted in reads.items():
            model = exported.get(rows)
            if model is None:
                raise ValueError(f"report type {type_id} reads {rows!r}, which export-rows.yaml lacks")
            missing = sorted(name for name in wanted if name not in model.attributes)
            if missing:
                raise ValueError(f"report type {type_id} names {missing}, which {rows} rows lack")
        types[type_id] = report
    return types


@dataclass(frozen=True)
class Run:
    """A run's parameters, read and checked: what the CSV is made from."""

    interval_start: int | None  # None: the type takes no interval (a single payout's reconciliation)
    interval_end: int | None
    columns: tuple[str, ...]
    timezone: str | None
    equals: dict[str, str]  # row attribute → the value it must have
    decimal_separator: str
    among: dict[str, tuple[str, ...]] = field(default_factory=dict)  # row attribute → the values it may have
    requires: tuple[str, ...] = ()  # row attributes that must have a value


def read_parameters(report: ReportType, given: dict[str, Any], now: float) -> dict[str, Any]:
    """The parameters of a body the contract has accepted, as the run keeps and echoes them
    (timestamps as integers); 400 for an interval outside the data or an unknown time zone."""
    echoed = {name: int(value) if name.startswith("interval_") else value for name, value in given.items()}
    if "currency" in echoed:
        echoed["currency"] = echoed["currency"].lower()
    available_start, available_end = report.available(now)
    for name in ("interval_start", "interval_end"):
        value = echoed.get(name)
        if value is not None and not available_start <= value <= available_end:
            raise _bad(
                name,
                f"must be between data_available_start ({available_start}) and data_available_end "
                f"({available_end}) of report type {report.id}; got {value}",
            )
    start, end = echoed.get("interval_start"), echoed.get("interval_end")
    if start is not None and end is not None and start >= end:
        raise _bad("interval_start", f"must be before parameters[interval_end] ({end}); got {start}")
    timezone = echoed.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as America
            raise _bad(
                "timezone", f"{timezone!r} is not a time zone of the IANA database, such as America/New_York"
            ) from None
    return echoed


def run_of(report: ReportType, parameters: dict[str, Any]) -> Run:
    """The Run of checked parameters (read_parameters' answer, as a record keeps it)."""
    return Run(
        interval_start=parameters.get("interval_start"),
        interval_end=parameters.get("interval_end"),
        columns=tuple(parameters.get("columns") or report.default_columns or report.columns),
        timezone=parameters.get("timezone") if report.local_times else None,
        equals={report.filters[name]: parameters[name] for name in report.filters if name in parameters},
        decimal_separator=parameters.get("decimal_separator", "."),
        among={report.within[name]: tuple(parameters[name]) for name in report.within if name in parameters},
        requires=report.requires,
    )


def live_only(param: str | None = None) -> ApiError:
    """Stripe's answer to a test-mode key naming a type that exists in live mode only."""
    message = "This report type is only available for live data and requires a live mode key."
    return ApiError(404, "resource_missing", message, param=param)


def _bad(name: str, message: str) -> ApiError:
    param = f"parameters[{name}]"
    return ApiError(400, "parameter_invalid", "Invalid parameter", f"Invalid {param}: {message}", param=param)
