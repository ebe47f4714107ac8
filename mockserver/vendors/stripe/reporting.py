"""Stripe Reporting beyond the generic engine: a run's report type, its parameters and its CSV; the
report types; the account's files.

The engine (schemas/stripe/overlay.yaml) serves a run once made: retrieving it (`status`), listing
runs (`list`), its File (`file-document`, read by `file`) and the File's contents (`download`), with
Stripe's 404s. Python stays for what a document cannot say: a run's parameters and columns depend on
its report type (report-types.yaml: read_parameters checks them against the data's availability and
time zones), its rows are written as Stripe's reports are (csv.py), a test-mode key sees no live-only
type, and the answers' `livemode` and a File's `title` (its report type's name). The File of run
`frr_X` is `file_X`; it exists once the run has succeeded, and its contents download with the same
secret key, from the mock's own address (Stripe serves them from its files host).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ...control.prefer import NOTHING, PREFER, creates_export
from ...exports import ExportRecord, ExportService, Query
from ...respond import json_response
from ..base import Call, Handler
from ..openapi.paging import id_page
from .csv import report_csv
from .objects import missing
from .report_types import ReportType, live_only, read_parameters, report_types, run_of

if TYPE_CHECKING:  # the types only: a vendor module loads without the server core
    from ...services import Services
    from ..openapi.behaviour import Exports

FILES_PURPOSE = "finance_report_run"  # the purpose of every file the mock makes


class Reporting:
    def __init__(self, exports: Exports) -> None:
        self.exports = exports
        self.types: Mapping[str, ReportType] = report_types(exports.spec, exports.model)

    def handlers(self) -> dict[str, Handler]:
        @creates_export
        async def create(call: Call) -> web.Response:
            return await self.create(call)

        return {
            "create-report-run": create,
            "list-report-types": self.list_types,
            "retrieve-report-type": self.retrieve_type,
            "list-files": self.list_files,
        }

    # -- report runs -----------------------------------------------------------
    async def create(self, call: Call) -> web.Response:
        body = call.inputs.body
        report = self.types[body["report_type"]]  # the contract has admitted only known types
        if report.live_only and not livemode(call):
            raise live_only("report_type")
        parameters = read_parameters(report, body["parameters"], call.services.clock.now())
        prefer = call.request.get(PREFER, NOTHING)  # per-run knobs from the Prefer header
        service: ExportService = call.services.exports
        record = await service.create(
            call.store,
            report.id,
            parameters=parameters,
            query=Query(fields=tuple(run_of(report, parameters).columns)),
            id_prefix=self.exports.api.id_prefix,
            rows=prefer.rows,
            mode=prefer.lifecycle,
            outcome=prefer.outcome or "done",
        )
        return await self.exports.answer(call.operation, call, record)

    def _csv(self, record: ExportRecord, services: Services) -> Callable[[], Iterator[bytes]]:
        """What writes a run's CSV (the engine calls it off the event loop, and spools what it writes)."""
        report = self.types[record.exported_object]
        service: ExportService = services.exports
        return partial(
            report_csv,
            report,
            run_of(report, record.parameters),
            self.exports.model,
            seed=service.seed,
            app_id=record.app_id,
            locale=service.locale,
            now=record.created_at,
            rows=record.rows,
        )

    async def extend_view(self, call: Call, record: ExportRecord | Mapping[str, Any], view: dict[str, Any]) -> None:
        view["livemode"] = livemode(call)

    async def extend_file(self, call: Call, record: ExportRecord, view: dict[str, Any]) -> None:
        """A File's title: its report type's name and the run."""
        view["title"] = f"{self.types[record.exported_object].name} ({record.id})"

    # -- report types ----------------------------------------------------------
    async def list_types(self, call: Call) -> web.Response:
        now, live = call.services.clock.now(), livemode(call)
        return json_response(
            {
                "object": "list",
                "data": [t.resource(now, live) for t in self.types.values() if live or not t.live_only],
                "has_more": False,
                "url": call.operation.path,
            }
        )

    async def retrieve_type(self, call: Call) -> web.Response:
        type_id = call.inputs.path["report_type"]
        report = self.types.get(type_id)
        if report is None:
            raise missing("report type", type_id, "id")
        if report.live_only and not livemode(call):
            raise live_only()
        return json_response(report.resource(call.services.clock.now(), livemode(call)))

    # -- files -----------------------------------------------------------------
    async def list_files(self, call: Call) -> web.Response:
        """The account's files, newest first: its succeeded runs' (none for another purpose)."""
        query, exports = call.inputs.query, self.exports
        records = await call.services.exports.list(call.store) if query.get("purpose") in (None, FILES_PURPOSE) else []
        files = [(int(r.phase_at), exports.file_id(r.id), r) for r in records if r.phase == "done"]
        page, more = id_page(files, query, exports.api.paging, "file", query[exports.api.paging.limit])
        return json_response(
            {
                "object": "list",
                "data": [await exports.file_answer(record, call) for record in page],
                "has_more": more,
                "url": call.operation.path,
            }
        )


def livemode(call: Call) -> bool:
    return "_live_" in (call.app_id or "")
