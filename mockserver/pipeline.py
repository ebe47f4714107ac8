"""One operation's request, step by step, in the order a newcomer reads it:

    route (aiohttp: the operation's path, on the root's router)
    → control   faults (--latency, --error-rate), Prefer, its delay
    → authenticate   the vendor says which tenant the request acts for; --rate-limit counts it then
    → validate   parameters and body against the operation's contract
    → behave     the vendor's handler (state, lifecycle, data) — or the spec's canned answer
    → respond    the handler's response; any error becomes the vendor's error shape (answer_failure)

`Step` is built once per operation, at its first request; each step is a method of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import findings, redact
from .control import prefer
from .control.answers import SpecAnswers
from .control.journal import APP_ID
from .errors import ApiError, scrub
from .respond import bad_host, json_response
from .services import Services
from .spec import Operation
from .store import TenantStore, VendorStore
from .validation import Inputs, Invalid, RequestValidator, read_body
from .vendors.base import Call, Handler, Vendor

log = logging.getLogger("mockserver")
MAX_BODY = 1024 * 1024
TENANTS = 1024  # apps whose store views an operation keeps (Step.tenant)
CHECKED = 1024  # path values and query strings whose checked parameters an operation keeps (Step.validate)
CHECK_ON_THREAD = 32 * 1024  # bodies larger than this are decoded and checked on a thread
VENDOR = web.RequestKey("vendor", Vendor)
OPERATION = web.RequestKey("operation", Operation)
REQUEST_ID = web.RequestKey("request_id", str)


class Step:
    """One operation's steps; `Step.handler(...)` is its aiohttp handler."""

    @classmethod
    def handler(
        cls, vendor: Vendor, op: Operation, behave: Handler, services: Services, *, eager: bool = False
    ) -> Callable[..., Any]:
        """The operation's aiohttp handler. Its steps (the request validator compiled from the operation's
        schemas, its canned answers) are built at its first request, not at start-up: a server with four
        vendors' hundred operations listens sooner, and pays only for the operations clients call. They are
        built on a thread (a large create schema compiles for tens of milliseconds), once: requests that
        arrive meanwhile wait for the same build. `eager`: built now, in this thread (create_app's in-process mock)."""
        if eager:
            return cls(vendor, op, behave, services).handle
        built: list[Step] = []
        building: list[asyncio.Future[Step]] = []

        async def handle(request: web.Request) -> web.StreamResponse:
            if not built:
                if not building:
                    building.append(asyncio.ensure_future(asyncio.to_thread(cls, vendor, op, behave, services)))
                step = await asyncio.shield(building[0])  # a client that leaves does not cancel the build
                if not built:
                    built.append(step)
            return await built[0].handle(request)

        return handle

    def __init__(self, vendor: Vendor, op: Operation, behave: Handler, services: Services) -> None:
        self.vendor, self.op, self.behave, self.services = vendor, op, behave, services
        self.validator = RequestValidator.of(op)
        self.names = {p.name.replace("-", "_"): p.name for p in op.parameters if p.location == "path"}
        self.renamed = any(alias != name for alias, name in self.names.items())  # else match_info's names are theirs
        self.answers = SpecAnswers.of(op)  # what Prefer code/example/dynamic and --stateless send
        self.creates_export = getattr(behave, "creates_export", False)
        self.owners = VendorStore(services.store, vendor.name)  # the only part of the store it may see
        self.words = {word: phase for phase, word in vendor.status_names.items()}  # Prefer outcome=<its word>
        self.tenants: dict[str, TenantStore] = {}  # app id → its part of the store, for the apps that call
        # (path values, raw query string) → the checked path and query values, for an operation without a body
        self.checked: dict[tuple, tuple[dict, dict]] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        request[VENDOR] = self.vendor
        request[OPERATION] = self.op
        refused = bad_host(request)  # before anything runs: a URL it renders after storing could not fail
        if refused:
            raise ApiError(400, "bad_request", "Bad Request", refused)
        faults = self.services.faults
        if faults.latency or faults.error_rate or "Prefer" in request.headers:
            wanted = await self.control(request)
        else:  # what control does when there is nothing to inject and no Prefer (most requests): no coroutine
            wanted = request[prefer.PREFER] = prefer.NOTHING
        app_id = await self.authenticate(request)
        if self.services.faults.rate_limit:  # only an authenticated request counts against its app
            self.services.faults.count(request, app_id)
        inputs = await self.validate(request)
        if self.services.settings.stateless or wanted.from_spec:
            return self.answers.respond(wanted, request.headers.get("Accept", ""))
        call = Call(
            request,
            self.op,
            app_id,
            inputs,
            request[REQUEST_ID],
            self.services,
            self.owners,
            self.tenant(app_id) if app_id is not None else None,
        )
        return await self.behave(call)

    def tenant(self, app_id: str) -> TenantStore:
        """The app's part of the store, made once per app (an authenticated one: its id or key is the
        vendor's already), up to TENANTS apps."""
        tenant = self.tenants.get(app_id)
        if tenant is None:
            if len(self.tenants) >= TENANTS:
                self.tenants.clear()
            tenant = self.tenants[app_id] = self.owners.tenant(app_id)
        return tenant

    async def control(self, request: web.Request) -> prefer.Prefer:
        """Injected faults, then what the Prefer header asks for (a canned answer, a delay)."""
        if self.services.faults.latency or self.services.faults.error_rate:  # nothing to inject: no coroutine
            await self.services.faults.before(request)
        wanted = prefer.NOTHING  # what parse() makes of no Prefer header
        if "Prefer" in request.headers:
            wanted = prefer.parse(
                request.headers.getall("Prefer"),
                creates_export=self.creates_export,
                stateless=self.services.settings.stateless,
                words=self.words,
            )
        request[prefer.PREFER] = wanted
        if wanted is not prefer.NOTHING:
            self.answers.check(wanted)
        if wanted.delay_ms:
            await asyncio.sleep(wanted.delay_ms / 1000)
        return wanted

    async def authenticate(self, request: web.Request) -> str | None:
        app_id = await self.vendor.authenticate(request, self.op, self.owners)
        if app_id is not None:
            request[APP_ID] = redact.label(app_id) if self.vendor.app_is_secret else app_id
        return app_id

    async def validate(self, request: web.Request) -> Inputs:
        """Parameters and body checked against the contract; findings told (X-Mock-Warning, journal,
        log) as the vendor tolerates them, refused in strict mode."""
        validator = self.validator
        match = request.match_info
        if not validator.bodies:  # what _check_body makes of an operation without one, sooner
            # a client polls the same path and query: checked once (a pure function of both), copies handed out
            key = (tuple(match.items()), request.rel_url.raw_query_string)
            checked = self.checked.get(key)
            if checked is None:
                checked = self._check_params(match, request)
                if len(self.checked) >= CHECKED:
                    self.checked.clear()
                self.checked[key] = checked
            return Inputs(dict(checked[0]), dict(checked[1]), None, None)
        path, query = self._check_params(match, request)
        raw = await read_body(request)
        media_type = request.content_type if request.headers.get("Content-Type") else None
        if len(raw) > CHECK_ON_THREAD:  # 500 KB of JSON (2,000 orders) take ~150 ms to check: not on the loop
            body, media_type, found = await asyncio.to_thread(self._check_body, media_type, raw)
        else:
            body, media_type, found = self._check_body(media_type, raw)
        if found:
            if self.services.settings.strict:
                raise found[0].invalid()
            findings.note(request, found)
        return Inputs(path, query, body, media_type)

    def _check_params(self, match, request: web.Request) -> tuple[dict, dict]:
        path_values = {self.names.get(k, k): v for k, v in match.items()} if self.renamed else dict(match)
        return self.validator.check_params(path_values, request.query, request.query)

    def _check_body(self, media_type: str | None, raw: bytes) -> tuple[Any, str | None, list]:
        """The decoded body, its media type and its findings (Invalid if it breaks the contract)."""
        body, media_type = self.validator.check_body(media_type, raw, self.vendor.decode_form)
        return body, media_type, self.validator.findings(media_type, body)


def answer_failure(request: web.Request, vendor: Vendor | None, exc: Exception) -> web.Response:
    """Answer a failure in the error shape of the vendor whose path it is (its 404s and 405s too); a
    request under no vendor's path (or with none at all) gets a neutral body, as no vendor's shape would be
    honest there. Re-raises what is not a failure to answer (a redirect, a client that left). The app's
    front middleware calls it (app.py), with request[REQUEST_ID] set."""
    if isinstance(exc, Invalid):
        error = vendor.invalid(exc, request.get(OPERATION))
    elif isinstance(exc, ApiError):
        error = exc
    elif isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        error = http_error(exc)
    else:  # the last line of defence: log it, never show it
        if isinstance(exc, ConnectionError) and _client_gone(request):
            raise exc  # a truncated body, a cancelled download: nobody is left to answer (aiohttp drops it quietly)
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        error = ApiError(500, "internal_error", "Internal Server Error", "The mock failed; see its log")
    body = (
        vendor.error_body(error, request[REQUEST_ID])
        if vendor is not None
        else {"error": error.details, "status": error.status}
    )
    try:
        return json_response(body, status=error.status, headers=error.headers)
    except UnicodeEncodeError:  # details echoing a header's undecodable bytes
        return json_response(scrub(body), status=error.status, headers=error.headers)


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def http_error(exc: web.HTTPException) -> ApiError:
    """aiohttp's own refusals (no route, wrong method, body too big) as ApiErrors."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return ApiError(
            405,
            "method_not_allowed",
            "Method Not Allowed",
            f"{exc.method} is not allowed here; use {allowed}",
            headers={"Allow": allowed},
        )
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return ApiError(
            413, "payload_too_large", "Payload Too Large", f"The request body must be at most {MAX_BODY} bytes"
        )
    if isinstance(exc, web.HTTPNotFound):
        return ApiError(404, "not_found", "Resource not found", "No such endpoint")
    return ApiError(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason, exc.text or exc.reason)
