"""Deliberately broken Stripe Reporting mocks: the real one with exactly one
defect each, and the check of the Stripe dialect that must catch it
(tests/test_contract_stripe.py runs them)."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from mockserver.app import Settings
from mockserver.testing import ServerThread
from mockserver.vendors.stripe import Stripe
from mockserver.vendors.stripe.report_types import run_of
from tests.broken import Defect, _rewrite_json

KEYS = ("sk_test_contractMain", "sk_test_contractOther")
RUNS = "/v1/reporting/report_runs"


def _server(vendor: Stripe | None = None, middleware=None) -> ServerThread:
    server = ServerThread(Settings(port=0, lifecycle="poll"), vendors=[vendor or Stripe(keys=KEYS)])
    if middleware is not None:
        server.app.middlewares.insert(0, middleware)  # outermost: it sees the final answer, errors included
    return server


def _with_csv(change) -> Stripe:
    """A vendor whose files are made from a changed Run (`change(report, run) → run`)."""
    vendor = Stripe(keys=KEYS)
    reporting = vendor.reporting
    original = reporting._csv

    def made(record, services):
        report = reporting.types[record.exported_object]
        changed = change(report, run_of(report, record.parameters))
        parameters = {
            **record.parameters,
            "interval_start": changed.interval_start,
            "interval_end": changed.interval_end,
            "columns": list(changed.columns),
        }
        return original(replace(record, parameters=parameters), services)

    reporting._csv = made
    return vendor


def succeeded_without_result() -> ServerThread:
    def change(request, body, status):
        if body.get("status") == "succeeded":
            body["result"] = None

    return _server(middleware=_rewrite_json(lambda r: r.method == "GET" and r.path.startswith(RUNS + "/"), change))


def columns_ignored() -> ServerThread:
    return _server(_with_csv(lambda report, run: replace(run, columns=report.default_columns)))


def interval_ignored() -> ServerThread:
    return _server(_with_csv(lambda report, run: replace(run, interval_start=report.available(run.interval_end)[0])))


def flat_error_object() -> ServerThread:
    def change(request, body, status):
        if status >= 400 and isinstance(body.get("error"), dict):
            body.update(body.pop("error"))

    return _server(middleware=_rewrite_json(lambda r: True, change))


class OneAccount(Stripe):
    """Every pinned key is the same account."""

    async def authenticate(self, request: web.Request, operation, store):
        key = await super().authenticate(request, operation, store)
        return KEYS[0] if key else key


def keys_share_one_account() -> ServerThread:
    return _server(OneAccount(keys=KEYS))


class OpenDownloads(Stripe):
    """File contents download without a key."""

    async def authenticate(self, request: web.Request, operation, store):
        if operation.operation_id == "download-file" and "Authorization" not in request.headers:
            return KEYS[0]
        return await super().authenticate(request, operation, store)


def downloads_without_key() -> ServerThread:
    return _server(OpenDownloads(keys=KEYS))


DEFECTS = [
    Defect(
        "succeeded_without_result",
        "a succeeded run is shown with result null",
        "export_lifecycle",
        ("export_lifecycle",),
        succeeded_without_result,
    ),
    Defect(
        "columns_ignored",
        "the CSV has the default columns whatever was asked",
        "csv_download",
        ("csv_download",),
        columns_ignored,
    ),
    Defect(
        "interval_ignored",
        "the CSV holds rows from before interval_start",
        "csv_download",
        ("csv_download",),
        interval_ignored,
    ),
    Defect(
        "flat_error_object", "errors are not wrapped in `error`", "error_shape", ("error_shape",), flat_error_object
    ),
    Defect(
        "keys_share_one_account",
        "every key sees every run",
        "tenant_isolation",
        ("tenant_isolation",),
        keys_share_one_account,
    ),
    Defect(
        "downloads_without_key",
        "file contents download without a key",
        "auth_required",
        ("auth_required",),
        downloads_without_key,
    ),
]
