"""What differs between vendors for the contract kit: how an app proves who
it is, and what an error body must hold. One instance per supported vendor."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from typing import Any

from .options import App


@dataclass(frozen=True)
class Dialect:
    name: str
    id_scheme: str  # security scheme carrying the app id (the header name, until dialect_for names the scheme)
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
    """Recognise a vendor by how its document says an app authenticates (header names, HTTP Basic),
    whatever it calls its security schemes; the dialect comes back with the document's scheme names."""
    schemes = (document.get("components") or {}).get("securitySchemes") or document.get("securityDefinitions") or {}

    def named(header: str) -> str | None:
        return next((key for key, scheme in schemes.items() if isinstance(scheme, dict)
                     and scheme.get("type") == "apiKey" and scheme.get("in") == "header"
                     and str(scheme.get("name", "")).lower() == header.lower()), None)

    basic_auth = (("http", "basic"), ("basic", ""))  # OpenAPI 3, Swagger 2.0
    basic = next((key for key, scheme in schemes.items() if isinstance(scheme, dict)
                  and (scheme.get("type"), str(scheme.get("scheme", "")).lower()) in basic_auth), None)
    for dialect in DIALECTS.values():
        if dialect.basic:
            if basic is not None and dialect.id_scheme in schemes:
                return replace(dialect, id_scheme=basic, token_scheme=basic)
            continue
        id_key, token_key = named(dialect.id_scheme), named(dialect.token_scheme)
        if id_key and token_key:
            return replace(dialect, id_scheme=id_key, token_scheme=token_key)
    return None
