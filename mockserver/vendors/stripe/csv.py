"""Stripe's report CSVs, made from the data engine's rows.

The engine (mockserver.data) generates, filters and writes the rows; this
module writes them as Stripe's reports do: amounts in major units with two
decimals (`x-minor-units` attributes: 1234 cents → 12.34, with the run's
decimal separator), timestamps as `YYYY-MM-DD HH:MM:SS` in UTC, or in the
run's time zone for `x-timezone: requested` attributes. The header is the
run's columns in the order asked for.

balance.summary.1 is no list of rows but four lines per currency, summed
from the rows its `sources` name: the balance before the interval, the
activity and the payouts within it, and the balance after (zeros in the
default currency for an interval before any activity). Itemized rows are
written oldest first.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from itertools import chain
from zoneinfo import ZoneInfo

from ... import data
from ...data.csvout import lines, written
from .report_types import ReportType, Run


def report_csv(
    report: ReportType, run: Run, model: data.DataModel, *, seed: int, app_id: str, locale: str, now: float, rows: int
) -> Iterator[bytes]:
    """The run's CSV in chunks of about 64 KiB."""
    engine = _Engine(model, seed=seed, app_id=app_id, locale=locale, now=now, rows=rows)
    if report.summary == "balance":
        return _balance_summary(report, run, engine)
    filters = _kept(run)
    bounds = {}
    if run.interval_start is not None:
        bounds["$more_than_equal"] = _iso(run.interval_start)
    if run.interval_end is not None:
        bounds["$less_than"] = _iso(run.interval_end)
        if report.pending_at:  # ending balance reconciliation: made before the end, not yet paid out at it
            filters[report.pending_at] = {"conditions": {"$more_than_equal": _iso(run.interval_end)}}
    if report.interval and bounds:
        filters[report.interval] = {"conditions": bounds}
    if report.summary == "grouped":
        return _grouped_summary(report, run, engine, filters)
    rows_model = model.object(report.rows)
    writers = [_writer(rows_model.attribute(name), run) for name in run.columns]
    lines = engine.rows(report.rows, run.columns, filters, order=report.order)  # oldest first, as Stripe's
    header = next(lines)
    return _written(header, ([write(value) for write, value in zip(writers, line)] for line in lines))


class _Engine:
    """The data engine's rows of one tenant's data set, read back as lists of cells."""

    def __init__(self, model: data.DataModel, **options) -> None:
        self.model, self.options = model, options

    def rows(
        self, exported: str, fields: Iterable[str], filters: dict, order: str | None = None
    ) -> Iterator[list[str]]:
        o = self.options
        query = data.ExportQuery(
            exported_object=exported, fields=tuple(fields), filters=filters, rows=o["rows"], order=order
        )
        chunks = data.iter_csv(self.model, query, seed=o["seed"], app_id=o["app_id"], locale=o["locale"], now=o["now"])
        return csv.reader(lines(chunks))


def _written(header: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    return written(chain([header], rows))


def _writer(attribute, run: Run) -> Callable[[str], str]:
    """How one column's engine cells are written in Stripe's report."""
    if attribute is None:
        return str
    if attribute.hints.get("x-minor-units"):
        return lambda cell: major_units(int(cell) if cell else 0, run.decimal_separator)
    if attribute.format == "date-time":
        zone = ZoneInfo(run.timezone) if run.timezone and attribute.hints.get("x-timezone") == "requested" else None
        return lambda cell: _timestamp(cell, zone)
    return str


def major_units(cents: int, separator: str = ".") -> str:
    """1234 → 12.34 and -5 → -0.05 (every currency the mock serves has two decimals)."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}{separator}{fraction:02d}"


def _timestamp(cell: str, zone: ZoneInfo | None) -> str:
    """The engine's `2025-01-31T23:05:09Z` as `2025-01-31 23:05:09`, moved into `zone` when given."""
    if not cell:
        return ""
    if zone is None:
        return f"{cell[:10]} {cell[11:19]}"
    moment = datetime.fromisoformat(cell.replace("Z", "+00:00")).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def _kept(run: Run) -> dict:
    """The engine filters of the rows a run keeps: equal to its filters, among its lists, with the values
    its report type requires."""
    conditions: dict[str, dict] = {}
    for attribute, value in run.equals.items():
        conditions.setdefault(attribute, {})["$is"] = value
    for attribute, values in run.among.items():
        conditions.setdefault(attribute, {})["$in"] = list(values)
    for attribute in run.requires:
        conditions.setdefault(attribute, {})["$has_value"] = True
    return {attribute: {"conditions": tests} for attribute, tests in conditions.items()}


# -- grouped summaries (…summary.1 but balance.summary.1) ---------------------------------------------
def _grouped_summary(report: ReportType, run: Run, engine: _Engine, filters: dict) -> Iterator[bytes]:
    """One line per group (reporting category, currency) of the interval's rows: how many, and their sums."""
    keys, summed = list(report.group_by.items()), list(report.sums.items())
    lines = engine.rows(report.rows, [a for _, a in keys] + [a for _, a in summed], filters)
    next(lines)  # the header
    groups: dict[tuple[str, ...], list[int]] = {}
    for line in lines:
        totals = groups.setdefault(tuple(line[: len(keys)]), [0] * (len(summed) + 1))
        totals[0] += 1
        for index, cell in enumerate(line[len(keys) :], 1):
            totals[index] += int(cell or 0)
    written = []
    for group in sorted(groups):
        totals = groups[group]
        cells = {column: value for (column, _), value in zip(keys, group)}
        cells["count"] = str(totals[0])
        cells.update(
            {column: major_units(total, run.decimal_separator) for (column, _), total in zip(summed, totals[1:])}
        )
        written.append([cells[name] for name in run.columns])
    return _written(list(run.columns), written)


# -- balance.summary.1 ----------------------------------------------------------
def _balance_summary(report: ReportType, run: Run, engine: _Engine) -> Iterator[bytes]:
    start = _engine_time(run.interval_start)
    sums: dict[str, dict[str, int]] = {}  # currency → before / activity / payouts, in cents
    for part, source in report.sources.items():
        at = source["at"]
        filters = {**_kept(run), at: {"conditions": {"$less_than": _iso(run.interval_end)}}}
        lines = engine.rows(source["rows"], ("currency", "net", at), filters)
        next(lines)  # the header
        for currency, net, moment in lines:
            totals = sums.setdefault(currency, {"before": 0, "activity": 0, "payouts": 0})
            totals["before" if moment < start else part] += int(net or 0)
    zone = ZoneInfo(run.timezone) if run.timezone else timezone.utc
    first = datetime.fromtimestamp(run.interval_start, zone).date().isoformat()
    last = datetime.fromtimestamp(run.interval_end - 1, zone).date().isoformat()
    order = _currency_order(engine.model, report)
    # an account has a balance in its default currency (the schema's first) before it has any activity
    asked = {run.equals["currency"]} if "currency" in run.equals else set()
    held = set(sums) | asked or set(list(order)[:1])
    currencies = sorted(held, key=lambda c: (order.get(c, len(order)), c))
    lines = []
    for currency in currencies:
        totals = sums.get(currency, {"before": 0, "activity": 0, "payouts": 0})
        ending = totals["before"] + totals["activity"] + totals["payouts"]
        for category, description, cents in (
            ("starting_balance", f"Starting balance ({first})", totals["before"]),
            ("activity", "Activity", totals["activity"]),
            ("payouts", "Total payouts", totals["payouts"]),
            ("ending_balance", f"Ending balance ({last})", ending),
        ):
            cells = {
                "category": category,
                "description": description,
                "net_amount": major_units(cents),
                "currency": currency,
            }
            lines.append([cells[name] for name in run.columns])
    return _written(list(run.columns), lines)


def _engine_time(epoch: int) -> str:
    """An instant as the engine writes date-times (`2025-01-31T23:05:09Z`), so the two compare as text."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _currency_order(model: data.DataModel, report: ReportType) -> dict[str, int]:
    """Currencies in the order the rows' schema lists them."""
    first = next(iter(report.sources.values()))["rows"]
    enum = model.object(first).attribute("currency").enum or ()
    return {currency: index for index, currency in enumerate(enum)}
