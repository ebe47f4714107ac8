"""Build the aiohttp application: the vendors' routes on one router, one pipeline.

    root app: one middleware (_front): clock sync → CORS preflight → journal → errors (the vendor's shape
              under its mounts, a neutral one elsewhere)
      /__mock/              the admin API (mockserver.control.admin), a sub-app
      <vendor prefix>/      the routes under each prefix the vendor's schema declares (x-mock-mount),
                            on the root's router; one route per operation,
                            each a mockserver.pipeline.Step:
                            control → authenticate → validate → behave → respond

A path belongs to the longest prefix it lies under (Mounts), so /v1/reporting can
belong to one vendor while /v1 belongs to another. Routes, validators and vendor handlers
are all made here, once, at start-up; the store opens and closes with the app
(cleanup_ctx).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from aiohttp import web

from . import data, findings, logs, redact, registry
from .clock import Clock, SharedClock, iso
from .control import accesslog, admin, cors, faults, index
from .control.journal import Journal, recorder
from .errors import FixtureError
from .exports import ExportService
from .ids import Ids, claim_stream, request_id
from .lifecycle import Lifecycle
from .options import Settings
from .pipeline import MAX_BODY, OPERATION, REQUEST_ID, VENDOR, Step, answer_failure
from .respond import FINISH, SEND_TIMEOUT
from .services import SERVICES, Services, services_of
from .store import MemoryStore, NullStore, Store
from .vendors.base import Vendor

if TYPE_CHECKING:  # `mockserver proxy` passes one; serving alone does not import the proxy
    from .proxy import Forwarder

__all__ = [
    "MAX_BODY",
    "OPERATION",
    "REQUEST_ID",
    "SERVICES",
    "VENDOR",
    "Mounts",
    "Services",
    "Settings",
    "create_app",
    "services_of",
]
log = logging.getLogger("mockserver")


class Mounts:
    """Which vendor a path belongs to: the longest of the vendors' prefixes it lies under."""

    def __init__(self, vendors: list[Vendor]) -> None:
        self.vendors = vendors
        pairs = [(prefix, vendor) for vendor in vendors for prefix in vendor.prefixes]
        seen: dict[str, str] = {}
        for prefix, vendor in pairs:
            if prefix in seen:
                raise ValueError(
                    f"{vendor.name} and {seen[prefix]} are both mounted at {prefix}; serve one of them (--vendors)"
                )
            seen[prefix] = vendor.name
        self.by_prefix = sorted(pairs, key=lambda pair: -len(pair[0]))  # stable: ties keep the listed order
        self._under = [(prefix + "/", prefix, vendor) for prefix, vendor in self.by_prefix]

    def owner(self, path: str | None) -> Vendor | None:
        """The vendor whose mount `path` lies under; None for a path under none (every request asks)."""
        if path:
            for under, prefix, vendor in self._under:
                if path.startswith(under) or path == prefix:
                    return vendor
        return None


MOUNTS = web.AppKey("mounts", Mounts)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    vendors: list[Vendor] | None = None,
    proxy: Forwarder | None = None,
    lazy: bool = False,
) -> web.Application:
    """The mock; with `proxy`, the same pipeline forwarding to an upstream instead of behaving (mockserver.proxy).
    `vendors` (instances) overrides the registry's choice (settings.vendors). `lazy` (the commands' own
    servers, which start sooner so): the data engine loads in the background with the first export, and an
    operation's steps are built at its first request. Otherwise everything is built now, in the caller's
    thread, as a mock inside another program's process needs: that program's threads then never meet a
    half-imported module (data.load_engine) or a compile running beside their own (CPython gh-106905 before
    3.11.8 fails one of two threads building ASTs at once; hypothesis builds them as it generates)."""
    settings = settings or Settings()
    logs.install()  # what clients send is escaped in every log line
    own_store = store is None
    store = store or default_store(settings)
    # processes sharing a store share the mock clock and mint ids from streams of their own
    clock = clock or (SharedClock(store) if store.shared else Clock())
    vendors = vendors or registry.build(settings)
    mounts = Mounts(vendors)
    exports = ExportService(
        store=store,
        clock=clock,
        lifecycle=Lifecycle(settings.lifecycle, settings.scheduled_seconds, settings.running_seconds),
        ids=Ids(settings.seed),  # its stream is claimed at start-up, when the store can be awaited
        models={vendor.name: _model(vendor, lazy) for vendor in vendors},
        seed=settings.seed,
        rows=settings.rows,
        locale=settings.locale,
        sources={v.name: v.export_records for v in vendors},
        max_exports=settings.max_exports,
    )
    injected = faults.Faults(
        faults.parse_latency(settings.latency),
        settings.error_rate,
        faults.parse_rate_limit(settings.rate_limit),
        seed=settings.seed,
    )
    services = Services(
        settings=settings,
        store=store,
        clock=clock,
        exports=exports,
        vendors=vendors,
        journal=Journal(settings.journal_size),
        faults=injected,
    )
    origins = cors.Origins(settings.cors_origins)
    finish = _finisher(cors.allow_headers(origins, closed=admin.is_admin), mounts)
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[
            *([accesslog.middleware()] if settings.access_log else []),
            _front(
                clock.sync if isinstance(clock, SharedClock) else None,
                cors.preflight(
                    origins,
                    refused=recorder(services.journal, clock.now, iso, claimed=_claimed(mounts)),
                    headers=[h for v in vendors for h in v.cors_headers],
                    closed=admin.is_admin,
                ),
                recorder(services.journal, clock.now, iso, claimed=_claimed(mounts)),
                mounts.owner,
                finish,
            ),
        ],
    )
    app[SERVICES] = services
    app[SEND_TIMEOUT] = settings.send_timeout
    app[FINISH] = finish  # what a handler that sends its answer itself (respond.stream) calls first
    app[MOUNTS] = mounts
    app.cleanup_ctx.append(_store_context(services, own_store))
    app.add_subapp(admin.PREFIX.rstrip("/"), admin.admin_app(services))
    app.router.add_get("/", index.index_handler(lambda: vendors, settings), allow_head=False)
    pipeline = proxy.pipeline if proxy else partial(Step.handler, eager=not lazy)
    for vendor in vendors:
        for prefix in vendor.prefixes:
            _add_vendor_routes(app.router, vendor, prefix, services, pipeline, proxy)
    if proxy:
        proxy.install(app)
    return app


def _model(vendor: Vendor, lazy: bool) -> data.DataModel:
    """The vendor's data model, its rows made by its declared recipes: one nothing makes fails now."""
    model = data.load_model(vendor.spec, vendor.data_recipes)
    model.check_recipes(vendor.name)
    if not lazy:
        data.load_engine(model)
    return model


def _add_vendor_routes(
    router: web.UrlDispatcher,
    vendor: Vendor,
    prefix: str,
    services: Services,
    pipeline,
    proxy: Forwarder | None,
) -> None:
    """The routes of the vendor's operations under `prefix`, on the root's router: one route lookup per
    request (a sub-app per prefix made it two). Errors get the vendor's shape from the root's middleware
    (Mounts.owner, the longest prefix). aiohttp tries the longest indexed prefix of a path first but then
    falls back to shorter ones (another mount's: /v1 beneath /v1/reporting; the proxy's catch-all), so
    each mount ends with a catch-all that answers as its own routes alone would (404, or 405 with their
    methods), as a sub-app did; under `mockserver proxy`, what lies below the prefix is forwarded."""
    handlers = vendor.handlers()
    missing = {op.operation_id for op in vendor.spec.operations} - set(handlers)
    if missing:
        raise ValueError(f"{vendor.name}: no behaviour for {', '.join(sorted(missing))}")
    mine = [op for op in vendor.spec.operations if _mount_of(vendor, op.path) == prefix]
    routes = []
    # fixed paths first, so /v1/orders/export is not taken for /v1/orders/{orderId}
    for op in sorted(mine, key=lambda o: ("{" in o.path, o.path)):
        routes.append((op.method, _aiohttp_path(op.path), pipeline(vendor, op, handlers[op.operation_id], services)))
    routes += [(method, prefix + path, handle) for method, path, handle in vendor.routes(prefix, services)]
    for method, path, handle in routes:
        router.add_route(method, path, handle)
    own: list[web.UrlDispatcher] = []  # the same routes alone, what the catch-all asks: made at its first call

    async def alone(request: web.Request) -> web.StreamResponse:
        if not own:  # most apps (every test's) never meet a path no route takes: not made for each app
            own.append(web.UrlDispatcher())
            for method, path, handle in routes:
                own[0].add_route(method, path, handle)
        match = await own[0].resolve(request)
        raise match.http_exception  # no route of the mount matched, or it would have been taken first

    router.add_route("*", prefix, alone)
    if proxy:
        proxy.install_fallback(router, prefix)
    else:
        router.add_route("*", prefix + "/{tail:.*}", alone)


def _not_vendor_traffic(path: str) -> bool:
    """The admin API and the index are not journalled: the journal is what clients sent the vendors."""
    return path.startswith(admin.PREFIX) or path in ("/", "/favicon.ico")  # a browser asks for its icon


def _mount_of(vendor: Vendor, path: str) -> str:
    for prefix in vendor.prefixes:  # most specific first; a path may be the prefix itself (Stripe's /v1/files)
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    raise ValueError(
        f"{vendor.name}: {path} lies under none of its prefixes {', '.join(vendor.prefixes)}"
        " (x-mock-mount of its openapi.yaml)"
    )


def _aiohttp_path(path: str) -> str:
    """aiohttp path variables must be identifiers: `{export-id}` → `{export_id}`."""
    return re.sub(r"\{([^}]+)\}", lambda m: "{" + m.group(1).replace("-", "_") + "}", path)


def _claimed(mounts: Mounts):
    """Who a request claims to be, as the vendor of its path reads it (the journal, refused credentials)."""

    def claimed(request: web.Request) -> str | None:
        vendor = mounts.owner(request.path)
        hint = vendor.app_hint(request) if vendor is not None else None  # a path under none claims no one
        return redact.label(hint) if hint and vendor.app_is_secret else hint

    return claimed


def _store_context(services: Services, own_store: bool):
    async def context(_app: web.Application):
        await _start(services)
        yield
        if own_store:
            await services.store.close()

    return context


async def _start(services: Services) -> None:
    """What needs the store before the first request: connect, claim an id stream, store the fixtures."""
    store, settings = services.store, services.settings
    await store.open()
    if store.shared:
        services.exports.ids = Ids(settings.seed, await claim_stream(store))
    if settings.fixtures:
        await load_fixtures(
            settings.fixtures, services.vendors, store=store, ids=services.exports.ids, clock=services.clock
        )


async def load_fixtures(directory: str, vendors: list[Vendor], *, store: Store, ids: Ids, clock: Clock) -> None:
    """`--fixtures DIR` for each served vendor that takes fixtures (Vendor.load_fixtures)."""
    takers = [v for v in vendors if type(v).load_fixtures is not Vendor.load_fixtures]
    if not takers:
        raise FixtureError(f"fixtures: none of the served vendors ({', '.join(v.name for v in vendors)}) takes them")
    for vendor in takers:
        await vendor.load_fixtures(directory, store, ids, clock)


def _front(
    sync: Callable[[], Awaitable[None]] | None,
    preflight: Callable[[web.Request], Awaitable[web.StreamResponse | None]],
    record: Callable[[web.Request, web.StreamResponse], Awaitable[None]],
    owner: Callable[[str], Vendor | None],
    finish: Callable[[web.Request, web.StreamResponse], None],
):
    """The root's one middleware, what were five in a chain (one call each per request), in their order:
    read the shared clock's offset before anything asks the time (`sync`, under --workers); answer a CORS
    preflight before routing (control/cors.py); journal each answer, errors and injected faults included,
    but not the admin API's nor the index's (the journal is what clients sent the vendors); answer every
    failure in the error shape of the vendor whose path it is (pipeline.answer_failure), a path under no
    vendor's mount with a neutral one (index.unmounted_failure). Last, the headers every answer gets
    (`finish`, _finisher) on what it returns unsent, after the journal recorded it as the handler made it."""

    @web.middleware
    async def front(request: web.Request, handler) -> web.StreamResponse:
        if sync is not None:
            await sync()
        if request.method == "OPTIONS":
            answered = await preflight(request)
            if answered is not None:
                finish(request, answered)
                return answered
        path = request.path
        vendor = owner(path)
        # set here, once, for everything after: a Request's `in` of a missing key raises and catches a KeyError
        request[REQUEST_ID] = vendor.request_id() if vendor is not None else request_id("mock-")
        request[findings.WARNINGS] = findings.NONE
        try:
            response = await handler(request)
        except Exception as exc:
            response = None
            if vendor is None and path and not path.startswith(index.ADMIN):
                response = index.unmounted_failure(request, exc)
            if response is None:
                response = answer_failure(request, vendor, exc)
        if not _not_vendor_traffic(path):
            await record(request, response)
        if not response.prepared:  # a streamed answer was finished before it started (respond.FINISH)
            finish(request, response)
        return response

    return front


def _finisher(allow: Callable[[web.Request, web.StreamResponse], None], mounts: Mounts):
    """The headers every answer gets before it is sent (streamed downloads and errors too): CORS's allow
    headers, one X-Mock-Warning per finding, then the headers the path's vendor puts on every answer
    (Vendor.response_headers). Called by the front middleware, and by a handler that starts sending
    itself (respond.FINISH), not from aiohttp's on_response_prepare signal: a signal's coroutine per
    answer cost a GET ~4 µs more."""

    adding = {id(v) for v in mounts.vendors if type(v).response_headers is not Vendor.response_headers}

    def finish(request: web.Request, response: web.StreamResponse) -> None:
        allow(request, response)
        findings.add_headers(request, response)
        if not adding:
            return
        vendor = request[VENDOR] if VENDOR in request else mounts.owner(request.path)
        if id(vendor) not in adding or REQUEST_ID not in request or admin.is_admin(request):
            return  # a path under no vendor (None), a vendor that adds none; the admin API's
        for name, value in vendor.response_headers(request, request[REQUEST_ID]).items():
            response.headers.setdefault(name, value)

    return finish


def default_store(settings: Settings) -> Store:
    """The store `settings` ask for; the persistent ones' modules are imported only when one is."""
    if settings.stateless:
        return NullStore()
    if not settings.state:
        return MemoryStore()
    from .redis_store import RedisStore, is_redis_url  # the optional `redis` package: only by RedisStore

    if is_redis_url(settings.state):
        return RedisStore(settings.state)
    from .sqlite_store import SqliteStore

    return SqliteStore(settings.state)
