"""Deliberately broken implementations: the real mock with exactly one defect.

Each `Defect` builds a ServerThread whose app breaks the contract in one way
and names the check that must catch it. A defect is injected the smallest way
possible: an outermost middleware rewriting one answer, a replaced handler,
or a store/service wrapper. tests/test_contract_broken.py runs the kit
against each; the defect table of docs/contract.md mirrors this list.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from aiohttp import web

from mockserver.app import Settings, services_of
from mockserver.errors import ApiError
from mockserver.respond import json_response
from mockserver.store import MemoryStore
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify

EXPORT_PATH = "/v1/exports/"


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    check: str  # the named check that must catch it
    checks: tuple[str, ...]  # what the test runs (small, to stay fast)
    build: Callable[[], ServerThread]
    operations: tuple[str, ...] = ("list-exports",)  # what schemathesis' part tests, if it runs
    title: str = ""  # a pattern the finding's title matches: the check caught this defect, not a side effect


def _server(*, vendor: Voucherify | None = None, store=None, middleware=None) -> ServerThread:
    kwargs = {"vendors": [vendor]} if vendor else {}
    if store is not None:
        kwargs["store"] = store
    server = ServerThread(Settings(port=0, lifecycle="poll"), **kwargs)
    if middleware is not None:
        server.app.middlewares.insert(0, middleware)  # outermost: it sees the final answer, errors included
    return server


def _rewrite_json(match: Callable[[web.Request], bool], change: Callable[[web.Request, dict, int], None]):
    """A middleware that edits the JSON body of the answers `match` selects."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        response = await handler(request)
        if not match(request) or not isinstance(response, web.Response) or response.content_type != "application/json":
            return response
        body = json.loads(response.body)
        if isinstance(body, dict):
            change(request, body, response.status)
        return json_response(
            body,
            status=response.status,
            headers={k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")},
        )

    return middleware


# -------------------------------------------------------------- the defects
def status_outside_enum() -> ServerThread:
    def change(request, body, status):
        if body.get("status") == "SCHEDULED":
            body["status"] = "QUEUED"

    return _server(middleware=_rewrite_json(lambda r: r.method == "POST", change))


def missing_required_field() -> ServerThread:
    return _server(
        middleware=_rewrite_json(
            lambda r: r.method == "GET" and r.path == "/v1/exports",
            lambda request, body, status: body.pop("total", None),
        )
    )


def error_without_request_id() -> ServerThread:
    def change(request, body, status):
        if status >= 400:
            body.pop("request_id", None)

    return _server(middleware=_rewrite_json(lambda r: True, change))


def server_error_on_empty_body() -> ServerThread:
    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.method == "POST" and request.path == "/v1/orders/export":
            raw = (await request.read()).strip()
            if raw in (b"", b"{}"):
                return web.Response(status=500, text="Internal Server Error")
        return await handler(request)

    return _server(middleware=middleware)


def lifecycle_jumps_back() -> ServerThread:
    shown_done: set[str] = set()
    jumped: set[str] = set()

    def change(request, body, status):
        if body.get("status") != "DONE" or body["id"] in jumped:
            return
        if body["id"] in shown_done:  # the GET after the first DONE goes back a step, once
            jumped.add(body["id"])
            body["status"], body["result"] = "IN_PROGRESS", None
        shown_done.add(body["id"])

    return _server(
        middleware=_rewrite_json(
            lambda r: r.method == "GET" and r.path.startswith(EXPORT_PATH) and "token" not in r.query, change
        )
    )


def lifecycle_steps_back_while_running() -> ServerThread:
    """Once an export was shown IN_PROGRESS, the next read shows it SCHEDULED (once), then it goes on."""
    running: set[str] = set()
    stepped: set[str] = set()

    def change(request, body, status):
        export_id = body.get("id")
        if export_id in running and export_id not in stepped:
            stepped.add(export_id)
            body["status"], body["result"] = "SCHEDULED", None
        elif body.get("status") == "IN_PROGRESS":
            running.add(export_id)

    return _server(
        middleware=_rewrite_json(
            lambda r: r.method == "GET" and r.path.startswith(EXPORT_PATH) and "token" not in r.query, change
        )
    )


def endpoint_ignores_credentials() -> ServerThread:
    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.method == "GET" and request.path == "/v1/exports" and "X-App-Id" not in request.headers:
            request = request.clone(headers={**request.headers, "X-App-Id": "anyone", "X-App-Token": "anything"})
        elif request.method == "GET" and request.path == "/v1/exports":
            request = request.clone(
                headers={
                    **request.headers,
                    "X-App-Token": "anything",
                    "X-App-Id": request.headers["X-App-Id"] + "-trusted",
                }
            )
        return await handler(request)

    return _server(middleware=middleware)


class LeakyStore(MemoryStore):
    """Lists every app's records, whoever asks."""

    def __init__(self) -> None:
        super().__init__()
        self.apps: set[str] = set()

    async def put(self, tenant, kind, key, record):
        self.apps.add(tenant)
        await super().put(tenant, kind, key, record)

    async def add(self, tenant, kind, key, record, *, keep=None):
        self.apps.add(tenant)
        return await super().add(tenant, kind, key, record, keep=keep)

    # MemoryStore's methods by name: `super()` cannot be called in a comprehension (its own scope)
    async def page(self, tenant, kind, index, *, reverse, offset, limit):
        return [
            record
            for owner in sorted(self.apps)
            for record in await MemoryStore.page(self, owner, kind, index, reverse=reverse, offset=0, limit=10**9)
        ]

    async def count(self, tenant, kind):
        return sum([await MemoryStore.count(self, owner, kind) for owner in sorted(self.apps)])

    async def get(self, tenant, kind, key):
        for owner in sorted(self.apps):
            found = await MemoryStore.get(self, owner, kind, key)
            if found is not None:
                return found
        return None


def list_leaks_other_apps() -> ServerThread:
    return _server(store=LeakyStore())


class ListLeakyStore(LeakyStore):
    """Only the list leaks: a read by id is the owner's alone."""

    async def get(self, tenant, kind, key):
        return await MemoryStore.get(self, tenant, kind, key)


def only_the_list_leaks() -> ServerThread:
    return _server(store=ListLeakyStore())


def wrong_token_accepted() -> ServerThread:
    """List exports refuses a request without credentials, but takes a known app id with any token."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.method == "GET" and request.path == "/v1/exports" and "X-App-Id" in request.headers:
            request = request.clone(
                headers={
                    **request.headers,
                    "X-App-Token": "anything",
                    "X-App-Id": request.headers["X-App-Id"] + "-trusted",
                }
            )
        return await handler(request)

    return _server(middleware=middleware)


def delete_keeps_the_export() -> ServerThread:
    """DELETE answers 204 and deletes nothing."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.method == "DELETE" and request.path.startswith(EXPORT_PATH):
            return web.Response(status=204)
        return await handler(request)

    return _server(middleware=middleware)


def _download(transform: Callable[[str], str], content_type: str = "text/plain") -> ServerThread:
    """A get-export handler whose download answer is rewritten (buffered, not streamed)."""
    vendor = Voucherify()
    handlers = vendor.handlers()
    original = handlers["get-export"]

    async def get_export(call):
        if "token" not in call.inputs.query:
            return await original(call)
        service = call.services.exports
        record = await service.for_download(call.owners, call.inputs.path["exportId"], call.inputs.query["token"])
        text = b"".join((await service.csv(call.owners, record))()).decode("utf-8")
        return web.Response(text=transform(text), content_type=content_type)

    vendor.handlers = lambda: {**handlers, "get-export": get_export}
    return _server(vendor=vendor)


def download_as_text_csv() -> ServerThread:
    return _download(lambda text: text, content_type="text/csv")


def download_without_header() -> ServerThread:
    return _download(lambda text: text.split("\r\n", 1)[1] if "\r\n" in text else "")


def _swap_first_columns(text: str) -> str:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out = io.StringIO(newline="")
    csv.writer(out).writerows([row[1::-1] + row[2:] for row in rows])
    return out.getvalue()


def header_fields_reordered() -> ServerThread:
    """Every requested field is there, with its values, but the first two columns change places."""
    return _download(_swap_first_columns)


def _rows(change: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[str], str]:
    def transform(text: str) -> str:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        out = io.StringIO(newline="")
        csv.writer(out).writerows(rows[:1] + change(rows[1:]))
        return out.getvalue()

    return transform


def rows_with_an_extra_value() -> ServerThread:
    return _download(_rows(lambda rows: [row + ["extra"] for row in rows]))


def rows_in_reverse_order() -> ServerThread:
    return _download(_rows(lambda rows: rows[::-1]))


def filter_ignored() -> ServerThread:
    server = _server()
    exports = services_of(server.app).exports
    original = exports.csv

    async def csv(vendor, record):
        return await original(vendor, replace(record, query=replace(record.query, filters=None)))

    exports.csv = csv
    return server


def token_checked_only_without_key(key_header: str) -> Callable:
    """A middleware for a download checked by its token only when no key (`key_header`) is sent: with a
    key, any token opens the export named in the path."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if "token" in request.query and key_header in request.headers:
            exports = services_of(request.app).exports
            for part in request.path.split("/"):
                try:
                    _, record = await exports.find(part)
                except ApiError:
                    continue
                request = request.clone(rel_url=request.rel_url.update_query(token=record.token))
                break
        return await handler(request)

    return middleware


def download_token_unchecked_with_key() -> ServerThread:
    return _server(middleware=token_checked_only_without_key("X-App-Token"))


DEFECTS = [
    Defect(
        "status_outside_enum",
        "create answers status QUEUED (not in the enum)",
        "response_schema_conformance",
        ("response_schema_conformance",),
        status_outside_enum,
        ("create-export",),
        title=r"Response violates schema",
    ),
    Defect(
        "missing_required_field",
        "list exports omits the required `total`",
        "response_schema_conformance",
        ("response_schema_conformance",),
        missing_required_field,
        title=r"Response violates schema",
    ),
    Defect(
        "server_error_on_empty_body",
        "create orders export answers 500 to an empty body",
        "not_a_server_error",
        ("not_a_server_error",),
        server_error_on_empty_body,
        ("create-order-export",),
        title=r"Server error",
    ),
    Defect(
        "download_as_text_csv",
        "the download is served as text/csv",
        "csv_download",
        ("csv_download",),
        download_as_text_csv,
        title=r"The download is served as text/csv, not text/plain",
    ),
    Defect(
        "download_without_header",
        "the download has no header row",
        "csv_download",
        ("csv_download",),
        download_without_header,
        title=r"The header row is not the requested fields in order",
    ),
    Defect(
        "lifecycle_jumps_back",
        "a DONE export is reported IN_PROGRESS again",
        "export_lifecycle",
        ("export_lifecycle",),
        lifecycle_jumps_back,
        title=r"Export status moved backwards: DONE → IN_PROGRESS",
    ),
    Defect(
        "lifecycle_steps_back_while_running",
        "an IN_PROGRESS export is reported SCHEDULED again",
        "export_lifecycle",
        ("export_lifecycle",),
        lifecycle_steps_back_while_running,
        title=r"Export status moved backwards: IN_PROGRESS → SCHEDULED",
    ),
    Defect(
        "download_token_unchecked_with_key",
        "the download checks its token only when no key is sent",
        "csv_download",
        ("csv_download",),
        download_token_unchecked_with_key,
        title=r"download with the key and a wrong token: expected 401, got 200",
    ),
    Defect(
        "header_fields_reordered",
        "the download's columns are the requested fields in another order",
        "csv_download",
        ("csv_download",),
        header_fields_reordered,
        title=r"The header row is not the requested fields in order",
    ),
    Defect(
        "rows_with_an_extra_value",
        "each row of the download has one value more than the header",
        "csv_download",
        ("csv_download",),
        rows_with_an_extra_value,
        title=r"Row \d+ has \d+ values for \d+ fields",
    ),
    Defect(
        "rows_in_reverse_order",
        "the download's rows ignore the requested order",
        "csv_download",
        ("csv_download",),
        rows_in_reverse_order,
        title=r"Rows are not in the requested order -created_at",
    ),
    Defect(
        "filter_ignored",
        "the CSV ignores the export's filters",
        "csv_download",
        ("csv_download",),
        filter_ignored,
        title=r"The status filter is ignored",
    ),
    Defect(
        "error_without_request_id",
        "error bodies lack request_id",
        "error_shape",
        ("error_shape",),
        error_without_request_id,
        title=r"Error body is not the vendor's error object",
    ),
    Defect(
        "endpoint_ignores_credentials",
        "list exports answers without (or with wrong) credentials",
        "auth_required",
        ("auth_required",),
        endpoint_ignores_credentials,
        title=r"GET /v1/exports without credentials: expected 401, got 200",
    ),
    Defect(
        "delete_keeps_the_export",
        "DELETE answers 204 but the export stays",
        "export_lifecycle",
        ("export_lifecycle",),
        delete_keeps_the_export,
        title=r"get a deleted export: expected 404, got 200",
    ),
    Defect(
        "wrong_token_accepted",
        "list exports takes a known app id with a wrong token",
        "auth_required",
        ("auth_required",),
        wrong_token_accepted,
        title=r"GET /v1/exports with a wrong token: expected 401, got 200",
    ),
    Defect(
        "only_the_list_leaks",
        "list exports shows every app's exports, a read by id does not",
        "tenant_isolation",
        ("tenant_isolation",),
        only_the_list_leaks,
        title=r"Another app's list shows the export",
    ),
    Defect(
        "list_leaks_other_apps",
        "list exports shows every app's exports",
        "tenant_isolation",
        ("tenant_isolation",),
        list_leaks_other_apps,
        title=r"Another app can read the export \(status 200\)",
    ),
]
