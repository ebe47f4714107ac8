"""Voucherify's dialect: X-App-Id/X-App-Token (or Bearer) credentials, the
`{code, key, message, details, request_id}` error object, and the export
operations of schemas/voucherify/.

What the schema already says (exported objects, default fields, statuses) is
read from it here once; this module only adds behaviour.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from ..clock import iso
from ..errors import ApiError
from ..exports import ExportService
from ..ids import request_id
from ..respond import json_response, no_content, stream
from ..spec import Operation, Spec, load_spec
from ..validation import Invalid
from .base import Call, Handler, Vendor

# lifecycle phase → Voucherify export status (checked against the schema's enum)
STATUS = {"scheduled": "SCHEDULED", "running": "IN_PROGRESS", "done": "DONE", "failed": "ERROR"}
CSV_TYPE = "text/plain"  # the official SDK refuses text/csv


class Voucherify(Vendor):
    name = "voucherify"
    path_prefix = "/v1/"

    def __init__(self, spec: Spec | None = None, apps: dict[str, str] | None = None) -> None:
        self.spec = spec or load_spec("voucherify")
        self.apps = dict(apps or {})  # pinned app id → token
        statuses = self.spec.schema("ExportStatus")["enum"]
        if set(STATUS.values()) != set(statuses):
            raise ValueError(f"lifecycle statuses {sorted(STATUS.values())} differ from the schema's {statuses}")
        self.status_rank = {status: rank for rank, status in enumerate(statuses)}
        self.parameters = _parameter_schemas(self.spec)

    # -- the Vendor interface ------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        return {
            "create-export": self.create_export,
            "create-order-export": self.create_order_export,
            "export-voucher-transactions": self.export_voucher_transactions,
            "list-exports": self.list_exports,
            "get-export": self.get_export,
            "delete-export": self.delete_export,
        }

    def authenticate(self, request: web.Request, operation: Operation, services: Any) -> str | None:
        if not operation.secured:
            return None
        if self._query_key_offered(request, operation):
            return None  # e.g. a download: its token is checked against the export it opens
        app_id = request.headers.get("X-App-Id", "").strip()
        app_token = request.headers.get("X-App-Token", "").strip()
        bearer = _bearer(request.headers.get("Authorization", ""))
        if app_id and app_token:
            self._check_app_token(app_id, app_token, services)
            return app_id
        if bearer:
            # an OAuth token stands for its app; X-App-Id may name it explicitly
            return app_id or "oauth-" + hashlib.sha256(bearer.encode()).hexdigest()[:16]
        raise ApiError(401, "unauthorized", "Unauthorized",
                       "Send X-App-Id and X-App-Token headers, or Authorization: Bearer <token>")

    def _query_key_offered(self, request: web.Request, operation: Operation) -> bool:
        """Whether the request uses a security alternative that is a query api key."""
        schemes = self.spec.security_schemes
        for requirement in operation.security:
            if requirement and all(schemes[name].get("in") == "query" and schemes[name]["name"] in request.query
                                   for name in requirement):
                return True
        return False

    def _check_app_token(self, app_id: str, app_token: str, services: Any) -> None:
        """Pinned apps need their token; any other app id is bound to the first
        token it is used with, so a wrong token is refused as the real API would."""
        expected = self.apps.get(app_id)
        if expected is None:
            key = f"{self.name}:{app_id}"
            stored = services.store.get(app_id, "credentials", key)
            if stored is None:
                services.store.put(app_id, "credentials", key, {"token": app_token})
                return
            expected = stored["token"]
        if expected != app_token:
            raise ApiError(401, "unauthorized", "Unauthorized", f"Wrong X-App-Token for app {app_id}")

    def error_body(self, error: ApiError, request_id: str) -> dict:
        return {
            "code": error.status,
            "key": error.key,
            "message": error.message,
            "details": error.details,
            "request_id": request_id,
        }

    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        if problem.kind == "media_type":
            return ApiError(415, "unsupported_media_type", "Unsupported Media Type", problem.message)
        if problem.location in ("query", "path"):
            return ApiError(400, "invalid_query_params", "Invalid query params", problem.message)
        if problem.path.startswith(".parameters.fields"):
            return ApiError(400, "invalid_export_fields", "Invalid export fields",
                            f"Property {problem.path}: {problem.message}")
        where = f"Property {problem.path}: " if problem.path else ""
        return ApiError(400, "invalid_payload", "Invalid payload", where + problem.message)

    def request_id(self) -> str:
        return request_id("v-")

    # -- exports ---------------------------------------------------------------
    async def create_export(self, call: Call) -> web.Response:
        body = call.inputs.body
        return self._schedule(call, body["exported_object"], body.get("parameters") or {})

    async def create_order_export(self, call: Call) -> web.Response:
        return self._schedule(call, "order", (call.inputs.body or {}).get("parameters") or {})

    async def export_voucher_transactions(self, call: Call) -> web.Response:
        code = call.inputs.path["code"]
        parameters = (call.inputs.body or {}).get("parameters") or {}
        echoed_filters = {**(parameters.get("filters") or {}), "voucher_id": {"conditions": {"$in": [code]}}}
        return self._schedule(call, "voucher_transactions", parameters,
                              echoed_filters=echoed_filters, scope={"voucher_id": voucher_id(code)})

    def _schedule(self, call: Call, exported_object: str, parameters: dict, *,
                  echoed_filters: dict | None = None, scope: dict | None = None) -> web.Response:
        fields = list(parameters.get("fields") or self.parameters[exported_object]["properties"]["fields"]["default"])
        query = {"fields": fields, "order": parameters.get("order"), "filters": parameters.get("filters"),
                 "scope": scope}
        echo: dict[str, Any] = {"fields": fields}
        if parameters.get("order"):
            echo["order"] = parameters["order"]
        filters = echoed_filters if echoed_filters is not None else parameters.get("filters")
        if filters:
            echo["filters"] = filters
        record = call.services.exports.create(call.app_id, self.name, exported_object, parameters=echo, query=query)
        return json_response(self.render(record, call.request))

    async def list_exports(self, call: Call) -> web.Response:
        query = call.inputs.query
        records = call.services.exports.list(call.app_id, self.name)
        key = query["order"].lstrip("-")
        if key == "status":
            records.sort(key=lambda r: (self.status_rank[STATUS[r["phase"]]], r["created_at"]))
        else:
            records.sort(key=lambda r: r["created_at"])
        if query["order"].startswith("-"):
            records.reverse()
        start = (query["page"] - 1) * query["limit"]
        page = records[start:start + query["limit"]]
        return json_response({
            "object": "list",
            "data_ref": "exports",
            "exports": [self.render(r, call.request) for r in page],
            "total": len(records),
        })

    async def get_export(self, call: Call) -> web.StreamResponse:
        exports: ExportService = call.services.exports
        export_id = call.inputs.path["exportId"]
        if "token" in call.inputs.query:
            app = call.request.headers.get("X-App-Id") or None
            record = exports.for_download(export_id, call.inputs.query["token"], app)
            filename = f"{record['exported_object']}_export_{record['id']}.csv"
            return await stream(call.request, exports.csv(record), content_type=CSV_TYPE,
                                headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return json_response(self.render(exports.get(call.app_id, export_id), call.request))

    async def delete_export(self, call: Call) -> web.Response:
        call.services.exports.delete(call.app_id, call.inputs.path["exportId"])
        return no_content()

    def render(self, record: dict, request: web.Request) -> dict:
        """An export record as Voucherify's Export object."""
        done = record["phase"] == "done"
        url = f"{request.url.origin()}/v1/exports/{record['id']}?token={record['token']}"
        return {
            "id": record["id"],
            "object": "export",
            "created_at": iso(record["created_at"]),
            "status": STATUS[record["phase"]],
            "channel": "API",
            "exported_object": record["exported_object"],
            "parameters": record["parameters"],
            "result": {"url": url} if done else None,
            "user_id": None,
        }


def voucher_id(code: str) -> str:
    """The voucher id a code stands for: ids pass through, codes map to a stable `v_` id."""
    if code.startswith("v_"):
        return code
    return "v_" + hashlib.sha256(code.encode()).hexdigest()[:32]


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _parameter_schemas(spec: Spec) -> dict[str, dict]:
    """exported_object → its `parameters` schema, read off the create-export discriminator."""
    body = spec.schema("ExportsCreateRequestBody")
    return {tag: branch["properties"]["parameters"] for tag, branch in body["discriminator"]["mapping"].items()}
