"""Our named checks in Chargebee's dialect: the promises of checks.py, kept
in Chargebee's wire format (form bodies, the `{"export": …}` envelope,
`in_process → completed | failed`, a zip behind `download.download_url`).

- export_lifecycle: every export operation (a POST answering ExportResult),
  sent only the parameters it requires (their examples in the contract),
  yields an `in_process` export without `download` that moves to `completed`
  or `failed` within the poll timeout and never back; a completed one has
  `download.download_url` and a `valid_till` after `created_at`. Chargebee's
  API has no list or delete of exports, so neither is checked.
- csv_download: a completed export's `download_url` works without the API key
  and serves `application/zip` holding a CSV whose header is the contract's
  columns (export-rows.yaml), whose rows parse as RFC 4180 with plausible ids,
  timestamps and amounts, and which honours the filters sent (orders: status
  in a set, `total[gte]`); a wrong token is refused with 403.
- error_shape: an unknown export (404), no API key (401) and a bad filter
  value or an unknown filter (400) answer Chargebee's error object, whose
  `http_status_code` is the HTTP status; every 4xx any check sees is judged too.
- tenant_isolation: an export triggered with one API key cannot be retrieved
  with another. (Its download URL is public by design, as Chargebee's is.)
- auth_required is the vendor-neutral one of checks.py.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

from .. import data
from ..spec import Operation, Spec
from . import checks
from .checks import ERROR_SHAPE, CheckRun, Context, Skip, Violation, check_csv, fetch_download, refuse_wrong_token
from .http import Client, Exchange, label

DIALECT = "chargebee"
RETRIEVE, DOWNLOAD, ORDERS = "retrieve-export", "download-export", "export-orders"
STATUS_RANK = {"in_process": 0, "completed": 1, "failed": 1}
FINAL = ("completed", "failed")
UNKNOWN_ID = "__test__" + "0" * 24
ORDER_FILTERS = {"order": {"status": {"in": ["queued", "shipped", "delivered"]}}, "total": {"gte": "1000"}}


def trigger_operations(spec: Spec) -> list[Operation]:
    """The operations that start an export: POSTs answering with ExportResult."""
    result = spec.resolved["components"]["schemas"].get("ExportResult")
    return [op for op in spec.operations
            if op.method == "POST" and op.responses.get("200", {}).get("application/json") == result]


def _id_param(ctx: Context) -> str:
    return next(p.name for p in ctx.op(RETRIEVE).parameters if p.location == "path")


def least_body(operation: Operation) -> dict | None:
    """The body with only what the operation requires (the revenue reports' period), from each
    required parameter's `example` or first enum value; None when nothing is required."""
    schema = next(iter(operation.body_schemas.values()), {})
    required = schema.get("required") or []
    if not required:
        return None
    properties = schema.get("properties") or {}
    return {name: properties[name].get("example", (properties[name].get("enum") or [""])[0]) for name in required}


def _trigger(run: CheckRun, client: Client, operation: Operation, body: Any) -> dict:
    exchange = client.call(operation, body=body if body is not None else least_body(operation))
    reply = run.status(exchange, 200, f"trigger {operation.operation_id}") or {}
    export = reply.get("export") if isinstance(reply, dict) else None
    run.expect(isinstance(export, dict) and isinstance(export.get("id"), str), exchange,
               "The answer has no export.id")
    run.expect(export.get("status") == "in_process", exchange, f"A new export is {export.get('status')!r}, "
               "not in_process")
    run.expect("download" not in export, exchange, "A new export already has a download")
    run.ok(exchange)
    return export


def _poll(run: CheckRun, client: Client, export_id: str) -> tuple[dict, Exchange]:
    """Retrieve the export until it is final; every answer must be a step forward."""
    ctx = run.ctx
    retrieve, path = ctx.op(RETRIEVE), {_id_param(ctx): export_id}
    deadline = time.monotonic() + ctx.poll_timeout
    previous = "in_process"
    while True:
        exchange = client.call(retrieve, path=path)
        export = (run.status(exchange, 200, "retrieve export") or {}).get("export") or {}
        status = export.get("status")
        run.expect(status in STATUS_RANK, exchange, f"Unknown export status {status!r}")
        run.expect(STATUS_RANK[status] >= STATUS_RANK[previous] and not (previous in FINAL and status != previous),
                   exchange, f"Export status moved backwards: {previous} → {status}")
        if status == "completed":
            download = export.get("download") or {}
            run.expect(isinstance(download.get("download_url"), str) and download["download_url"], exchange,
                       "A completed export has no download.download_url")
            valid_till = download.get("valid_till")
            run.expect(isinstance(valid_till, int) and valid_till > export.get("created_at", 0), exchange,
                       f"download.valid_till {valid_till!r} is not after created_at")
        else:
            run.expect("download" not in export, exchange, f"download is present while {status}")
        run.ok(exchange)
        if status in FINAL:
            again = client.call(retrieve, path=path)
            final = (run.status(again, 200, "retrieve a finished export") or {}).get("export") or {}
            run.expect(final.get("status") == status, again,
                       f"Export status moved backwards: {status} → {final.get('status')}")
            run.ok(again)
            return export, exchange
        run.expect(time.monotonic() < deadline, exchange,
                   f"Export not finished after {ctx.poll_timeout:g} s (still {status})")
        previous = status
        time.sleep(ctx.poll_interval)


def export_lifecycle(ctx: Context) -> None:
    """Trigger each kind of export and retrieve it until it is final."""
    run = CheckRun("export_lifecycle", ctx)

    def journey(operation: Operation) -> Callable[[], None]:
        def go() -> None:
            client = ctx.client()
            export = _trigger(run, client, operation, None)
            _poll(run, client, export["id"])
        return go

    run.each((label(op), journey(op)) for op in trigger_operations(ctx.spec))


def csv_download(ctx: Context) -> None:
    """Download completed exports: zip, CSV header, RFC 4180 rows, values, filters, token."""
    run = CheckRun("csv_download", ctx)
    try:
        columns = data.load_model(ctx.spec)
    except ValueError as exc:
        ctx.results.error(f"the contract's export rows do not load: {exc}")
        return

    def download(operation: Operation, body: dict | None, wrong_token: bool) -> Callable[[], None]:
        exported = operation.raw.get("x-exported-object")

        def go() -> None:
            if exported not in columns.objects:
                raise Skip(f"{operation.operation_id} names no rows (x-exported-object) in the contract")
            client = ctx.client()
            export = _trigger(run, client, operation, body)
            done, polled = _poll(run, client, export["id"])
            run.expect(done["status"] == "completed", polled, "The export failed, nothing to download")
            url = done["download"]["download_url"]
            file = fetch_download(run, ctx, DOWNLOAD, url, "application/zip", "download with the URL alone")
            text = _csv_member(file)
            fields = list(columns.object(exported).default_fields)
            check_csv(run, dataclasses.replace(file, text=text), fields, {})
            if body == ORDER_FILTERS:
                _check_order_filters(run, file, text)
            run.ok(file)
            if wrong_token:
                refuse_wrong_token(run, ctx, DOWNLOAD, url, 403)
        return go

    scenarios = []
    for op in trigger_operations(ctx.spec):
        if op.operation_id == ORDERS:
            scenarios.append((label(op), download(op, ORDER_FILTERS, True)))
        scenarios.append((label(op), download(op, None, False)))
    run.each(scenarios)


def _csv_member(file: Exchange) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(file.content))
        names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
        if not names:
            raise Violation(file, "The zip holds no CSV file", f"members: {archive.namelist()[:10]}")
        return archive.read(names[0]).decode("utf-8")
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise Violation(file, "The download is not a zip of UTF-8 CSV files", str(exc)) from None


def _check_order_filters(run: CheckRun, file: Exchange, text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    allowed = ORDER_FILTERS["order"]["status"]["in"]
    stray = sorted({row.get("status") for row in rows} - set(allowed))
    run.expect(not stray, file, "The order[status][in] filter is ignored",
               f"rows with status {stray[:5]} although only {allowed} were asked for")
    floor = int(ORDER_FILTERS["total"]["gte"])
    low = [row.get("total") for row in rows if not (row.get("total") or "").lstrip("-").isdigit()
           or int(row["total"]) < floor]
    run.expect(not low, file, "The total[gte] filter is ignored", f"totals {low[:5]} are below {floor}")


def error_shape(ctx: Context) -> None:
    """Provoke 404, 401 and 400 on purpose; every 4xx any check sees is judged the same way."""
    run = CheckRun(ERROR_SHAPE, ctx)

    def probe(exchange: Exchange, expected: int, what: str) -> None:
        run.expect(exchange.status == expected, exchange, f"{what}: expected {expected}, got {exchange.status}")
        problem = ctx.dialect.error_problem(exchange.status, exchange.json())
        run.expect(problem is None, exchange, "Error body is not the vendor's error object", problem or "")
        run.ok(exchange)

    client = ctx.client()
    probes: list[tuple[str, Callable[[], None]]] = []
    if checks._has(ctx.spec, RETRIEVE):
        retrieve, path = ctx.op(RETRIEVE), {_id_param(ctx): UNKNOWN_ID}
        probes.append((label(retrieve), lambda: probe(client.call(retrieve, path=path), 404,
                                                      "retrieve an unknown export")))
        probes.append((label(retrieve), lambda: probe(ctx.client(None).call(retrieve, path=path), 401,
                                                      "retrieve without an API key")))
    if checks._has(ctx.spec, ORDERS):
        orders = ctx.op(ORDERS)
        probes.append((label(orders), lambda: probe(client.call(orders, body={"order": {"status": {"is": "nope"}}}),
                                                    400, "filter orders by an unknown status")))
        probes.append((label(orders), lambda: probe(client.call(orders, body={"order": {"nope": {"is": "x"}}}), 400,
                                                    "filter orders by an unknown attribute")))
    for operation, body in probes:
        run.scenario(operation, body)


def tenant_isolation(ctx: Context) -> None:
    """An export one API key triggered cannot be retrieved with another."""
    run = CheckRun("tenant_isolation", ctx)
    operations = trigger_operations(ctx.spec)
    if not operations or not checks._has(ctx.spec, RETRIEVE):
        ctx.results.skip(label(operations[0]) if operations else "(run)", run.name,
                         "the spec has no export operation and retrieve")
        return
    owner, stranger = ctx.client(), ctx.client(ctx.other)
    retrieve = ctx.op(RETRIEVE)

    def go() -> None:
        hello = stranger.call(retrieve, path={_id_param(ctx): UNKNOWN_ID})
        if hello.status == 401:
            raise Skip("the second API key was refused; pass --other-app ID:KEY")
        export = _trigger(run, owner, operations[0], None)
        path = {_id_param(ctx): export["id"]}
        peek = stranger.call(retrieve, path=path)
        run.expect(peek.status in (403, 404), peek, f"Another API key can retrieve the export (status {peek.status})")
        run.error_body(peek)
        run.ok(peek)
        still = owner.call(retrieve, path=path)
        run.status(still, 200, "the owner retrieves its export")
        run.ok(still)

    run.scenario(label(operations[0]), go)


CHECKS: dict[str, Callable[[Context], None]] = {
    **checks.CHECKS,
    "export_lifecycle": export_lifecycle,
    "csv_download": csv_download,
    "error_shape": error_shape,
    "tenant_isolation": tenant_isolation,
}
