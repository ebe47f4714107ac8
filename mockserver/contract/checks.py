"""Our named checks: what a bulk-export contract means beyond single responses.

Each check drives the implementation through the API as a client would,
creates the data it needs and deletes it again, and reports every request
it made under that request's operation, so the report reads per operation.

One engine for every vendor: what differs (credentials, error object, status
words, wrapper, where the download URL sits, its media type and token, the
requests that exercise filters) is the vendor's `Dialect` (dialect.py), data
its package provides. Voucherify's words serve as the examples below.

- export_lifecycle: every export-creating operation (and every kind of export
  a generic one takes, e.g. `exported_object`) yields a pending export without
  a download that moves through the phases (SCHEDULED → IN_PROGRESS →
  DONE|ERROR) within the poll timeout and never back; the download URL
  (`result.url`) appears only when done; the export is listed; after DELETE it
  is 404 (list and delete where the API has them).
- csv_download: a finished export's URL downloads (with its token alone, or
  with the key where the dialect says so) as the dialect's media type (a CSV,
  or a zip of CSVs); the header is the requested fields in order (or the
  documented defaults); rows parse as RFC 4180 with one value per field; ids,
  timestamps and amounts look like themselves; rows keep the dialect's
  filters and order; a wrong token is refused, sent alone and with the app's key.
- error_shape: every 4xx body (ours and every one schemathesis provokes) is
  the vendor's error object (status field equal to the HTTP status, a
  non-empty unique request id, where the dialect has them).
- auth_required: every secured operation answers 401 to no credentials and
  to a known app id with a wrong token.
- tenant_isolation: an export one app created cannot be read, listed or
  deleted by another app, and survives the attempt.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jsonschema import Draft7Validator

from ..spec import Operation, Spec
from .dialect import Dialect, Download, Expect, ExportProtocol, dig
from .http import Client, Exchange, Redactor, label
from .meaning import (
    ExportApi,
    Skip,
    accepts,
    body_schema,
    branch_for,
    branches,
    column_labels,
    declares,
    default_fields,
    export_api,
    generic_create,
    kinds,
    properties,
    required_examples,
)
from .options import App
from .results import Finding, Results, excerpt

PATH_VALUE = "contract-1"  # every path parameter of our schemas takes it


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
    links: dict[str, str] = field(default_factory=dict)  # export id → the status URL its create answered

    @property
    def protocol(self) -> ExportProtocol:
        if self.dialect.exports is None:
            raise Skip(f"the {self.dialect.name} dialect describes no export protocol")
        return self.dialect.exports

    def exports(self) -> ExportApi:
        """The contract's export operations, found by meaning (raises Skip when there are none)."""
        if self._exports is None:
            protocol = self.protocol
            self._exports = export_api(self.spec, protocol.statuses.all(), protocol.wrapper, protocol.operations)
        return self._exports

    def client(self, app: App | None | object = ...) -> Client:
        """A client as `app` (default: the main app; None: no credentials), with its own
        connection pool, because checks run their scenarios in threads."""
        return Client(
            self.base_url,
            self.app if app is ... else app,  # type: ignore[arg-type]
            credentials=self.dialect.headers,
            form_lists=self.dialect.form_lists,
        )

    def op(self, operation_id: str) -> Operation:
        try:
            return self.spec.operation(operation_id)
        except KeyError:
            raise Skip(f"the spec has no {operation_id} operation") from None

    def generic_create(self) -> Operation:
        return generic_create(self.exports(), self.protocol.kind_field, self.protocol.kinds)

    def kinds(self, operation: Operation) -> list[str]:
        """The kinds of export `operation` makes: its schema's words, else the dialect's (when it takes them)."""
        listed = kinds(body_schema(operation), self.protocol.kind_field)
        if listed or not self.protocol.kinds:
            return listed
        try:
            takes = generic_create(self.exports(), self.protocol.kind_field, self.protocol.kinds) is operation
        except Skip:
            takes = False
        return list(self.protocol.kinds) if takes else []


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
            self.ctx.results.failed(
                Finding(
                    check=self.name,
                    operation=ex.operation if ex else operation,
                    title=violation.title,
                    message=self.ctx.redact(violation.message),
                    curl=ex.curl(self.ctx.redact) if ex else "",
                    status=ex.status if ex else None,
                    response=excerpt(ex.text) if ex else "",
                )
            )
        except Skip as skip:
            self.ctx.results.skip(operation, self.name, str(skip))
        except Exception as exc:  # the target misbehaved in a way we did not foresee (e.g. dropped connection)
            self.ctx.results.failed(
                Finding(
                    check=self.name,
                    operation=operation,
                    title=f"Request failed: {type(exc).__name__}",
                    message=str(exc),
                )
            )

    def each(self, items: Iterable[tuple[str, Callable[[], None]]]) -> None:
        """Run independent scenarios side by side (exports take seconds to finish)."""
        items = list(items)
        with ThreadPoolExecutor(max_workers=max(1, min(self.ctx.parallel, len(items) or 1))) as pool:
            list(pool.map(lambda item: self.scenario(*item), items))

    # -- the steps every check and dialect shares ------------------------------
    def status(self, exchange: Exchange, expected: int | tuple[int, ...], what: str) -> Any:
        allowed = (expected,) if isinstance(expected, int) else expected
        self.expect(
            exchange.status in allowed,
            exchange,
            f"{what}: expected {' or '.join(map(str, allowed))}, got {exchange.status}",
        )
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
            run.scenario(
                exchange.operation,
                lambda: run.expect(False, exchange, "Error body is not the vendor's error object", problem),
            )
        else:
            run.ok(exchange)

    def create(
        self, client: Client, operation: Operation, path: dict, body: Any, what: str, prepare: bool = True
    ) -> dict:
        """Create an export; it must be new: pending, with no download yet."""
        protocol = self.ctx.protocol
        body = self.prepared(client, body) if prepare else body
        exchange = client.call(operation, path=path, body=body)
        export = protocol.unwrap(self.status(exchange, (200, 201, 202), f"create {what}"))
        where = f"{protocol.wrapper}.id" if protocol.wrapper else "id"
        self.expect(isinstance(export.get("id"), str), exchange, f"The created export has no {where}")
        if protocol.status_link:  # a locator: the id and where to read the export, no status yet
            link = dig(export, protocol.status_link)
            self.expect(
                isinstance(link, str) and link.startswith(("http://", "https://")),
                exchange,
                f"The created export's locator has no {protocol.status_link} URL",
                f"{protocol.status_link} is {link!r}",
            )
            self.ctx.links[export["id"]] = link
        status = protocol.status_of(export)
        pending = protocol.statuses.pending
        self.expect(
            status in pending or (protocol.status_link is not None and status is None),
            exchange,
            f"{what} was created with {protocol.status_field} {status!r}, not {' or '.join(pending)}",
        )
        self.expect(export.get(protocol.holder) is None, exchange, f"{what} was created with a {protocol.holder}")
        self.ok(exchange)
        return export

    def prepared(self, client: Client, body: Any) -> Any:
        """The body with what the dialect's `prepare` read fills in (nothing to fill: as it is)."""
        protocol = self.ctx.protocol
        kind = body.get(protocol.kind_field) if protocol.kind_field and isinstance(body, dict) else None
        if protocol.prepare is None or not isinstance(kind, str):
            return body
        step = protocol.prepare
        exchange = client.call(self.ctx.op(step.operation), path={step.path_param: kind})
        if exchange.status == 404:  # a kind the target keeps from this credential (Stripe's live-mode-only types)
            self.error_body(exchange)
            raise Skip(f"the target does not offer {kind} exports to this credential (404 reading what one needs)")
        answer = self.status(exchange, 200, f"read what a {kind} export needs")
        self.ok(exchange)
        filled = copy.deepcopy(body)
        try:
            branch = branch_for(body_schema(self.ctx.generic_create()), kind, protocol.kind_field)
        except Skip:
            branch = None
        for target, source, seconds in step.fill:
            if branch is not None and not declares(branch, target):
                continue  # a kind that does not take it (a report run for one payout has no interval)
            value = dig(answer, source)
            self.expect(isinstance(value, (int, float)), exchange, f"The answer has no number {source}")
            _put_missing(filled, target, value + seconds)
        for target, example in required_examples(branch) if branch is not None else ():
            _put_missing(filled, target, example)
        return filled

    def read(
        self, client: Client, export_id: str, what: str, expected: int | tuple[int, ...] = 200
    ) -> tuple[dict, Exchange]:
        api = self.ctx.exports()
        link = self.ctx.links.get(export_id)  # a locator's status URL: read where the create said
        exchange = client.call(api.get, url=link) if link else client.call(api.get, path=api.path(export_id))
        return self.ctx.protocol.unwrap(self.status(exchange, expected, what)), exchange

    def poll(self, client: Client, export_id: str) -> tuple[dict, Exchange]:
        """Read the export until it is final; every answer must be a step forward (the one polling loop)."""
        protocol = self.ctx.protocol
        words = protocol.statuses
        rank, final = words.rank, words.final
        deadline = time.monotonic() + self.ctx.poll_timeout
        previous = words.pending[0]
        while True:
            export, exchange = self.read(client, export_id, "get export")
            status = protocol.status_of(export)
            self.expect(status in rank, exchange, f"Unknown export {protocol.status_field} {status!r}")
            self.expect(
                rank[status] >= rank[previous] and not (previous in final and status != previous),
                exchange,
                f"Export status moved backwards: {previous} → {status}",
            )
            self.finished_fields(export, exchange)
            self.ok(exchange)
            if status in final:
                again, checked = self.read(client, export_id, "get a finished export")
                self.expect(
                    protocol.status_of(again) == status,
                    checked,
                    f"Export status moved backwards: {status} → {protocol.status_of(again)}",
                )
                self.ok(checked)
                return export, exchange
            self.expect(
                time.monotonic() < deadline,
                exchange,
                f"Export not finished after {self.ctx.poll_timeout:g} s (still {status})",
            )
            previous = status
            time.sleep(self.ctx.poll_interval)

    def finished_fields(self, export: dict, exchange: Exchange) -> None:
        """A done export has its download URL (and what the dialect says it has), others have none."""
        protocol = self.ctx.protocol
        status = protocol.status_of(export)
        if status == protocol.statuses.done:
            url = protocol.url_of(export)
            self.expect(isinstance(url, str) and url, exchange, f"A {status} export has no {protocol.url}")
            for name in protocol.done_fields:
                self.expect(dig(export, name) is not None, exchange, f"A {status} export has no {name}")
            for later, earlier in protocol.later:
                value, before = dig(export, later), dig(export, earlier)
                self.expect(
                    isinstance(value, (int, float)) and isinstance(before, (int, float)) and value > before,
                    exchange,
                    f"{later} {value!r} is not after {earlier}",
                )
        else:
            self.expect(export.get(protocol.holder) is None, exchange, f"{protocol.holder} is present while {status}")
        if status == protocol.statuses.failed:
            for name in protocol.failed_fields:
                self.expect(dig(export, name) is not None, exchange, f"A {status} export does not say why ({name})")

    def listed(self, client: Client, what: str) -> tuple[list[Any], Exchange]:
        api = self.ctx.exports()
        assert api.list is not None
        exchange = client.call(api.list, query=dict(self.ctx.protocol.list_query))
        page = self.status(exchange, 200, what) or {}
        return listed_ids(page, self.ctx.protocol.wrapper), exchange

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


class Registry:
    """Our checks by name, in the order they run (like schemathesis' check registry)."""

    def __init__(self) -> None:
        self._checks: dict[str, Callable[[Context], None]] = {}

    def register(self, name: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
        def add(function: Callable[[Context], None]) -> Callable[[Context], None]:
            self._checks[name] = function
            return function

        return add

    def __iter__(self) -> Iterator[str]:
        return iter(self._checks)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __getitem__(self, name: str) -> Callable[[Context], None]:
        return self._checks[name]

    def __len__(self) -> int:
        return len(self._checks)


CHECKS = Registry()


def check(name: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register one of our checks under `name` (like schemathesis' `@check`)."""
    return CHECKS.register(name)


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
                run.poll(client, export["id"])
                if api.list is not None:
                    ids, listed = run.listed(client, "list exports")
                    run.expect(export["id"] in ids, listed, f"The new export {export['id']} is not listed")
                    run.ok(listed)
                if api.delete is not None:
                    gone = client.call(api.delete, path=api.path(export["id"]))
                    run.status(gone, 204, "delete export")
                    run.ok(gone)
                    _, again = run.read(client, export["id"], "get a deleted export", 404)
                    run.ok(again)
            finally:
                run.delete_quietly(client, export["id"])

        return go

    run.each((label(op), journey(op, path, body, what)) for op, path, body, what in export_requests(ctx))


@check("csv_download")
def csv_download(ctx: Context) -> None:
    """Download finished exports: media type, header, RFC 4180 rows, values, order, filters, token."""
    run = CheckRun("csv_download", ctx)
    protocol = ctx.protocol
    api = ctx.exports()
    download_op = ctx.op(protocol.download_operation) if protocol.download_operation else api.get

    def download(scenario: Download, create: Operation, default: Any = None) -> Callable[[], None]:
        def go() -> None:
            body = (
                copy.deepcopy(dict(scenario.body))
                if scenario.body is not None
                else default
                if default is not None
                else request_body(ctx, create, next(iter(ctx.kinds(create)), None))
            )
            if body is not None and "application/json" in create.body_schemas and not accepts(create, body):
                raise Skip(f"{label(create)} does not accept the request {body}")
            kind = kind_of(ctx, create, body)
            fields = list(scenario.fields) if scenario.fields else documented_fields(ctx, create, kind)
            client = ctx.client()
            body = run.prepared(client, body)
            export = run.create(client, create, {}, body, f"a {kind or create.operation_id} export", prepare=False)
            try:
                done, polled = run.poll(client, export["id"])
                run.expect(
                    protocol.status_of(done) == protocol.statuses.done,
                    polled,
                    f"The export ended {protocol.status_of(done)}, nothing to download",
                )
                url = protocol.url_of(done)
                file = fetch_download(run, ctx, download_op, url)
                check_csv(
                    run,
                    file,
                    fields,
                    header=column_labels(ctx.spec, protocol.rows_of(kind) or "", fields),
                    expect=scenario.expect,
                    order=scenario.order,
                    body=body,
                )
                run.ok(file)
                if scenario.wrong_token:
                    refuse_wrong_token(run, ctx, download_op, url)
            except Violation:
                raise  # the export stays, so the report's curl line still reproduces the download
            except BaseException:
                run.delete_quietly(client, export["id"])
                raise
            run.delete_quietly(client, export["id"])

        return go

    scenarios = [
        (scenario, ctx.op(scenario.operation) if scenario.operation else ctx.generic_create())
        for scenario in protocol.downloads
    ]
    jobs = [(label(download_op), download(scenario, create)) for scenario, create in scenarios]
    if protocol.download_every_kind:
        jobs += [(label(download_op), download(Download(), op, body)) for op, _, body, _ in export_requests(ctx)]
    run.each(jobs)


@check("error_shape")
def error_shape(ctx: Context) -> None:
    """Provoke 404, 401 and 400 on purpose; every 4xx any check sees is judged the same way."""
    run = CheckRun(ERROR_SHAPE, ctx)
    shape = ctx.dialect.errors
    seen: dict[str, Exchange] = {}

    def probe(exchange: Exchange, expected: int, what: str) -> None:
        run.expect(exchange.status == expected, exchange, f"{what}: expected {expected}, got {exchange.status}")
        problem = ctx.dialect.error_problem(exchange.status, exchange.json())
        run.expect(problem is None, exchange, "Error body is not the vendor's error object", problem or "")
        request_id = shape.request_id(exchange.json())
        if request_id:
            run.expect(request_id not in seen, exchange, "Two errors share one request id", str(request_id))
            seen[request_id] = exchange
        run.ok(exchange)

    api = ctx.exports()
    client = ctx.client()
    unknown = api.path(ctx.protocol.unknown_id)
    probes: list[tuple[str, Callable[[], None]]] = [
        (label(api.get), lambda: probe(client.call(api.get, path=unknown), 404, "get an unknown export")),
        (label(api.get), lambda: probe(ctx.client(None).call(api.get, path=unknown), 401, "get without credentials")),
    ]
    for bad in ctx.protocol.bad_requests:
        try:
            operation = ctx.op(bad.operation) if bad.operation else ctx.generic_create()
        except Skip as skip:
            ctx.results.skip(WHOLE_RUN, ERROR_SHAPE, f"cannot {bad.what}: {skip}")
            continue
        body = dict(bad.body)
        if bad.with_kind and ctx.protocol.kind_field:
            body = {ctx.protocol.kind_field: ctx.kinds(operation)[0], **body}
        probes.append(
            (
                label(operation),
                lambda operation=operation, body=body, what=bad.what: probe(
                    client.call(operation, body=body), 400, what
                ),
            )
        )
    for operation, body in probes:  # sequential: request ids are compared across probes
        run.scenario(operation, body)


@check("auth_required")
def auth_required(ctx: Context) -> None:
    """Every secured operation refuses missing credentials and a wrong token with 401."""
    run = CheckRun("auth_required", ctx)
    wrong = App(ctx.app.app_id, "wrong-" + uuid.uuid4().hex, ctx.app.label)

    attempts: list[tuple[App | None, str]] = [(None, "without credentials")]
    if not (ctx.trusting and ctx.dialect.credentials.token_only):  # a mock that takes any key: a wrong one is new
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
    """What one app created, another cannot read, list, delete or download."""
    run = CheckRun("tenant_isolation", ctx)
    api = ctx.exports()
    requests_ = export_requests(ctx)
    if not requests_:
        raise Skip("the contract has no export to create")
    create, path, body, what = requests_[0]
    owner, stranger = ctx.client(), ctx.client(ctx.other)
    protocol = ctx.protocol

    def go() -> None:
        hello = stranger.call(api.get, path=api.path(protocol.unknown_id))
        if hello.status == 401:
            raise Skip("the second app's credentials were refused; pass --other-app ID:TOKEN")
        export = run.create(owner, create, path, body, what)
        try:
            link = ctx.links.get(export["id"])
            peek = stranger.call(api.get, url=link) if link else stranger.call(api.get, path=api.path(export["id"]))
            run.expect(peek.status in (403, 404), peek, f"Another app can read the export (status {peek.status})")
            run.error_body(peek)
            run.ok(peek)
            if api.list is not None:
                ids, listed = run.listed(stranger, "list exports as another app")
                run.expect(export["id"] not in ids, listed, "Another app's list shows the export")
                run.ok(listed)
            if protocol.download_with_key:  # a URL that needs the key must refuse another's
                done, _ = run.poll(owner, export["id"])
                if protocol.status_of(done) == protocol.statuses.done:
                    download_op = ctx.op(protocol.download_operation) if protocol.download_operation else api.get
                    fetched = stranger.call(download_op, url=protocol.url_of(done))
                    run.expect(
                        fetched.status in (403, 404),
                        fetched,
                        f"Another app can download the export (status {fetched.status})",
                    )
                    run.error_body(fetched)
                    run.ok(fetched)
            if api.delete is not None:
                remove = stranger.call(api.delete, path=api.path(export["id"]))
                run.expect(
                    remove.status in (403, 404), remove, f"Another app can delete the export (status {remove.status})"
                )
                run.error_body(remove)
                run.ok(remove)
            _, still = run.read(owner, export["id"], "the owner reads its export after another app tried")
            run.ok(still)
        finally:
            run.delete_quietly(owner, export["id"])

    run.scenario(label(create), go)


# ---------------------------------------------------------------- requests
def _put_missing(body: dict, dotted: str, value: Any) -> None:
    """Set `dotted` (keys between dots) in the body unless it is there already."""
    *parents, last = dotted.split(".")
    holder = body
    for key in parents:
        holder = holder.setdefault(key, {})
    holder.setdefault(last, value)


def export_requests(ctx: Context) -> list[tuple[Operation, dict, Any, str]]:
    """One valid create request per export-creating operation (per kind of export for a generic one)."""
    out = []
    for op in ctx.exports().creates:
        path = {p.name: PATH_VALUE for p in op.parameters if p.location == "path"}
        named = ctx.kinds(op)
        if named:
            out += [(op, path, request_body(ctx, op, value), f"a {value} export") for value in named]
        else:
            out.append((op, path, request_body(ctx, op, None), f"an export via {op.operation_id}"))
    return out


def request_body(ctx: Context, op: Operation, kind: str | None) -> Any:
    """A create body for an export of `kind`: the kind in the dialect's field (with what else the dialect
    says every create holds); where the schema wants more, its required properties at their least."""
    protocol = ctx.protocol
    if kind is None or not protocol.kind_field:
        least = least_body(op)
        return {**least, **protocol.create_body} if isinstance(least, dict) and protocol.create_body else least
    body: dict[str, Any] = {}
    _put(body, protocol.kind_field, kind)
    body.update(copy.deepcopy(dict(protocol.create_body)))
    if "application/json" not in op.body_schemas or accepts(op, body):
        return body
    schema = body_schema(op)
    branch = branch_for(schema, kind, protocol.kind_field) or next(iter(branches(schema)), None) or {}
    least = least_value(branch)
    discriminator = (schema.get("discriminator") or {}) if isinstance(schema, dict) else {}
    tag, mapping = discriminator.get("propertyName"), discriminator.get("mapping") or {}
    if tag and isinstance(least, dict):
        least.setdefault(tag, next((word for word, target in mapping.items() if target is branch), None))
    return _merge(least if isinstance(least, dict) else {}, body)


def least_value(schema: Any) -> Any:
    """The least value a schema allows, as a client would fill a required field: its example, default or
    first allowed word, else an empty text or list, zero, false, or an object of its required properties."""
    if not isinstance(schema, dict):
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return copy.deepcopy(schema[key])
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if schema.get(key) and "properties" not in schema and "type" not in schema:
            return least_value(schema[key][0])
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "array":
        return [least_value(schema.get("items"))] * int(schema.get("minItems") or 0)
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "string":
        return "contract" + "x" * max(0, int(schema.get("minLength") or 0) - 8)
    props = properties(schema)
    return {name: least_value(props.get(name)) for name in schema.get("required") or () if name in props}


def _put(body: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        body = body.setdefault(key, {})
    body[last] = value


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def kind_of(ctx: Context, operation: Operation, body: Any) -> str | None:
    """The rows an export makes: named in its body (the dialect's kind field) or by the operation
    (`x-exported-object`)."""
    field_name = ctx.protocol.kind_field
    if field_name and isinstance(body, dict) and isinstance(body.get(field_name), str):
        return body[field_name]
    named = operation.raw.get("x-exported-object")
    return named if isinstance(named, str) else None


def documented_fields(ctx: Context, operation: Operation, kind: str | None) -> list[str]:
    """The columns of an export that asked for none: the create schema's documented default fields,
    else the contract's rows (`x-export-rows`) in schema order."""
    if kind is None:
        raise Skip(f"{operation.operation_id} names no rows (x-exported-object) in the contract")
    if ctx.protocol.kind_field and ctx.protocol.fields_field:
        try:
            return default_fields(operation, kind, ctx.protocol.kind_field, ctx.protocol.fields_field)
        except Skip:
            pass
    from .. import data

    try:
        model = data.load_model(ctx.spec)
    except ValueError as exc:
        raise Skip(f"the contract's export rows do not load: {exc}") from None
    rows = ctx.protocol.rows_of(kind) or kind
    if rows not in model.objects:
        raise Skip(f"{operation.operation_id} names no rows (x-exported-object) in the contract")
    return list(model.object(rows).default_fields)


def listed_ids(page: Any, wrapper: str | None = None) -> list[Any]:
    """The ids in a list answer, whatever its array property is called (items inside `wrapper` too)."""
    if not isinstance(page, dict):
        return []
    items = [item for value in page.values() if isinstance(value, list) for item in value if isinstance(item, dict)]
    return [
        (item.get(wrapper) if wrapper and isinstance(item.get(wrapper), dict) else item).get("id") for item in items
    ]


def secured_requests(spec: Spec) -> list[tuple[Operation, dict, Any]]:
    """A valid-looking request for every secured operation, so only credentials can be wrong."""
    out = []
    for op in spec.operations:
        if not op.secured:
            continue
        path = {p.name: PATH_VALUE for p in op.parameters if p.location == "path"}
        out.append((op, path, least_body(op)))
    return out


def least_body(op: Operation) -> Any:
    """A body the operation accepts with the least in it: its example, a discriminator's first branch, an
    empty object or array when valid, else only the required properties (their examples or first enum
    value); None when it takes no body or requires nothing."""
    if not op.body_schemas:
        return None
    media, schema = next(
        ((m, s) for m, s in op.body_schemas.items() if m == "application/json"), next(iter(op.body_schemas.items()))
    )
    examples = op.raw.get("requestBody", {}).get("content", {}).get(media, {}).get("examples") or {}
    for example in examples.values():
        if isinstance(example, dict) and "value" in example:
            return example["value"]
    mapping = (schema.get("discriminator") or {}).get("mapping")
    if mapping:
        return {schema["discriminator"]["propertyName"]: next(iter(mapping))}
    required = schema.get("required") or []
    if media != "application/json" and not required:
        return None
    for candidate in ({}, []):
        if not required and Draft7Validator(schema).is_valid(candidate):
            return candidate
    props = schema.get("properties") or {}
    return {
        name: (props.get(name) or {}).get("example", ((props.get(name) or {}).get("enum") or [""])[0])
        for name in required
    }


def _with_token(url: str, name: str, token: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, token if k == name else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# ---------------------------------------------------------------- the download
def fetch_download(run: CheckRun, ctx: Context, operation: Operation, url: str) -> Exchange:
    """The file at a download URL (the one fetch): with the app's credentials when the dialect says the URL
    needs them, else with none but the URL's; 200, served as the dialect's media type; a zip's first CSV
    member becomes the exchange's text."""
    protocol = ctx.protocol
    file = ctx.client(ctx.app if protocol.download_with_key else None).call(operation, url=url)
    run.status(file, 200, "download with the key" if protocol.download_with_key else "download with the URL alone")
    served = file.content_type.split(";")[0].strip()
    run.expect(served == protocol.media, file, f"The download is served as {served or 'nothing'}, not {protocol.media}")
    if protocol.media == "application/zip":
        return dataclasses.replace(file, text=_csv_member(file))
    return file


def _csv_member(file: Exchange) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(file.content))
        names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
        if not names:
            raise Violation(file, "The zip holds no CSV file", f"members: {archive.namelist()[:10]}")
        return archive.read(names[0]).decode("utf-8")
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise Violation(file, "The download is not a zip of UTF-8 CSV files", str(exc)) from None


def refuse_wrong_token(run: CheckRun, ctx: Context, operation: Operation, url: str) -> None:
    """The download refuses a wrong token (the one probe): for a URL that needs the key, no key and another
    key; for a URL with a token, that token swapped, sent alone and with the app's own key (a server that
    checks the token only when no key comes along would serve anyone holding a key)."""
    protocol = ctx.protocol
    wrong = "wrong-" + uuid.uuid4().hex
    if protocol.download_with_key:
        attempts = [
            (None, url, (401,), "download without credentials"),
            (App("wrong", wrong, ctx.app.label), url, protocol.wrong_token_status, "download with a wrong key"),
        ]
    else:
        forged = _with_token(url, protocol.token_param, wrong)
        attempts = [
            (None, forged, protocol.wrong_token_status, "download with a wrong token"),
            (ctx.app, forged, protocol.wrong_token_status, "download with the key and a wrong token"),
        ]
    for app, target, statuses, what in attempts:
        bad = ctx.client(app).call(operation, url=target)
        run.status(bad, statuses, what)
        run.ok(bad)


def _heading(text: str) -> str:
    return text.strip().lower().replace(" ", "_")


def check_csv(
    run: CheckRun,
    file: Exchange,
    fields: list[str],
    header: list[str] | None = None,
    expect: Iterable[Expect] = (),
    order: str | None = None,
    body: Any = None,
) -> None:
    """Header (`header`, else the fields themselves), RFC 4180 rows, plausible values, `expect` and `order`."""
    try:
        rows = list(csv.reader(io.StringIO(file.text, newline=""), strict=True))
    except csv.Error as exc:
        raise Violation(file, "The download is not RFC 4180 CSV", str(exc)) from None
    run.expect(rows, file, "The download is empty: no header row")
    expected = fields if header is None else header
    header, data = rows[0], rows[1:]
    # where the contract gives no label, a field may be headed by its name in words (`source_id`: `Source ID`)
    run.expect(
        [_heading(h) for h in header] == [_heading(e) for e in expected],
        file,
        "The header row is not the requested fields in order",
        f"expected {expected}, got {header}",
    )
    for number, row in enumerate(data, start=2):
        run.expect(len(row) == len(fields), file, f"Row {number} has {len(row)} values for {len(fields)} fields")
        for name, value in zip(fields, row):
            problem = _value_problem(name, value)
            run.expect(problem is None, file, f"Row {number}: {name} {problem}", f"value {value!r}")
    records = [dict(zip(fields, row)) for row in data]
    for promise in expect:
        if promise.column not in fields:
            continue
        values = [r[promise.column] for r in records]
        if promise.allowed:
            stray = sorted({v for v in values if v not in promise.allowed})
            run.expect(
                not stray,
                file,
                f"The {promise.name} filter is ignored",
                f"rows with {promise.column} {stray[:5]} although only {list(promise.allowed)} were asked for",
            )
        if promise.floor is not None:
            low = [v for v in values if _number(v) is None or _number(v) < promise.floor]  # type: ignore[operator]
            run.expect(
                not low,
                file,
                f"The {promise.name} filter is ignored",
                f"{promise.column} values {low[:5]} are below {promise.floor:g}",
            )
        since, before = (dig(body, path) if path else None for path in (promise.since, promise.before))
        if since is not None or before is not None:
            outside = [v for v in values if v and not _within(v, since, before)]
            run.expect(
                not outside,
                file,
                f"The {promise.name} is ignored: {promise.column} lies outside it",
                f"{outside[:5]} not in [{since}, {before})",
            )
    if order and order.lstrip("-") in fields:
        key = order.lstrip("-")
        values = [r[key] for r in records if r[key]]
        wanted = sorted(values, key=_sort_key, reverse=order.startswith("-"))
        run.expect(
            values == wanted, file, f"Rows are not in the requested order {order}", f"first values: {values[:5]}"
        )


def _within(text: str, since: Any, before: Any) -> bool:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    stamp = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    return (since is None or stamp >= float(since)) and (before is None or stamp < float(before))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


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
