"""Build the aiohttp application: one route per spec operation, one pipeline.

    route → authenticate → validate → behave → respond

Routes, validators and vendor handlers are all made here, once, at start-up.
Errors raised anywhere on the way become the vendor's error shape in one
middleware, so a client never sees a traceback or an HTML page.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

from aiohttp import web

from . import data, findings, fixtures
from .clock import Clock, SharedClock, iso
from .control import admin, cors, faults, prefer
from .control.answers import NullStore, SpecAnswers
from .control.journal import APP_ID, Journal, journal_middleware, recorder
from .errors import ApiError, scrub
from .exports import ExportService
from .ids import Ids, claim_stream
from .lifecycle import MODES, Lifecycle
from .proxy import Forwarder
from .redis_store import is_redis_url
from .respond import json_response
from .spec import Operation
from .sqlite_store import SqliteStore
from .store import MemoryStore, Store, VendorStore
from .validation import Inputs, Invalid, RequestValidator, read_body
from .vendors.base import Call, Vendor
from .vendors.chargebee import Chargebee
from .vendors.voucherify import Voucherify

log = logging.getLogger("mockserver")
MAX_BODY = 1024 * 1024


@dataclass
class Settings:
    """Run-wide options (CLI flags map onto these one to one)."""

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = 0
    lifecycle: str = "time"
    scheduled_seconds: float = 1.0
    running_seconds: float = 2.0
    rows: int = 100
    locale: str = "en_US"
    apps: dict[str, str] = field(default_factory=dict)  # pinned app id → token
    chargebee_keys: list[str] = field(default_factory=list)  # pinned Chargebee API keys ([] = any key)
    # the control plane (mockserver.control)
    stateless: bool = False  # answer from the spec's examples; store nothing
    state: str | None = None  # SQLite file that keeps the store across restarts, or redis://host:port/db
    cors_origins: list[str] = field(default_factory=list)  # [] = any localhost origin, "*" = any
    latency: str | None = None  # ms, "50-200" (random in range) or "100"
    error_rate: float = 0.0  # share of requests that fail with a 500 or 503
    rate_limit: str | None = None  # "10/s" per app; over it → 429 + Retry-After
    journal_size: int = 500  # requests kept for GET /__mock/requests
    fixtures: str | None = None  # folder of data sets stored at start-up (mockserver.fixtures)
    # scale-out and limits (mockserver.workers)
    workers: int = 1  # processes serving one port, sharing the store
    max_exports: int = 1000  # per app; creating one more deletes the app's oldest export
    strict: bool = False  # findings (unknown properties, filter fields, coerced values) become 400s

    def __post_init__(self) -> None:
        if self.lifecycle not in MODES:
            raise ValueError(f"lifecycle must be one of {', '.join(MODES)}")
        if self.rows < 0:
            raise ValueError("rows must be 0 or more")
        faults.parse_latency(self.latency)
        faults.parse_rate_limit(self.rate_limit)
        faults.check_error_rate(self.error_rate)
        if self.stateless and self.state:
            raise ValueError("--stateless stores nothing, so it cannot take --state")
        if self.journal_size < 1:
            raise ValueError("journal size must be 1 or more")
        if self.workers < 1:
            raise ValueError("workers must be 1 or more")
        if self.max_exports < 1:
            raise ValueError("max exports must be 1 or more")


@dataclass
class Services:
    """What behaviour code may use; built once per application."""

    settings: Settings
    store: Store
    clock: Clock
    exports: ExportService
    vendors: list[Vendor]
    journal: Journal
    faults: faults.Faults


SERVICES = web.AppKey("services", Services)
VENDOR = web.RequestKey("vendor", Vendor)
OPERATION = web.RequestKey("operation", Operation)
REQUEST_ID = web.RequestKey("request_id", str)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, store: Store | None = None,
               vendors: list[Vendor] | None = None, proxy: Forwarder | None = None) -> web.Application:
    """The mock; with `proxy`, the same pipeline forwarding to an upstream instead of behaving (mockserver.proxy)."""
    settings = settings or Settings()
    own_store = store is None
    store = store or _default_store(settings)
    # processes sharing a store share the mock clock and mint ids from streams of their own
    shared = store.shared
    clock = clock or (SharedClock(store) if shared else Clock())
    vendors = vendors or [Voucherify(apps=settings.apps), Chargebee(keys=settings.chargebee_keys)]
    exports = ExportService(
        store=store,
        clock=clock,
        lifecycle=Lifecycle(settings.lifecycle, settings.scheduled_seconds, settings.running_seconds),
        ids=Ids(settings.seed),  # its stream is claimed at start-up, when the store can be awaited
        models={vendor.name: data.load_model(vendor.spec) for vendor in vendors},
        seed=settings.seed,
        rows=settings.rows,
        locale=settings.locale,
        sources={v.name: v.export_records for v in vendors if hasattr(v, "export_records")},
        max_exports=settings.max_exports,
    )
    injected = faults.Faults(faults.parse_latency(settings.latency), settings.error_rate,
                             faults.parse_rate_limit(settings.rate_limit), seed=settings.seed)
    services = Services(settings=settings, store=store, clock=clock, exports=exports, vendors=vendors,
                        journal=Journal(settings.journal_size), faults=injected)
    origins = cors.Origins(settings.cors_origins)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[
        *([_clock_sync(clock)] if isinstance(clock, SharedClock) else []),
        cors.preflight_middleware(origins, refused=recorder(services.journal, clock.now, iso)),
        journal_middleware(services.journal, skip=admin.is_admin, now=clock.now, show=iso),
        _errors(vendors),
    ])
    app.on_response_prepare.append(cors.allow_headers(origins))
    app.on_response_prepare.append(_warning_headers)
    app[SERVICES] = services
    app.on_startup.append(lambda _app: _start(services))
    if own_store:
        app.on_cleanup.append(lambda _app: store.close())
    admin.add_admin_routes(app, services)
    for vendor in vendors:
        _add_routes(app, vendor, services, proxy.pipeline if proxy else _pipeline)
    if proxy:
        proxy.install(app, vendors)
    return app


async def _start(services: Services) -> None:
    """What needs the store before the first request: connect, claim an id stream, store the fixtures."""
    store, settings = services.store, services.settings
    await store.open()
    if store.shared:
        services.exports.ids = Ids(settings.seed, await claim_stream(store))
    if settings.fixtures:
        await fixtures.load_into(settings.fixtures, services.vendors, store=store, ids=services.exports.ids,
                                 clock=services.clock)


def _clock_sync(clock: SharedClock):
    """Read the shared clock's offset once per request, before anything asks the time."""

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        await clock.sync()
        return await handler(request)

    return middleware


async def _warning_headers(request: web.Request, response: web.StreamResponse) -> None:
    findings.add_headers(request, response)


def _default_store(settings: Settings) -> Store:
    if settings.stateless:
        return NullStore()
    if is_redis_url(settings.state):
        from .redis_store import RedisStore  # the optional `redis` package is imported only when asked for

        return RedisStore(settings.state)
    if settings.state:
        return SqliteStore(settings.state)
    return MemoryStore()


def _add_routes(app: web.Application, vendor: Vendor, services: Services, pipeline) -> None:
    handlers = vendor.handlers()
    missing = {op.operation_id for op in vendor.spec.operations} - set(handlers)
    if missing:
        raise ValueError(f"{vendor.name}: no behaviour for {', '.join(sorted(missing))}")
    # fixed paths first, so /v1/orders/export is not taken for /v1/orders/{orderId}
    for op in sorted(vendor.spec.operations, key=lambda o: ("{" in o.path, o.path)):
        handle = pipeline(vendor, op, handlers[op.operation_id], services)
        app.router.add_route(op.method, _aiohttp_path(op.path), handle)


def _aiohttp_path(path: str) -> str:
    """aiohttp path variables must be identifiers: `{export-id}` → `{export_id}`."""
    return re.sub(r"\{([^}]+)\}", lambda m: "{" + m.group(1).replace("-", "_") + "}", path)


def _pipeline(vendor: Vendor, op: Operation, behave, services: Services):
    validator = RequestValidator(op)
    names = {p.name.replace("-", "_"): p.name for p in op.parameters if p.location == "path"}
    answers = SpecAnswers(op)  # what Prefer code/example/dynamic and --stateless send
    creates_export = getattr(behave, "creates_export", False)
    stateless = services.settings.stateless
    owners = VendorStore(services.store, vendor.name)  # the only part of the store this vendor's requests see
    strict = services.settings.strict

    async def handle(request: web.Request) -> web.StreamResponse:
        request[VENDOR] = vendor
        request[OPERATION] = op
        if services.faults.active:  # nothing to inject: no coroutine to run
            await services.faults.before(request)
        wanted = prefer.NOTHING  # what parse() makes of no Prefer header
        if "Prefer" in request.headers:
            wanted = prefer.parse(request.headers.getall("Prefer"), creates_export=creates_export, stateless=stateless)
        request[prefer.PREFER] = wanted
        answers.check(wanted)
        if wanted.delay_ms:
            await asyncio.sleep(wanted.delay_ms / 1000)
        app_id = await vendor.authenticate(request, op, owners)
        if app_id is not None:
            request[APP_ID] = app_id
        path_values = {names.get(k, k): v for k, v in request.match_info.items()}
        path, query = validator.check_params(path_values, request.query, request.query)
        raw = await read_body(request) if validator.bodies else b""
        media_type = request.content_type if request.headers.get("Content-Type") else None
        body, media_type = validator.check_body(media_type, raw, vendor.decode_form)
        found = validator.findings(media_type, body)
        if found:  # tolerated as the vendor does, and told (X-Mock-Warning, journal, log); refused in strict mode
            if strict:
                raise found[0].invalid()
            findings.note(request, found)
        if stateless or wanted.from_spec:
            return answers.respond(wanted, request.headers.get("Accept", ""))
        call = Call(request, op, app_id, Inputs(path, query, body, media_type), request[REQUEST_ID], services,
                    owners, owners.tenant(app_id) if app_id is not None else None)
        return await behave(call)

    return handle


def _vendor_for(request: web.Request, vendors: list[Vendor]) -> Vendor:
    chosen = request.get(VENDOR)
    if chosen is not None:
        return chosen
    return _vendor_by_path(request, vendors)


def _vendor_by_path(request: web.Request, vendors: list[Vendor]) -> Vendor:
    matches = [v for v in vendors if request.path.startswith(v.path_prefix)]
    return max(matches, key=lambda v: len(v.path_prefix)) if matches else vendors[0]


def _errors(vendors: list[Vendor]):
    """Answer every failure in the vendor's error shape."""
    # the longest path prefix first (a stable sort: on a tie, the first listed, as max() over the matches picks)
    by_prefix = sorted(vendors, key=lambda v: -len(v.path_prefix))

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        path = request.path  # no route's pipeline has named a vendor yet: _vendor_by_path, in one pass
        vendor = next((v for v in by_prefix if path.startswith(v.path_prefix)), vendors[0])
        request[REQUEST_ID] = vendor.request_id()
        try:
            return await handler(request)
        except Invalid as problem:
            error = _vendor_for(request, vendors).invalid(problem, request.get(OPERATION))
        except ApiError as exc:
            error = exc
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            error = _http_error(exc)
        except Exception as exc:  # the last line of defence: log it, never show it
            if isinstance(exc, ConnectionError) and _client_gone(request):
                raise  # a truncated body, a cancelled download: nobody is left to answer (aiohttp drops it quietly)
            log.exception("unhandled error on %s %s", request.method, request.path)
            error = ApiError(500, "internal_error", "Internal Server Error", "The mock failed; see its log")
        body = _vendor_for(request, vendors).error_body(error, request[REQUEST_ID])
        try:
            return json_response(body, status=error.status, headers=error.headers)
        except UnicodeEncodeError:  # details echoing a header's undecodable bytes
            return json_response(scrub(body), status=error.status, headers=error.headers)

    return middleware


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _http_error(exc: web.HTTPException) -> ApiError:
    """aiohttp's own refusals (no route, wrong method, body too big) as ApiErrors."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return ApiError(405, "method_not_allowed", "Method Not Allowed",
                        f"{exc.method} is not allowed here; use {allowed}", headers={"Allow": allowed})
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return ApiError(413, "payload_too_large", "Payload Too Large",
                        f"The request body must be at most {MAX_BODY} bytes")
    if isinstance(exc, web.HTTPNotFound):
        return ApiError(404, "not_found", "Resource not found", "No such endpoint")
    return ApiError(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason, exc.text or exc.reason)


def services_of(app: web.Application) -> Services:
    return app[SERVICES]

