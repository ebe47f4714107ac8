"""Stripe's dialect for its Reporting API: a secret key as `Authorization:
Bearer` (or as the user name of HTTP Basic), form bodies with bracketed
names, the `{"error": {type, code, message, param}}` error object, and the
operations of schemas/stripe/.

The secret key is the tenant: each key is an account of its own (its report
runs and its data set), `sk_live_` keys in live mode. With keys pinned
(`keys=`), only those exist and any other is refused, as the real API
refuses an unknown key (`--stripe-key`); with none pinned, any well-formed
secret or restricted key (`sk_test_…`, `sk_live_…`, `rk_…`) is accepted.
Mounted at /v1/reporting, /v1/files, /v1/file_links and /links (file link
downloads) (`x-mock-mount` of its openapi.yaml),
next to a vendor that serves the rest of /v1.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ... import argtypes, data
from ...errors import ApiError
from ...options import Option
from ...spec import Operation, Spec, bundled_spec
from ...store import VendorStore
from ...validation import Invalid
from ..base import Handler, Imported, Vendor
from ..common import PatternWords, basic_user, bearer_token, form_problem, same
from .expand import expanding
from .form import decode_form
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import idempotent
from .links import FileLinks
from .reporting import STATUS, Reporting

KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{1,247}$")
# keys the shared code raises (faults, aiohttp refusals …) → Stripe's error code
CODES = {
    "too_many_requests": "rate_limit",
    "payload_too_large": "parameter_invalid",
    "mocked_error": None,
    "not_found": None,
    "method_not_allowed": None,
    "invalid_prefer_header": "parameter_invalid",
    "bad_request": None,
}
_REQUEST_ID = string.ascii_letters + string.digits
# error keys whose answer has no `code`; of them, those that are an error `type` of their own
UNCODED_TYPES = frozenset({"idempotency_error"})
NO_CODE = frozenset({"unauthorized", "not_expandable", *UNCODED_TYPES})
VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")  # an API version: 2026-10-28.endive


class Stripe(Vendor):
    name = "stripe"
    options = (
        Option(
            "stripe-key",
            "pin a Stripe secret key (repeatable); other keys then get 401 (default: any "
            "well-formed sk_test_/sk_live_/rk_ key works)",
            argtypes.text,
            repeatable=True,
            metavar="KEY",
            dest="keys",
        ),
    )
    status_names = STATUS
    tenant_is_secret = True  # a site is its API key: journalled under a label of it
    contract = Imported(f"{__name__}.contract", "CONTRACT")  # the contract kit's dialect: data in contract.py

    def __init__(self, spec: Spec | None = None, keys: Iterable[str] = ()) -> None:
        self.spec = spec or bundled_spec("stripe")
        self.keys = tuple(keys)  # pinned secret keys; empty: any well-formed key is an account
        self.reporting = Reporting(self.spec, data.load_model(self.spec))
        self.api_version = str(self.spec.document.get("x-api-version") or self.spec.document["info"]["version"])
        self.worded = PatternWords(self.spec)  # a pattern mismatch, worded by the schema's x-reads-as

    def handlers(self) -> dict[str, Handler]:
        handlers = {**self.reporting.handlers(), **FileLinks(self.reporting).handlers()}
        for operation in self.spec.operations:  # every operation takes expand[]; every POST Idempotency-Key
            handler = handlers[operation.operation_id]
            if operation.method.upper() == "POST":
                handler = idempotent(handler)
            handlers[operation.operation_id] = expanding(handler, operation)
        return handlers

    # -- credentials -----------------------------------------------------------
    def trusts_new_credentials(self) -> bool:
        return not self.keys  # any well-formed key is an account until keys are pinned

    async def authenticate(self, request: web.Request, operation: Operation, store: VendorStore) -> str | None:
        """The secret key of `Authorization: Bearer <key>` or `Basic base64(<key>:)`."""
        asked = request.headers.get("Stripe-Version")
        if asked is not None and not VERSION.match(asked):
            raise ApiError(
                400, "invalid_api_version", "Invalid API version", f"Invalid Stripe API version: {asked[:64]}"
            )
        if not operation.secured:
            return None
        key = _presented_key(request.headers.get("Authorization", ""))
        if not key:
            raise ApiError(
                401,
                "unauthorized",
                "No API key",
                "You did not provide an API key. Send your secret key as `Authorization: Bearer "
                "sk_test_…` (or as the user name of HTTP Basic auth).",
            )
        pinned = any(same(known, key) for known in self.keys)
        if (self.keys and not pinned) or (not self.keys and not KEY.match(key)):
            raise ApiError(401, "unauthorized", "Invalid API key", f"Invalid API Key provided: {_masked(key)}")
        return key

    # -- errors ----------------------------------------------------------------
    def error_body(self, error: ApiError, request_id: str) -> dict:
        kind = "api_error" if error.status >= 500 else "invalid_request_error"
        if error.key in UNCODED_TYPES:
            kind = error.key
        body: dict[str, Any] = {"type": kind}
        code = CODES.get(error.key, error.key) if error.status < 500 and error.key not in NO_CODE else None
        if code:
            body["code"] = code
        body["message"] = error.details
        if error.param:
            body["param"] = error.param
        return {"error": body}

    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        if problem.kind == "media_type":
            return ApiError(
                problem.status,
                "parameter_invalid",
                "Unsupported Media Type",
                f"{problem.message}; send the parameters form-encoded",
            )
        if problem.location in ("query", "path"):
            code = "parameter_missing" if problem.kind == "missing" else "parameter_invalid"
            return ApiError(
                400, code, "Invalid parameter", f"Invalid {problem.path}: {problem.message}", param=problem.path
            )
        if problem.kind == "missing":  # no body at all
            return ApiError(
                400,
                "parameter_missing",
                "Missing parameter",
                "Missing required param: report_type.",
                param="report_type",
            )
        about = form_problem(problem)
        if about.unknown:
            return ApiError(
                400,
                "parameter_unknown",
                "Unknown parameter",
                f"Received unknown parameter: {about.unknown}",
                param=about.unknown,
            )
        if about.missing or problem.message.endswith(" is required"):
            param = about.missing or about.param
            return ApiError(
                400, "parameter_missing", "Missing parameter", f"Missing required param: {param}.", param=param
            )
        param = about.param
        if not param:
            return ApiError(400, "parameter_invalid", "Invalid request", problem.message)
        return ApiError(
            400,
            "parameter_invalid",
            "Invalid parameter",
            f"Invalid {param}: {self.worded(problem.message)}",
            param=param,
        )

    def decode_form(self, raw: bytes) -> Any:
        return decode_form(raw)

    def request_id(self) -> str:
        return "req_" + "".join(secrets.choice(_REQUEST_ID) for _ in range(14))

    def response_headers(self, request: web.Request, request_id: str) -> dict[str, str]:
        """`Request-Id` (the SDKs' `request_id`, on errors too), the API version the request ran with
        (`Stripe-Version`: the one it asked for, else the schema's), and a POST's `Idempotency-Key`."""
        asked = request.headers.get("Stripe-Version", "")
        headers = {"Request-Id": request_id, "Stripe-Version": asked if VERSION.match(asked) else self.api_version}
        key = request.headers.get(IDEMPOTENCY_HEADER) if request.method == "POST" else None
        if key and len(key) <= 255 and key.isprintable() and key.isascii():
            headers[IDEMPOTENCY_HEADER] = key
        return headers

    def tenant_hint(self, request: web.Request) -> str | None:
        return _presented_key(request.headers.get("Authorization", "")) or None


def _presented_key(header: str) -> str:
    return bearer_token(header) or basic_user(header)


def _masked(key: str) -> str:
    """A key as Stripe echoes a wrong one: its prefix and last four characters."""
    prefix = key[:8] if KEY.match(key) else ""
    return f"{prefix}{'*' * 8}{key[-4:]}" if len(key) > 12 else "*" * 8
