"""Chargebee's dialect: HTTP Basic with the API key as the user name, form
bodies with bracketed filters, the `{message, type, api_error_code, param,
error_code, http_status_code}` error object, and the export operations of
schemas/chargebee/.

The API key is the tenant: every key is a site of its own (its exports and
its data set). With keys pinned (`--chargebee-key`), only those exist and any
other is refused, as the real API refuses an unknown key; with none pinned,
any non-empty key is accepted. The site name (the host) is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ... import argtypes, data
from ...errors import ApiError
from ...ids import request_id
from ...options import Option
from ...spec import Operation, Spec, bundled_spec
from ...store import VendorStore
from ...validation import Invalid
from ..base import Handler, Vendor
from ..common import PatternWords, basic_header, basic_user, form_problem, same
from . import exports
from .form import decode_form

# keys the shared code raises (not found, faults, aiohttp refusals …) → Chargebee's api_error_code
API_ERROR_CODES = {
    "not_found": "resource_not_found",
    "method_not_allowed": "http_method_not_supported",
    "too_many_requests": "api_request_limit_exceeded",
    "internal_error": "internal_error",
    "service_unavailable": "internal_temporary_error",
    "payload_too_large": "invalid_request",
    "invalid_prefer_header": "invalid_request",
    "mocked_error": "invalid_request",
    "bad_request": "invalid_request",
}
# errors Chargebee gives no `type` (the SDKs raise their base APIError for them)
UNTYPED = (
    "api_authentication_failed",
    "api_authorization_failed",
    "api_request_limit_exceeded",
    "internal_error",
    "internal_temporary_error",
)


class Chargebee(Vendor):
    name = "chargebee"
    from .contract import CONTRACT as contract  # the contract kit's dialect: data in contract.py

    options = (
        Option(
            "chargebee-key",
            "pin a Chargebee API key (repeatable); other keys then get 401 (default: any key works)",
            argtypes.text,
            repeatable=True,
            metavar="KEY",
            dest="keys",
        ),
    )
    status_names = exports.STATUS
    tenant_is_secret = True  # a site is its API key: journalled under a label of it

    def __init__(self, spec: Spec | None = None, keys: Iterable[str] = ()) -> None:
        self.spec = spec or bundled_spec("chargebee")
        self.keys = tuple(keys)  # pinned API keys; empty: any key is a site
        self.exports = exports.Exports(self.spec, data.load_model(self.spec))
        self.worded = PatternWords(self.spec)  # a pattern mismatch, worded by the schema's x-reads-as

    def handlers(self) -> dict[str, Handler]:
        return self.exports.handlers()

    # -- credentials -----------------------------------------------------------
    def trusts_new_credentials(self) -> bool:
        return not self.keys  # any key is a site until keys are pinned

    async def authenticate(self, request: web.Request, operation: Operation, store: VendorStore) -> str | None:
        """The API key of `Authorization: Basic base64(key:)` (the password is ignored)."""
        if not operation.secured:
            return None
        key = basic_user(request.headers.get("Authorization", ""))
        if not key:
            raise ApiError(
                401,
                "api_authentication_failed",
                "Unauthorized",
                "Sorry, authentication failed. Send your API key as the user name of HTTP Basic auth",
            )
        if self.keys and not any(same(pinned, key) for pinned in self.keys):
            raise ApiError(
                401, "api_authentication_failed", "Unauthorized", "Sorry, authentication failed. Invalid api key"
            )
        return key

    # -- errors ----------------------------------------------------------------
    def error_body(self, error: ApiError, request_id: str) -> dict:
        code = API_ERROR_CODES.get(error.key, error.key)
        body: dict[str, Any] = {"message": error.details, "api_error_code": code}
        if error.param:
            body["param"] = error.param
        if code not in UNTYPED and 400 <= error.status < 500:
            body["type"] = "invalid_request"
        body["error_code"] = code
        body["http_status_code"] = error.status
        return body

    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        if problem.kind == "media_type":
            return ApiError(
                problem.status,
                "invalid_request",
                "Unsupported Media Type",
                f"{problem.message}; send the parameters form-encoded",
            )
        if problem.location in ("query", "path"):
            return ApiError(400, "param_wrong_value", "Invalid parameter", problem.message, param=problem.path)
        about = form_problem(problem)
        if about.unknown:  # an unknown filter or operator: name it, not the group it was sent in
            param = about.unknown
            return ApiError(
                400,
                "invalid_request",
                "Unknown parameter",
                f"{param} : is not a parameter of this operation",
                param=param,
            )
        if about.missing:  # Chargebee's word for a missing parameter
            param = about.missing
            return ApiError(400, "param_wrong_value", "Missing parameter", f"{param} : cannot be blank", param=param)
        param = about.param
        if not param:
            return ApiError(400, "invalid_request", "Invalid request", problem.message)
        # a body that is malformed around this parameter, or a value of the wrong form
        code = "invalid_request" if problem.kind == "malformed" else "param_wrong_value"
        return ApiError(400, code, "Invalid parameter", f"{param} : {self.worded(problem.message)}", param=param)

    def decode_form(self, raw: bytes) -> Any:
        return decode_form(raw)

    def tenant_hint(self, request: web.Request) -> str | None:
        return basic_user(request.headers.get("Authorization", "")) or None

    def credential_headers(self, tenant: str, secret: str) -> dict[str, str]:
        return {"Authorization": basic_header(secret)}

    def request_id(self) -> str:
        return request_id("cb-")
