"""Voucherify's dialect: X-App-Id/X-App-Token (or Bearer) credentials, the
`{code, key, message, details, request_id}` error object, and the operations of
schemas/voucherify/. Each area of the API keeps its behaviour in its own
module (exports.py, …) and hands its operationId → handler map to the vendor.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from ...errors import ApiError
from ...ids import request_id
from ...spec import Operation, Spec, load_spec
from ...validation import Invalid
from ..base import Handler, Vendor
from . import exports


class Voucherify(Vendor):
    name = "voucherify"
    path_prefix = "/v1/"

    def __init__(self, spec: Spec | None = None, apps: dict[str, str] | None = None) -> None:
        self.spec = spec or load_spec("voucherify")
        self.apps = dict(apps or {})  # pinned app id → token
        self.exports = exports.Exports(self.spec)

    def handlers(self) -> dict[str, Handler]:
        return {**self.exports.handlers()}

    # -- credentials -----------------------------------------------------------
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

    # -- errors ----------------------------------------------------------------
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


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
