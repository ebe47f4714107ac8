"""Chargebee's export operations on top of the neutral ExportService: trigger
(every operation with `x-exported-object` in the spec: the official SDK's
eighteen), retrieve, and the download its `download_url` names.

A trigger is idempotent, as Chargebee's are: within Chargebee's 30-minute
idempotency window, a request to the same operation with the same
`chargebee-idempotency-key` and the same parameters answers the export the
first one made, with `chargebee-idempotency-replayed: true`, and makes no
other. Any other request is a new one (keys are per site and operation). Keys
live with their exports (a deleted export forgets its key).

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

import math
from collections.abc import Iterator

from aiohttp import web

from ...control.prefer import NOTHING, PREFER, creates_export
from ...data.archive import zipped
from ...errors import ApiError
from ...exports import ExportService
from ...respond import json_response, origin, stream
from ...spec import Operation, Spec
from ..base import Call, Handler
from .filters import filter_params, report_period, translate

VENDOR = "chargebee"
FORM = "application/x-www-form-urlencoded"
# lifecycle phase → Chargebee export status (checked against the schema's enum)
STATUS = {"scheduled": "in_process", "running": "in_process", "done": "completed", "failed": "failed"}
VALID_SECONDS = 4 * 3600  # how long a download URL works after completion
MAX_IN_PROCESS = 5  # Chargebee processes at most 5 exports of a site at a time (time lifecycle only)
ID_PREFIX = "__test__"  # Chargebee's test-site ids (the mock is a test site)
IDEMPOTENCY_KEY = "chargebee-idempotency-key"  # what the SDK sends (Chargebee.idempotency_header)
REPLAYED = "chargebee-idempotency-replayed"  # what it reads (Response.IDEMPOTENCY_REPLAYED_HEADER)
MAX_KEY_CHARS = 100  # Chargebee's documented limit
IDEMPOTENCY_WINDOW = 30 * 60  # seconds a key replays its request


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
        self.fields = {
            op_id: list(models.object(op.raw["x-exported-object"]).default_fields)
            for op_id, op in self.triggers.items()
        }

    def handlers(self) -> dict[str, Handler]:
        return {
            **{op_id: self._trigger(op) for op_id, op in self.triggers.items()},
            "retrieve-export": self.retrieve,
            "download-export": self.download,
        }

    def _trigger(self, op: Operation) -> Handler:
        exported_object = op.raw["x-exported-object"]
        period = op.raw.get("x-report-period")  # the date attribute report_from/to_month/year bound
        required = op.body_schemas.get(FORM, {}).get("required") or []

        @creates_export
        async def trigger(call: Call) -> web.Response:
            body = call.inputs.body or {}
            missing = [name for name in required if name not in body]  # an empty body skipped the schema check
            if missing:
                raise ApiError(
                    400, "param_wrong_value", "Missing parameter", f"{missing[0]} : cannot be blank", param=missing[0]
                )
            filters = translate(self.filters[op.operation_id], body)
            if period:  # a period that ends before it starts matches nothing, as a reversed `between` does
                filters.update(report_period(period, body))
            service: ExportService = call.services.exports
            key = call.request.headers.get(IDEMPOTENCY_KEY)
            if key is not None:
                replayed = await _replay(service, call, key, exported_object, body)
                if replayed is not None:
                    return json_response({"export": render(replayed, call.request)}, headers={REPLAYED: "true"})
            busy = await service.in_process(call.store)
            if len(busy) >= MAX_IN_PROCESS:
                raise ApiError(
                    429,
                    "api_request_limit_exceeded",
                    "Too many exports",
                    f"Sorry, {len(busy)} exports are already in process; at most {MAX_IN_PROCESS} "
                    "are processed at a time. Retry once one has completed",
                    headers={"Retry-After": str(_until_one_completes(service, busy))},
                )
            prefer = call.request.get(PREFER, NOTHING)  # per-export knobs from the Prefer header
            query = {"fields": self.fields[op.operation_id], "order": None, "filters": filters, "scope": None}
            parameters = {IDEMPOTENCY_KEY: key, "request": body} if key is not None else {}
            record = await service.create(
                call.store,
                exported_object,
                parameters=parameters,
                query=query,
                id_prefix=ID_PREFIX,
                rows=prefer.rows,
                mode=prefer.lifecycle,
                outcome=prefer.outcome or "done",
            )
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

        return await stream(
            call.request,
            body,
            content_type="application/zip",
            charset=None,
            headers={"Content-Disposition": f'attachment; filename="{name}_{export_id}.zip"'},
        )


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
        url = f"{origin(request)}/api/v2/exports/{record['id']}/download?token={record['token']}"
        export["download"] = {"download_url": url, "valid_till": _valid_till(record), "mime_type": "application/zip"}
    return export


async def _replay(service: ExportService, call: Call, key: str, exported_object: str, body: dict) -> dict | None:
    """The export a request like this one (operation, key, parameters) made within the window."""
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise ApiError(
            400,
            "invalid_request",
            "Invalid idempotency key",
            f"{IDEMPOTENCY_KEY} must be 1 to {MAX_KEY_CHARS} characters",
            param=IDEMPOTENCY_KEY,
        )
    since = call.services.clock.now() - IDEMPOTENCY_WINDOW
    for record in await service.list(call.store):
        if (
            record["parameters"].get(IDEMPOTENCY_KEY) == key
            and record["exported_object"] == exported_object
            and record["parameters"].get("request") == body
            and record["created_at"] >= since
        ):
            return record
    return None


def _valid_till(record: dict) -> int:
    """Completion (the time the export entered `done`) plus the validity window."""
    return int(record["phase_at"] + VALID_SECONDS)


def _refused(message: str) -> ApiError:
    return ApiError(403, "api_authorization_failed", "Download refused", message)


def _until_one_completes(service: ExportService, busy: list[dict]) -> int:
    """Whole seconds until the first of the exports in process completes (at least 1). Chargebee documents
    the limit but no wait; the SDK's retry (`update_retry_config`) sleeps what Retry-After says, so the
    true wait makes its retry land as soon as there is room, and no sooner."""
    now = service.clock.now()
    first = min(service.lifecycle.finishes_at(record) for record in busy)
    return max(1, math.ceil(round(first - now, 3)))  # rounded: float noise never adds a second
