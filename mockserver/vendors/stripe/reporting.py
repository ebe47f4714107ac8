"""Stripe Reporting on top of the neutral ExportService: report runs (create,
retrieve, list), report types, and the File a succeeded run's `result` is,
with its contents.

A run is an export record whose exported object is its report type and
whose parameters are the run's, checked and echoed. Lifecycle phases read
as Stripe's statuses: scheduled and running are both `pending`, then
`succeeded` (with `result`) or `failed` (with `error`). The file of run
`frr_X` is `file_X`; it exists once the run has succeeded, and its contents
download with the same secret key, from the mock's own address (Stripe
serves them from its files host). Its `size` is the CSV's, counted once in
a worker thread while the file is spooled for the downloads (spool.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ... import data
from ...control.prefer import NOTHING, PREFER, creates_export
from ...errors import ApiError
from ...exports import ExportService, Query
from ...respond import json_response, origin, stream
from ...spec import Spec
from ...store import TenantStore
from ..base import Call, Handler
from ..openapi.paging import Paging, id_page
from ..openapi.spool import Spool
from .csv import report_csv
from .links import links_of
from .objects import FILE_PREFIX, RUN_PREFIX, file_id_of, missing
from .report_types import DAY, ReportType, live_only, load_report_types, read_parameters, run_of

if TYPE_CHECKING:  # the type only: a vendor module loads without the server core
    from ...services import Services


# lifecycle phase → report run status (checked against the schema's enum)
STATUS = {"scheduled": "pending", "running": "pending", "done": "succeeded", "failed": "failed"}
FILE_DAYS = 365  # how long after the run a result file is kept (`expires_at`)
FAILED = "The report run failed: the mock was asked to fail it (Prefer: outcome=error)."


class Reporting:
    def __init__(self, spec: Spec, model: data.DataModel, paging: Paging) -> None:
        statuses = spec.schema("ReportRunStatus")["enum"]
        if set(STATUS.values()) != set(statuses):
            raise ValueError(f"lifecycle statuses {sorted(set(STATUS.values()))} differ from the schema's {statuses}")
        self.model = model
        self.paging = paging  # its lists' (x-mock.paging): by id, `starting_after`/`ending_before`
        self.types: dict[str, ReportType] = load_report_types(spec, dict(model.objects))
        self.spool = Spool()  # each run's CSV, made once: its size and its downloads

    def handlers(self) -> dict[str, Handler]:
        @creates_export
        async def create(call: Call) -> web.Response:
            return await self.create(call)

        return {
            "create-report-run": create,
            "retrieve-report-run": self.retrieve,
            "list-report-runs": self.list,
            "list-report-types": self.list_types,
            "retrieve-report-type": self.retrieve_type,
            "retrieve-file": self.retrieve_file,
            "download-file": self.download,
        }

    # -- report runs -----------------------------------------------------------
    async def create(self, call: Call) -> web.Response:
        body = call.inputs.body
        report = self.types[body["report_type"]]  # the contract has admitted only known types
        if report.live_only and not _livemode(call):
            raise live_only("report_type")
        parameters = read_parameters(report, body["parameters"], call.services.clock.now())
        prefer = call.request.get(PREFER, NOTHING)  # per-run knobs from the Prefer header
        service: ExportService = call.services.exports
        record = await service.create(
            call.store,
            report.id,
            parameters=parameters,
            query=Query(fields=tuple(run_of(report, parameters).columns)),
            id_prefix=RUN_PREFIX,
            rows=prefer.rows,
            mode=prefer.lifecycle,
            outcome=prefer.outcome or "done",
        )
        return json_response(await self._render(record, call))

    async def retrieve(self, call: Call) -> web.Response:
        return json_response(await self._render(await self._run(call, call.inputs.path["report_run"]), call))

    async def list(self, call: Call) -> web.Response:
        records = await call.services.exports.list(call.store)
        runs = [(int(record["created_at"]), record["id"], record) for record in records]
        page, has_more = self.page(runs, call, "report run")
        return json_response(
            {
                "object": "list",
                "data": [await self._render(record, call) for record in page],
                "has_more": has_more,
                "url": "/v1/reporting/report_runs",
            }
        )

    def page(self, items: list[tuple[int, str, Any]], call: Call, noun: str) -> tuple[list, bool]:
        """One page of a list's (created, id, item) triples, as the request asks: (items, has_more)."""
        query = call.inputs.query
        return id_page(items, query, self.paging, noun, query[self.paging.limit])

    # -- report types ----------------------------------------------------------
    async def list_types(self, call: Call) -> web.Response:
        now, live = call.services.clock.now(), _livemode(call)
        return json_response(
            {
                "object": "list",
                "data": [t.resource(now, live) for t in self.types.values() if live or not t.live_only],
                "has_more": False,
                "url": "/v1/reporting/report_types",
            }
        )

    async def retrieve_type(self, call: Call) -> web.Response:
        type_id = call.inputs.path["report_type"]
        report = self.types.get(type_id)
        if report is None:
            raise missing("report type", type_id, "id")
        if report.live_only and not _livemode(call):
            raise live_only()
        return json_response(report.resource(call.services.clock.now(), _livemode(call)))

    # -- files -----------------------------------------------------------------
    async def retrieve_file(self, call: Call) -> web.Response:
        return json_response(await self.file(await self.succeeded(call, call.store, call.inputs.path["file"]), call))

    async def download(self, call: Call) -> web.StreamResponse:
        return await self.send(call, await self.succeeded(call, call.store, call.inputs.path["file"]))

    async def send(self, call: Call, record: dict) -> web.StreamResponse:
        """The run's CSV as the file's contents."""
        return await stream(
            call.request,
            self._csv(record, call.services),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{_file_name(record)}"'},
        )

    async def files(self, call: Call) -> list[dict]:
        """The account's succeeded runs: the records its files are made from."""
        return [record for record in await call.services.exports.list(call.store) if record["phase"] == "done"]

    # -- helpers ---------------------------------------------------------------
    async def _run(self, call: Call, run_id: str, *, polled: bool = True) -> dict:
        try:
            return await call.services.exports.get(call.store, run_id, polled=polled)  # this key's runs only
        except ApiError as exc:
            if exc.status == 404:
                raise missing("report run", run_id, "id") from None
            raise

    async def succeeded(self, call: Call, store: TenantStore, file_id: str, param: str = "file") -> dict:
        """The succeeded run of `store`'s account whose result `file_id` is; 404 for any other file id."""
        if file_id.startswith(FILE_PREFIX):
            try:
                record = await call.services.exports.get(store, RUN_PREFIX + file_id[len(FILE_PREFIX) :], polled=False)
            except ApiError:
                record = None
            if record is not None and record["phase"] == "done":
                return record
        raise missing("file", file_id, param)

    async def _render(self, record: dict, call: Call) -> dict[str, Any]:
        done = record["phase"] == "done"
        return {
            "id": record["id"],
            "object": "reporting.report_run",
            "created": int(record["created_at"]),
            "error": FAILED if record["phase"] == "failed" else None,
            "livemode": _livemode(call),
            "parameters": record["parameters"],
            "report_type": record["exported_object"],
            "result": await self.file(record, call) if done else None,
            "status": STATUS[record["phase"]],
            "succeeded_at": int(record["phase_at"]) if done else None,
        }

    async def file(self, record: dict, call: Call) -> dict[str, Any]:
        """The File a succeeded run's result is (with the links that point at it)."""
        file_id = file_id_of(record)
        created = int(record["phase_at"])
        links, more = await links_of(call, file_id)
        return {
            "id": file_id,
            "object": "file",
            "created": created,
            "expires_at": created + FILE_DAYS * DAY,
            "filename": _file_name(record),
            "links": {"object": "list", "data": links, "has_more": more, "url": f"/v1/file_links?file={file_id}"},
            "purpose": "finance_report_run",
            "size": await self._size(record, call.services),
            "title": f"{self.types[record['exported_object']].name} ({record['id']})",
            "type": "csv",
            "url": f"{origin(call.request)}/v1/files/{file_id}/contents",
        }

    async def _size(self, record: dict, services: Services) -> int:
        """The CSV's byte size: known, or counted while the spool writes the file downloads will send."""
        key = _spool_key(record)
        size = self.spool.known_size(key)
        if size is None:
            size = await asyncio.get_running_loop().run_in_executor(
                None, self.spool.size, key, self._generate(record, services)
            )
        return size

    def _csv(self, record: dict, services: Services) -> Callable[[], Iterator[bytes]]:
        """What makes the run's CSV, chunk by chunk (called off the event loop by respond.stream): the
        spooled file when it is kept, else the same bytes generated again."""
        key, generate = _spool_key(record), self._generate(record, services)
        return lambda: self.spool.chunks(key) or generate()

    def _generate(self, record: dict, services: Services) -> Callable[[], Iterator[bytes]]:
        report = self.types[record["exported_object"]]
        service: ExportService = services.exports
        return partial(
            report_csv,
            report,
            run_of(report, record["parameters"]),
            self.model,
            seed=service.seed,
            app_id=record["app_id"],
            locale=service.locale,
            now=record["created_at"],
            rows=record["rows"],
        )


def _spool_key(record: dict) -> str:
    """Everything a run's CSV is made from besides the server's own settings (ids may come again after a reset)."""
    return json.dumps(
        [
            record["app_id"],
            record["id"],
            record["exported_object"],
            record["parameters"],
            record["created_at"],
            record["rows"],
        ],
        sort_keys=True,
    )


def _livemode(call: Call) -> bool:
    return "_live_" in (call.app_id or "")


def _file_name(record: dict) -> str:
    return f"{FILE_PREFIX}{record['id'][len(RUN_PREFIX) :]}.csv"
