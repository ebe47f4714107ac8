"""The small interface every vendor dialect implements.

The pipeline (mockserver.app) does route → authenticate → validate → behave →
respond for every operation in the vendor's spec; a vendor supplies only what
differs between APIs: credentials, error shape, request decoding quirks and
the behaviour behind each operationId.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..spec import Operation, Spec
from ..store import TenantStore, VendorStore
from ..validation import Finding, Inputs, Invalid


@dataclass
class Call:
    """One request on its way through the pipeline."""

    request: web.Request
    operation: Operation
    app_id: str | None
    inputs: Inputs
    request_id: str
    services: Any  # mockserver.app.Services
    owners: VendorStore  # this vendor's part of the store (download tokens find their app here)
    store: TenantStore | None  # the records of the app the request acts for (None: an unsecured operation)

    def warn(self, found: list[Finding]) -> None:
        """Findings of behaviour code (e.g. a filter on no field): answered with X-Mock-Warning
        headers in the default mode, refused (400, the vendor's shape) in strict mode."""
        if found and self.services.settings.strict:
            raise found[0].invalid()
        from ..findings import note  # findings imports validation, as this module does

        note(self.request, found)


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


class Vendor:
    name: str = ""
    path_prefix: str = "/"  # unmatched requests under it get this vendor's errors
    spec: Spec

    def handlers(self) -> dict[str, Handler]:
        """operationId → behaviour. Every operation of the spec needs one."""
        raise NotImplementedError

    async def authenticate(self, request: web.Request, operation: Operation, store: VendorStore) -> str | None:
        """The app id the request acts for; raise ApiError(401) when it has none. `store` is
        this vendor's part of the store (credentials bound on first use live there)."""
        raise NotImplementedError

    def trusts_new_credentials(self) -> bool:
        """Whether credentials never seen before are accepted (a mock's default; a real API never does).
        /__mock/health says it, so the contract kit knows refusals of invented credentials cannot hold."""
        return False

    def error_body(self, error: ApiError, request_id: str) -> dict:
        raise NotImplementedError

    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        """Word a contract violation as this vendor would."""
        raise NotImplementedError

    def decode_form(self, raw: bytes) -> Any:
        """Decode an application/x-www-form-urlencoded body (vendors that take one)."""
        raise Invalid("body", "", "Form bodies are not accepted here", status=415, kind="media_type")

    def request_id(self) -> str:
        raise NotImplementedError
