"""Stripe's report CSVs, made from the data engine's rows.

The engine (mockserver.data) generates, filters and writes the rows; this
module asks it for the run's rows in Stripe's cell formats (data.formats):
amounts in major units with two decimals (`x-minor-units` attributes: 1234
cents → 12.34, with the run's decimal separator), timestamps as
`YYYY-MM-DD HH:MM:SS` in UTC, or in the run's time zone for
`x-timezone: requested` attributes. The header is the run's columns in the
order asked for. The summaries add up the engine's rows (data.iter_rows).

balance.summary.1 is no list of rows but four lines per currency, summed
from the rows its `sources` name: the balance before the interval, the
activity and the payouts within it, and the balance after (zeros in the
default currency for an interval before any activity). Itemized rows are
written oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from itertools import chain
from zoneinfo import ZoneInfo

from ... import data
from ...data.csvout import written
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
    attributes = model.object(report.rows).attribute
    formats = {name: form for name in run.columns if (form := _format(attributes(name), run)) is not None}
    query = engine.query(report.rows, run.columns, filters, order=report.order, formats=formats)  # oldest first
    return data.iter_csv(model, query, **engine.made)


class _Engine:
    """The data engine's rows of one tenant's data set."""

    def __init__(self, model: data.DataModel, *, rows: int, **made) -> None:
        self.model, self.size, self.made = model, rows, made

    def query(self, exported: str, fields: Iterable[str], filters: dict, **options) -> data.ExportQuery:
        return data.ExportQuery(
            exported_object=exported, fields=tuple(fields), filters=filters, rows=self.size, **options
        )

    def rows(self, exported: str, fields: Iterable[str], filters: dict) -> Iterator[tuple[str, ...]]:
        """The rows' cells as text, for the lines a summary adds up."""
        return data.iter_rows(self.model, self.query(exported, fields, filters), **self.made)


def _written(header: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    return written(chain([header], rows))


def _format(attribute, run: Run) -> data.CellFormat | None:
    """How one column's cells are written in Stripe's report: amounts (`x-minor-units`) in major units with
    the run's separator, date-times as `YYYY-MM-DD HH:MM:SS` (in the run's zone for `x-timezone: requested`)."""
    if attribute is None:
        return None
    if attribute.hints.get("x-minor-units"):
        return data.MajorUnits(run.decimal_separator)
    if attribute.format == "date-time":
        local = run.timezone and attribute.hints.get("x-timezone") == "requested"
        return data.DateTime(zone=run.timezone if local else None)
    return None


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
    groups: dict[tuple[str, ...], list[int]] = {}
    for line in lines:
        totals = groups.setdefault(tuple(line[: len(keys)]), [0] * (len(summed) + 1))
        totals[0] += 1
        for index, cell in enumerate(line[len(keys) :], 1):
            totals[index] += int(cell or 0)
    written, amount = [], data.MajorUnits(run.decimal_separator)
    for group in sorted(groups):
        totals = groups[group]
        cells = {column: value for (column, _), value in zip(keys, group)}
        cells["count"] = str(totals[0])
        cells.update({column: amount.text(total) for (column, _), total in zip(summed, totals[1:])})
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
                "net_amount": data.MajorUnits().text(cents),
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
