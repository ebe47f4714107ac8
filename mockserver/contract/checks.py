"""Our named checks: what a bulk-export contract means beyond single responses.

Each check drives the implementation through the API as a client would,
creates the data it needs and deletes it again, and reports every request
it made under that request's operation, so the report reads per operation.

- export_lifecycle: every export-creating operation (and every `exported_object`
  of the generic one) yields an export that moves SCHEDULED → IN_PROGRESS →
  DONE|ERROR within the poll timeout and never back; `result` is null until
  DONE and then holds `url`; the export is listed; after DELETE it is 404.
- csv_download: a finished export's `result.url` downloads with its token
  alone, as `text/plain`; the header is the requested fields in order (or the
  documented defaults); rows parse as RFC 4180 with one value per field;
  ids, timestamps and amounts look like themselves; rows follow the requested
  order and filter; a wrong token is refused with 401.
- error_shape: every 4xx body (ours and every one schemathesis provokes) is
  the vendor's error object whose status field equals the HTTP status and
  which carries a non-empty, unique request id.
- auth_required: every secured operation answers 401 to no credentials and
  to a known app id with a wrong token.
- tenant_isolation: an export one app created cannot be read, listed or
  deleted by another app, and survives the attempt.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft7Validator

from ..spec import Operation, Spec
from .dialect import Dialect
from .http import Client, Exchange, Redactor, label
from .meaning import ExportApi, Skip, accepts, column_labels, default_fields, export_api, generic_create, kinds
from .options import App
from .results import Finding, Results, excerpt

# the lifecycle our checks know (Voucherify's); operations are found by meaning (meaning.py)
STATUS_RANK = {"SCHEDULED": 0, "IN_PROGRESS": 1, "DONE": 2, "ERROR": 2}
FINAL = ("DONE", "ERROR")
PATH_VALUE = "contract-1"  # every path parameter of our schemas takes it
CSV_ORDER_EXPORT = {
    "exported_object": "order",
    "parameters": {"fields": ["id", "status", "amount", "created_at"], "order": "-created_at",
                   "filters": {"status": {"conditions": {"$in": ["PAID"]}}}},
}


class Violation(Exception):
    """An expectation did not hold; stops the scenario it happened in."""

    def __init__(self, exchange: Exchange | None, title: str, message: str = "") -> None:
        super().__init__(title)
        self.exchange = exchange
        self.title = title
        self.message = message


@dataclass
class Context:
    """Everything a check may use: the contract, the target and where findings go."""

    spec: Spec
    dialect: Dialect
    base_url: str
    app: App
    other: App
    results: Results
    redact: Redactor
    poll_timeout: float = 30.0
    poll_interval: float = 0.2
    parallel: int = 8
    judge_errors: bool = True  # whether 4xx answers seen by any check also count for error_shape
    trusting: bool = False  # the target is a mock that accepts credentials it has never seen
    other_given: bool = True  # the second app's credentials were given (not invented)
    _exports: ExportApi | None = None

    def exports(self) -> ExportApi:
        """The contract's export operations, found by meaning (raises Skip when there are none)."""
        if self._exports is None:
            self._exports = export_api(self.spec)
        return self._exports

    def client(self, app: App | None | object = ...) -> Client:
        """A client as `app` (default: the main app; None: no credentials), with its own
        connection pool, because checks run their scenarios in threads."""
        return Client(self.base_url, self.app if app is ... else app,  # type: ignore[arg-type]
                      credentials=self.dialect.headers)

    def op(self, operation_id: str) -> Operation:
        try:
            return self.spec.operation(operation_id)
        except KeyError:
            raise Skip(f"the spec has no {operation_id} operation") from None


class CheckRun:
    """One check's bookkeeping: passes and findings go to Results under its name."""

    def __init__(self, name: str, ctx: Context) -> None:
        self.name = name
        self.ctx = ctx

    def expect(self, condition: Any, exchange: Exchange | None, title: str, message: str = "") -> None:
        if not condition:
            raise Violation(exchange, title, message)

    def ok(self, exchange: Exchange) -> None:
        self.ctx.results.passed(exchange.operation, self.name)

    def scenario(self, operation: str, body: Callable[[], None]) -> None:
        """Run one scenario; a Violation becomes a finding on the operation whose answer broke it."""
        try:
            body()
        except Violation as violation:
            ex = violation.exchange
            self.ctx.results.failed(Finding(
                check=self.name, operation=ex.operation if ex else operation, title=violation.title,
                message=self.ctx.redact(violation.message), curl=ex.curl(self.ctx.redact) if ex else "",
                status=ex.status if ex else None, response=excerpt(ex.text) if ex else ""))
        except Skip as skip:
            self.ctx.results.skip(operation, self.name, str(skip))
        except Exception as exc:  # the target misbehaved in a way we did not foresee (e.g. dropped connection)
            self.ctx.results.failed(Finding(check=self.name, operation=operation,
                                            title=f"Request failed: {type(exc).__name__}", message=str(exc)))

    def each(self, items: Iterable[tuple[str, Callable[[], None]]]) -> None:
        """Run independent scenarios side by side (exports take seconds to finish)."""
        items = list(items)
        with ThreadPoolExecutor(max_workers=max(1, min(self.ctx.parallel, len(items) or 1))) as pool:
            list(pool.map(lambda item: self.scenario(*item), items))

    # -- steps shared by several checks ---------------------------------------
    def status(self, exchange: Exchange, expected: int | tuple[int, ...], what: str) -> Any:
        allowed = (expected,) if isinstance(expected, int) else expected
        self.expect(exchange.status in allowed, exchange, f"{what}: expected {' or '.join(map(str, allowed))}, "
                    f"got {exchange.status}")
        body = exchange.json() if exchange.status != 204 else None
        if 400 <= exchange.status < 500:
            self.error_body(exchange)
        return body

    def error_body(self, exchange: Exchange) -> None:
        """Every 4xx our checks see is also an error_shape sample."""
        if not self.ctx.judge_errors:
            return
        problem = self.ctx.dialect.error_problem(exchange.status, exchange.json())
        run = CheckRun(ERROR_SHAPE, self.ctx)
        if problem:
            run.scenario(exchange.operation, lambda: run.expect(False, exchange, "Error body is not the vendor's "
                                                                "error object", problem))
        else:
            run.ok(exchange)

    def create(self, client: Client, operation: Operation, path: dict, body: Any, what: str) -> dict:
        exchange = client.call(operation, path=path, body=body)
        export = self.status(exchange, 200, f"create {what}")
        self.expect(isinstance(export, dict) and isinstance(export.get("id"), str), exchange,
                    "The created export has no id")
        self.ok(exchange)
        return export

    def poll(self, client: Client, export_id: str) -> tuple[dict, Exchange]:
        """GET the export until it is final; every answer must be a step forward."""
        api = self.ctx.exports()
        deadline = time.monotonic() + self.ctx.poll_timeout
        previous = "SCHEDULED"
        while True:
            exchange = client.call(api.get, path=api.path(export_id))
            export = self.status(exchange, 200, "get export")
            status = (export or {}).get("status")
            self.expect(status in STATUS_RANK, exchange, f"Unknown export status {status!r}")
            self.expect(STATUS_RANK[status] >= STATUS_RANK[previous] and not (previous in FINAL and status != previous),
                        exchange, f"Export status moved backwards: {previous} → {status}")
            if status == "DONE":
                url = (export.get("result") or {}).get("url")
                self.expect(isinstance(url, str) and url, exchange, "A DONE export has no result.url")
            else:
                self.expect(export.get("result") is None, exchange, f"result is not null while {status}")
            self.ok(exchange)
            if status in FINAL:
                again = client.call(api.get, path=api.path(export_id))
                final = self.status(again, 200, "get a finished export") or {}
                self.expect(final.get("status") == status, again,
                            f"Export status moved backwards: {status} → {final.get('status')}")
                self.ok(again)
                return export, exchange
            self.expect(time.monotonic() < deadline, exchange,
                        f"Export not finished after {self.ctx.poll_timeout:g} s (still {status})")
            previous = status
            time.sleep(self.ctx.poll_interval)

    def delete_quietly(self, client: Client, export_id: str) -> None:
        """Clean up after a scenario, whatever happened in it."""
        api = self.ctx.exports()
        if api.delete is None:
            return
        try:
            client.call(api.delete, path=api.path(export_id))
        except Exception:  # noqa: BLE001 - cleanup must not hide the finding
            pass


ERROR_SHAPE = "error_shape"
WHOLE_RUN = "(all operations)"  # where a check that could not start is reported
NEEDS_SECOND_APP = {"tenant_isolation"}

# our checks by name, in the order they run (the names are the same for every dialect)
CHECKS: dict[str, Callable[[Context], None]] = {}


def check(name: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register one of our checks under `name` (like schemathesis' `@check`)."""
    def register(function: Callable[[Context], None]) -> Callable[[Context], None]:
        CHECKS[name] = function
        return function
    return register


def run_check(name: str, function: Callable[[Context], None], ctx: Context) -> None:
    """Run one check; one that cannot start here is SKIPPED with its reason, never a traceback."""
    if name in NEEDS_SECOND_APP and not (ctx.other_given or ctx.trusting):
        ctx.results.skip(WHOLE_RUN, name, "needs a second app: pass --other-app ID:TOKEN")
        return
    try:
        function(ctx)
    except Skip as skip:
        ctx.results.skip(WHOLE_RUN, name, str(skip))
    except Exception as exc:  # noqa: BLE001 - a contract shaped in a way this check does not understand
        ctx.results.skip(WHOLE_RUN, name, f"cannot run against this contract ({type(exc).__name__}: {exc})")


# ---------------------------------------------------------------- the checks
# ---------------------------------------------------------------- the checks
@check("export_lifecycle")
def export_lifecycle(ctx: Context) -> None:
    """Create each kind of export, poll it to a final state, find it listed, delete it."""
    run = CheckRun("export_lifecycle", ctx)
    api = ctx.exports()

    def journey(operation: Operation, path: dict, body: Any, what: str) -> Callable[[], None]:
        def go() -> None:
            client = ctx.client()
            export = run.create(client, operation, path, body, what)
            try:
                run.expect(export.get("status") == "SCHEDULED", None, f"{what} was created with status "
                           f"{export.get('status')!r}, not SCHEDULED")
                run.expect(export.get("result") is None, None, f"{what} was created with a result")
                run.poll(client, export["id"])
                if api.list is not None:
                    listed = client.call(api.list, query={"limit": 100, "order": "-created_at"})
                    page = run.status(listed, 200, "list exports") or {}
                    run.expect(export["id"] in listed_ids(page), listed, f"The new export {export['id']} is not listed")
                    run.ok(listed)
                if api.delete is not None:
                    gone = client.call(api.delete, path=api.path(export["id"]))
                    run.status(gone, 204, "delete export")
                    run.ok(gone)
                    again = client.call(api.get, path=api.path(export["id"]))
                    run.status(again, 404, "get a deleted export")
                    run.ok(again)
            finally:
                run.delete_quietly(client, export["id"])
        return go

    run.each((label(op), journey(op, path, body, what)) for op, path, body, what in export_requests(api))


@check("csv_download")
def csv_download(ctx: Context) -> None:
    """Download finished exports: content type, header, RFC 4180 rows, values, order, filter, token."""
    run = CheckRun("csv_download", ctx)
    api = ctx.exports()
    create = generic_create(api)
    where = label(api.get)

    def download(body: dict, expected: Callable[[], list[str]], wrong_token: bool) -> Callable[[], None]:
        def go() -> None:
            if not accepts(create, body):
                raise Skip(f"{label(create)} does not accept the request {body}")
            fields = expected()
            client = ctx.client()
            export = run.create(client, create, {}, body, "an order export")
            try:
                done, polled = run.poll(client, export["id"])
                run.expect(done["status"] == "DONE", polled, "The export ended in ERROR, nothing to download")
                url = done["result"]["url"]
                file = fetch_download(run, ctx, api.get.operation_id, url, "text/plain",
                                      "download with the result token")
                check_csv(run, file, fields, body.get("parameters") or {},
                          header=column_labels(ctx.spec, "order", fields))
                run.ok(file)
                if wrong_token:
                    refuse_wrong_token(run, ctx, api.get.operation_id, url, 401)
            except Violation:
                raise  # the export stays, so the report's curl line still reproduces the download
            except BaseException:
                run.delete_quietly(client, export["id"])
                raise
            run.delete_quietly(client, export["id"])
        return go

    requested = CSV_ORDER_EXPORT["parameters"]["fields"]
    run.each([
        (where, download(CSV_ORDER_EXPORT, lambda: list(requested), True)),
        (where, download({"exported_object": "order"}, lambda: default_fields(create, "order"), False)),
    ])


@check("error_shape")
def error_shape(ctx: Context) -> None:
    """Provoke 400, 401 and 404 on purpose; every 4xx any check sees is judged the same way."""
    run = CheckRun(ERROR_SHAPE, ctx)
    seen: dict[str, Exchange] = {}

    def probe(exchange: Exchange, expected: int, what: str) -> None:
        run.expect(exchange.status == expected, exchange, f"{what}: expected {expected}, got {exchange.status}")
        problem = ctx.dialect.error_problem(exchange.status, exchange.json())
        run.expect(problem is None, exchange, "Error body is not the vendor's error object", problem or "")
        request_id = (exchange.json() or {}).get(ctx.dialect.error_request_id_field or "")
        if request_id:
            run.expect(request_id not in seen, exchange, "Two errors share one request id", str(request_id))
            seen[request_id] = exchange
        run.ok(exchange)

    api = ctx.exports()
    client = ctx.client()
    unknown = api.path("exp_" + "0" * 24)
    probes: list[tuple[str, Callable[[], None]]] = [
        (label(api.get), lambda: probe(client.call(api.get, path=unknown), 404, "get an unknown export")),
        (label(api.get), lambda: probe(ctx.client(None).call(api.get, path=unknown), 401, "get without credentials")),
    ]
    try:
        create = generic_create(api)
    except Skip:
        create = None
    if create is not None:
        probes.append((label(create), lambda: probe(client.call(create, body={"exported_object": "no-such-object"}),
                                                    400, "create an export of an unknown object")))
        kind = kinds(create.body_schemas.get("application/json"))[0]
        probes.append((label(create), lambda: probe(client.call(create, body={"exported_object": kind,
                                                                              "parameters": {"fields": ["nope"]}}),
                                                    400, "create an export with an unknown field")))
    for operation, body in probes:  # sequential: request ids are compared across probes
        run.scenario(operation, body)


@check("auth_required")
def auth_required(ctx: Context) -> None:
    """Every secured operation refuses missing credentials and a wrong token with 401."""
    run = CheckRun("auth_required", ctx)
    wrong = App(ctx.app.app_id, "wrong-" + uuid.uuid4().hex, ctx.app.label)

    attempts: list[tuple[App | None, str]] = [(None, "without credentials")]
    if not (ctx.trusting and ctx.dialect.basic):  # a mock that takes any API key: a wrong one is just a new site
        attempts.append((wrong, "with a wrong token"))

    def refuse(operation: Operation, path: dict, body: Any) -> Callable[[], None]:
        def go() -> None:
            for app, what in attempts:
                exchange = ctx.client(app).call(operation, path=path, body=body)
                run.status(exchange, 401, f"{operation.method} {operation.path} {what}")
                run.ok(exchange)
        return go

    run.each((label(op), refuse(op, path, body)) for op, path, body in secured_requests(ctx.spec))


@check("tenant_isolation")
def tenant_isolation(ctx: Context) -> None:
    """What one app created, another cannot read, list or delete."""
    run = CheckRun("tenant_isolation", ctx)
    api = ctx.exports()
    create = generic_create(api)
    body = {"exported_object": kinds(create.body_schemas.get("application/json"))[0]}
    owner, stranger = ctx.client(), ctx.client(ctx.other)

    def go() -> None:
        hello = stranger.call(api.get, path=api.path("exp_" + "0" * 24))
        if hello.status == 401:
            raise Skip("the second app's credentials were refused; pass --other-app ID:TOKEN")
        export = run.create(owner, create, {}, body, "an export")
        try:
            path = api.path(export["id"])
            peek = stranger.call(api.get, path=path)
            run.expect(peek.status in (403, 404), peek, f"Another app can read the export (status {peek.status})")
            run.error_body(peek)
            run.ok(peek)
            if api.list is not None:
                listed = stranger.call(api.list, query={"limit": 100, "order": "-created_at"})
                page = run.status(listed, 200, "list exports as another app") or {}
                run.expect(export["id"] not in listed_ids(page), listed, "Another app's list shows the export")
                run.ok(listed)
            if api.delete is not None:
                remove = stranger.call(api.delete, path=path)
                run.expect(remove.status in (403, 404), remove,
                           f"Another app can delete the export (status {remove.status})")
                run.error_body(remove)
                run.ok(remove)
            still = owner.call(api.get, path=path)
            run.status(still, 200, "the owner reads its export after another app tried to delete it")
        finally:
            run.delete_quietly(owner, export["id"])

    run.scenario(label(create), go)


# ---------------------------------------------------------------- requests
def export_requests(api: ExportApi) -> list[tuple[Operation, dict, Any, str]]:
    """One valid create request per export-creating operation (per kind of export for the generic one)."""
    out = []
    for op in api.creates:
        path = {p.name: PATH_VALUE for p in op.parameters if p.location == "path"}
        named = kinds(op.body_schemas.get("application/json"))
        if named:
            out += [(op, path, {"exported_object": value}, f"a {value} export") for value in named]
        else:
            out.append((op, path, _minimal_body(op) if op.body_schemas else None, f"an export via {op.operation_id}"))
    return out


def listed_ids(page: Any) -> list[Any]:
    """The ids in a list answer, whatever its array property is called."""
    if not isinstance(page, dict):
        return []
    return [item.get("id") for value in page.values() if isinstance(value, list)
            for item in value if isinstance(item, dict)]


def secured_requests(spec: Spec) -> list[tuple[Operation, dict, Any]]:
    """A valid-looking request for every secured operation, so only credentials can be wrong."""
    out = []
    for op in spec.operations:
        if not op.secured:
            continue
        path = {p.name: PATH_VALUE for p in op.parameters if p.location == "path"}
        out.append((op, path, _minimal_body(op)))
    return out


def _minimal_body(op: Operation) -> Any:
    if "application/json" not in op.body_schemas:
        return None
    schema = op.body_schemas["application/json"]
    examples = (op.raw.get("requestBody", {}).get("content", {}).get("application/json", {}).get("examples") or {})
    for example in examples.values():
        if isinstance(example, dict) and "value" in example:
            return example["value"]
    mapping = (schema.get("discriminator") or {}).get("mapping")
    if mapping:
        return {schema["discriminator"]["propertyName"]: next(iter(mapping))}
    for candidate in ({}, []):
        if Draft7Validator(schema).is_valid(candidate):
            return candidate
    return {}


def _has(spec: Spec, operation_id: str) -> bool:
    return any(op.operation_id == operation_id for op in spec.operations)


def _with_token(url: str, token: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, token if k == "token" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# ---------------------------------------------------------------- CSV
def fetch_download(run: CheckRun, ctx: Context, operation_id: str, url: str, media: str, what: str) -> Exchange:
    """The file at a download URL, fetched with no credentials but the URL's: 200, served as `media`."""
    file = ctx.client(None).call(ctx.op(operation_id), url=url)
    run.status(file, 200, what)
    served = file.content_type.split(";")[0].strip()
    run.expect(served == media, file, f"The download is served as {served or 'nothing'}, not {media}")
    return file


def refuse_wrong_token(run: CheckRun, ctx: Context, operation_id: str, url: str, status: int) -> None:
    """The same download URL with another token must be refused with `status`."""
    bad = ctx.client(None).call(ctx.op(operation_id), url=_with_token(url, "wrong-" + uuid.uuid4().hex))
    run.status(bad, status, "download with a wrong token")
    run.ok(bad)


def _heading(text: str) -> str:
    return text.strip().lower().replace(" ", "_")


def check_csv(run: CheckRun, file: Exchange, fields: list[str], parameters: dict,
              header: list[str] | None = None) -> None:
    """Header (`header`, else the fields themselves), RFC 4180 rows, plausible values, requested order and filter."""
    try:
        rows = list(csv.reader(io.StringIO(file.text, newline=""), strict=True))
    except csv.Error as exc:
        raise Violation(file, "The download is not RFC 4180 CSV", str(exc)) from None
    run.expect(rows, file, "The download is empty: no header row")
    expected = fields if header is None else header
    header, data = rows[0], rows[1:]
    # where the contract gives no label, a field may be headed by its name in words (`source_id`: `Source ID`)
    run.expect([_heading(h) for h in header] == [_heading(e) for e in expected], file,
               "The header row is not the requested fields in order", f"expected {expected}, got {header}")
    for number, row in enumerate(data, start=2):
        run.expect(len(row) == len(fields), file, f"Row {number} has {len(row)} values for {len(fields)} fields")
        for name, value in zip(fields, row):
            problem = _value_problem(name, value)
            run.expect(problem is None, file, f"Row {number}: {name} {problem}", f"value {value!r}")
    records = [dict(zip(fields, row)) for row in data]
    for name, condition in ((parameters.get("filters") or {}).items()):
        allowed = (condition.get("conditions") or {}).get("$in") if isinstance(condition, dict) else None
        if name in fields and allowed:
            stray = [r[name] for r in records if r[name] not in allowed]
            run.expect(not stray, file, f"The filter on {name} is ignored",
                       f"rows with {name} {sorted(set(stray))[:5]} although only {allowed} were asked for")
    order = parameters.get("order")
    if order and order.lstrip("-") in fields:
        key = order.lstrip("-")
        values = [r[key] for r in records if r[key]]
        wanted = sorted(values, key=_sort_key, reverse=order.startswith("-"))
        run.expect(values == wanted, file, f"Rows are not in the requested order {order}",
                   f"first values: {values[:5]}")


def _value_problem(name: str, value: str) -> str | None:
    if name == "id":
        return None if value and not any(c.isspace() for c in value) else "is not an id"
    if value == "":
        return None  # other columns may be empty (optional properties)
    if name.endswith("_at") or name in ("date", "expires_at"):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "is not an ISO 8601 timestamp"
    if name == "amount" or name.endswith("_amount") or name in ("balance", "points"):
        try:
            float(value)
        except ValueError:
            return "is not a number"
    return None


def _sort_key(value: str) -> Any:
    try:
        return (0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp(), "")
    except ValueError:
        pass
    try:
        return (1, float(value), "")
    except ValueError:
        return (2, 0.0, value)
