"""Chargebee's export operations on top of the neutral ExportService: trigger
(orders, customers, subscriptions, invoices — each operation with
`x-exported-object` in the spec), retrieve, and the download its
`download_url` names.

Lifecycle phases read as Chargebee statuses: scheduled and running are both
`in_process`, then `completed` or `failed`. A completed export's download
works without the API key (the URL carries the export's token, as Chargebee's
pre-signed URLs do) until `valid_till`: completion + VALID_SECONDS on the
mock clock, Chargebee's documented four hours. After that, or with a wrong
token, the download answers 403, as an expired pre-signed URL does.

Chargebee processes at most five exports of a site at a time and refuses a
sixth with 429. The mock does the same where exports finish by themselves
(`time` lifecycle); under `poll` or `instant` the client moves them, so an
export it never polls would block it for good, and the limit is off.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web

from ...control.prefer import NOTHING, PREFER, creates_export
from ...errors import ApiError
from ...exports import ExportService
from ...respond import json_response, stream
from ...spec import Operation, Spec
from ..base import Call, Handler
from .archive import zipped
from .filters import filter_params, translate

VENDOR = "chargebee"
FORM = "application/x-www-form-urlencoded"
# lifecycle phase → Chargebee export status (checked against the schema's enum)
STATUS = {"scheduled": "in_process", "running": "in_process", "done": "completed", "failed": "failed"}
VALID_SECONDS = 4 * 3600  # how long a download URL works after completion
MAX_IN_PROCESS = 5  # Chargebee processes at most 5 exports of a site at a time (time lifecycle only)
ID_PREFIX = "__test__"  # Chargebee's test-site ids (the mock is a test site)


class Exports:
    def __init__(self, spec: Spec, models) -> None:
        statuses = spec.schema("ExportStatus")["enum"]
        if set(STATUS.values()) != set(statuses):
            raise ValueError(f"lifecycle statuses {sorted(set(STATUS.values()))} differ from the schema's {statuses}")
        self.triggers = {op.operation_id: op for op in spec.operations if "x-exported-object" in op.raw}
        self.filters = {}
        for op in self.triggers.values():
            exported = models.object(op.raw["x-exported-object"])
            params = filter_params(op.body_schemas.get(FORM, {}))
            stray = [p.attribute for p in params if p.attribute not in exported.attributes]
            if stray:
                raise ValueError(f"{op.operation_id} filters {stray}, which {exported.name} rows lack")
            self.filters[op.operation_id] = params
        self.fields = {op_id: list(models.object(op.raw["x-exported-object"]).default_fields)
                       for op_id, op in self.triggers.items()}

    def handlers(self) -> dict[str, Handler]:
        return {**{op_id: self._trigger(op) for op_id, op in self.triggers.items()},
                "retrieve-export": self.retrieve, "download-export": self.download}

    def _trigger(self, op: Operation) -> Handler:
        exported_object = op.raw["x-exported-object"]

        @creates_export
        async def trigger(call: Call) -> web.Response:
            filters = translate(self.filters[op.operation_id], call.inputs.body)
            service: ExportService = call.services.exports
            busy = await service.in_process(call.store)
            if busy >= MAX_IN_PROCESS:
                raise ApiError(429, "api_request_limit_exceeded", "Too many exports",
                               f"Sorry, {busy} exports are already in process; at most {MAX_IN_PROCESS} are "
                               "processed at a time. Retry once one has completed", headers={"Retry-After": "10"})
            prefer = call.request.get(PREFER, NOTHING)  # per-export knobs from the Prefer header
            query = {"fields": self.fields[op.operation_id], "order": None, "filters": filters, "scope": None}
            record = await service.create(call.store, exported_object, parameters={}, query=query,
                                          id_prefix=ID_PREFIX, rows=prefer.rows, mode=prefer.lifecycle,
                                          outcome=prefer.outcome or "done")
            return json_response({"export": render(record, call.request)})

        return trigger

    async def retrieve(self, call: Call) -> web.Response:
        export_id = call.inputs.path["export-id"]
        record = await call.services.exports.get(call.store, export_id)
        return json_response({"export": render(record, call.request)})

    async def download(self, call: Call) -> web.StreamResponse:
        service: ExportService = call.services.exports
        export_id = call.inputs.path["export-id"]
        try:
            record = await service.for_download(call.owners, export_id, call.inputs.query["token"])
        except ApiError:
            record = None
        if record is None:
            raise _refused("This download URL is wrong, or its export is unknown or not completed")
        valid_till = _valid_till(record)
        if call.services.clock.now() > valid_till:
            raise _refused(f"The download URL expired at {valid_till} (its valid_till); trigger a new export")
        name = record["exported_object"]
        csv = await service.csv(call.owners, record)

        def body() -> Iterator[bytes]:  # zipped on the stream's producer thread, as the CSV is made
            return zipped([(f"{name}.csv", csv())], modified=record["phase_at"])

        return await stream(call.request, body, content_type="application/zip", charset=None,
                            headers={"Content-Disposition": f'attachment; filename="{name}_{export_id}.zip"'})


def render(record: dict, request: web.Request) -> dict:
    """An export record as Chargebee's export resource."""
    export = {
        "id": record["id"],
        "operation_type": record["exported_object"],
        "mime_type": "zip",
        "status": STATUS[record["phase"]],
        "created_at": int(record["created_at"]),
        "object": "export",
    }
    if record["phase"] == "done":
        url = f"{request.url.origin()}/api/v2/exports/{record['id']}/download?token={record['token']}"
        export["download"] = {"download_url": url, "valid_till": _valid_till(record), "mime_type": "application/zip"}
    return export


def _valid_till(record: dict) -> int:
    """Completion (the time the export entered `done`) plus the validity window."""
    return int(record["phase_at"] + VALID_SECONDS)


def _refused(message: str) -> ApiError:
    return ApiError(403, "api_authorization_failed", "Download refused", message)
