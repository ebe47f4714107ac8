"""Deliberately broken HubSpot CRM export mocks: the vendor of data (schemas/hubspot/) with exactly
one defect each, and the check of its derived dialect that must catch it (tests/test_contract_hubspot.py
runs them). HubSpot's create answers a task locator; the kit polls its status link to COMPLETE and
downloads `result`, so each step of that journey has a defect here."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mockserver.app import Settings, services_of
from mockserver.exports import KIND
from mockserver.spec import schemas_dir
from mockserver.testing import ServerThread
from mockserver.vendors.openapi import folder_vendor
from tests.broken import Defect, LeakyStore, _rewrite_json

TASKS = "/crm/v3/exports/export/async"
FILES = "/crm/v3/exports/__files/"


def _server(*, store=None, middleware=None) -> ServerThread:
    vendor = folder_vendor(schemas_dir() / "hubspot")()
    kwargs = {"store": store} if store is not None else {}
    server = ServerThread(Settings(port=0, lifecycle="poll", rows=20), vendors=[vendor], **kwargs)
    if middleware is not None:
        server.app.middlewares.insert(0, middleware)  # outermost: it sees the final answer, errors included
    return server


def locator_without_status_link() -> ServerThread:
    """The create answers the task's id but no `links.status` to poll."""

    def change(request, body, status):
        body.pop("links", None)

    return _server(middleware=_rewrite_json(lambda r: r.method == "POST" and r.path == TASKS, change))


def complete_without_result() -> ServerThread:
    """A COMPLETE task status names no file (`result` missing)."""

    def change(request, body, status):
        if body.get("status") == "COMPLETE":
            body.pop("result", None)

    return _server(middleware=_rewrite_json(lambda r: r.method == "GET" and r.path.endswith("/status"), change))


def complete_then_processing() -> ServerThread:
    """The read after a task's first COMPLETE says PROCESSING again (once)."""
    shown: set[str] = set()
    jumped: set[str] = set()

    def change(request, body, status):
        task = request.path.split("/")[-2]  # …/tasks/{taskId}/status
        if body.get("status") != "COMPLETE" or task in jumped:
            return
        if task in shown:
            jumped.add(task)
            body["status"] = "PROCESSING"
            body.pop("result", None)
        shown.add(task)

    return _server(middleware=_rewrite_json(lambda r: r.method == "GET" and r.path.endswith("/status"), change))


def error_without_correlation_id() -> ServerThread:
    """Errors lack HubSpot's `correlationId`."""

    def change(request, body, status):
        if status >= 400:
            body.pop("correlationId", None)

    return _server(middleware=_rewrite_json(lambda r: True, change))


def another_app_reads_the_task() -> ServerThread:
    """A task's status is read by id whoever asks (the store's reads cross apps)."""
    return _server(store=LeakyStore())


def download_token_unchecked() -> ServerThread:
    """The file URL opens with any token: the export's own is put in place of the one presented."""
    server = _server()
    service = services_of(server.app).exports
    original = service.for_download

    async def any_token(vendor, export_id, presented, app=None):
        owner = await vendor.owner(KIND, export_id)
        record = await vendor.tenant(owner).get(KIND, export_id) if owner is not None else None
        return await original(vendor, export_id, record["token"] if record else presented, app)

    service.for_download = any_token
    return server


def _file(change: Callable[[list[str]], list[str]]) -> ServerThread:
    """The download's CSV lines rewritten (`change(lines) → lines`), buffered."""
    server = _server()
    service = services_of(server.app).exports
    original = service.csv

    async def csv(vendor, record):
        produce = await original(vendor, record)

        def changed() -> Iterator[bytes]:
            lines = b"".join(produce()).decode("utf-8").split("\r\n")
            yield "\r\n".join(change(lines)).encode("utf-8")

        return changed

    service.csv = csv
    return server


def header_columns_swapped() -> ServerThread:
    """The header names the first two columns in the other order (the rows keep theirs)."""

    def change(lines: list[str]) -> list[str]:
        first, second, *rest = lines[0].split(",")
        return [",".join([second, first, *rest]), *lines[1:]]

    return _file(change)


DEFECTS = [
    Defect(
        "locator_without_status_link",
        "the create's task locator has no links.status",
        "export_lifecycle",
        ("export_lifecycle",),
        locator_without_status_link,
        title=r"The created export's locator has no links\.status URL",
    ),
    Defect(
        "complete_without_result",
        "a COMPLETE task status has no result URL",
        "export_lifecycle",
        ("export_lifecycle",),
        complete_without_result,
        title=r"A COMPLETE export has no result",
    ),
    Defect(
        "complete_then_processing",
        "a COMPLETE task is reported PROCESSING again",
        "export_lifecycle",
        ("export_lifecycle",),
        complete_then_processing,
        title=r"Export status moved backwards: COMPLETE → PROCESSING",
    ),
    Defect(
        "error_without_correlation_id",
        "error bodies lack correlationId",
        "error_shape",
        ("error_shape",),
        error_without_correlation_id,
        title=r"Error body is not the vendor's error object",
    ),
    Defect(
        "another_app_reads_the_task",
        "another app reads a task's status",
        "tenant_isolation",
        ("tenant_isolation",),
        another_app_reads_the_task,
        title=r"Another app can read the export \(status 200\)",
    ),
    Defect(
        "download_token_unchecked",
        "the file URL opens with a wrong token",
        "csv_download",
        ("csv_download",),
        download_token_unchecked,
        title=r"download with a wrong token: expected 401, got 200",
    ),
    Defect(
        "header_columns_swapped",
        "the file's header swaps its first two columns",
        "csv_download",
        ("csv_download",),
        header_columns_swapped,
        title=r"The header row is not the requested fields in order",
    ),
]
