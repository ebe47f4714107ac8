"""What differs between vendors for the contract kit: how an app proves who
it is, and what an error body must hold. One instance per supported vendor."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from .options import App


@dataclass(frozen=True)
class Dialect:
    name: str
    id_scheme: str  # security scheme carrying the app id
    token_scheme: str  # security scheme carrying the secret
    error_status_field: str  # error body key that repeats the HTTP status
    error_request_id_field: str | None
    error_required: tuple[str, ...]
    basic: bool = False  # HTTP Basic with the token as the user name (the app id is only a label)

    def schemathesis_auth(self, app: App) -> dict[str, Any]:
        """The `auth.openapi` table of a schemathesis config, so its auth checks know the credentials."""
        if self.basic:
            return {self.token_scheme: {"username": app.token, "password": ""}}
        return {self.id_scheme: {"api_key": app.app_id}, self.token_scheme: {"api_key": app.token}}

    def headers(self, app: App) -> dict[str, str]:
        """The headers that make a request `app`'s."""
        if self.basic:
            return {"Authorization": "Basic " + base64.b64encode(f"{app.token}:".encode()).decode()}
        return app.headers()

    def error_problem(self, status: int, body: Any) -> str | None:
        """Why a 4xx body is not this vendor's error object, or None when it is."""
        if not isinstance(body, dict):
            return f"the body is not a JSON object but {type(body).__name__}"
        missing = [key for key in self.error_required if key not in body]
        if missing:
            return f"the error object lacks {', '.join(missing)}"
        if body.get(self.error_status_field) != status:
            return f"`{self.error_status_field}` is {body.get(self.error_status_field)!r}, not the HTTP status {status}"
        if self.error_request_id_field:
            value = body.get(self.error_request_id_field)
            if not isinstance(value, str) or not value.strip():
                return f"`{self.error_request_id_field}` is missing or empty"
        return None


VOUCHERIFY = Dialect(
    name="voucherify",
    id_scheme="X-App-Id",
    token_scheme="X-App-Token",
    error_status_field="code",
    error_request_id_field="request_id",
    error_required=("code", "key", "message", "details", "request_id"),
)

CHARGEBEE = Dialect(
    name="chargebee",
    id_scheme="BasicAuth",  # the API key alone identifies the site
    token_scheme="BasicAuth",
    error_status_field="http_status_code",
    error_request_id_field=None,
    error_required=("message", "api_error_code", "error_code", "http_status_code"),
    basic=True,
)

DIALECTS = {VOUCHERIFY.name: VOUCHERIFY, CHARGEBEE.name: CHARGEBEE}


def dialect_for(document: dict[str, Any]) -> Dialect | None:
    """Recognise a vendor by the security schemes its document declares."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for dialect in DIALECTS.values():
        if dialect.id_scheme in schemes and dialect.token_scheme in schemes:
            return dialect
    return None
