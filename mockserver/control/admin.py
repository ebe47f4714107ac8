"""The `/__mock/` admin API: steer a running mock from tests and scripts.

    GET  /__mock/health                  is it up, and how is it configured
    POST /__mock/reset                   forget everything, or one app: {"app_id": "…"}
    POST /__mock/clock/advance           {"seconds": 90}: move the `time` lifecycle on
    POST /__mock/exports/{id}/status     {"status": "DONE"}: force a transition (never backwards)
    GET  /__mock/requests                the journal; ?path=/v1/exports*&app_id=…&method=POST&limit=10
    DELETE /__mock/requests              empty the journal
    GET  /__mock/openapi                 the spec being served (?vendor=… when there are several)

No credentials by default, like Prism's: the mock is for local use. Who may
call it is control/exposure.py's business: loopback Host names only (and
`--allow-host`), `Content-Type: application/json` for every POST, no CORS
grants, and `--admin-token` for a shared environment. Vendor paths never
start with `/__mock/`. Errors are plain `{"error": …}` JSON with a 4xx status,
and every request is checked in full before anything changes, so a refused
request changes nothing.
"""

from __future__ import annotations

import math
import os
from typing import Any

from aiohttp import web

from ..clock import iso
from ..errors import ApiError, scrub
from ..lifecycle import PHASES
from ..respond import json_response
from ..services import Services
from ..validation import parse_json, read_body
from . import dashboard
from .exposure import Exposure

PREFIX = "/__mock/"


def is_admin(request: web.Request) -> bool:
    return request.path.startswith(PREFIX)


def admin_app(services: Services) -> web.Application:
    """The admin API as a sub-application mounted at /__mock; `services` is the app's mockserver.app.Services."""
    settings = services.settings
    guard = Exposure(settings.host, settings.allow_hosts, settings.admin_token)
    app = web.Application(middlewares=[guard.middleware()])  # Host, token, JSON only (control/exposure.py)
    admin = Admin(services)
    routes = [
        ("GET", "health", admin.health),
        ("POST", "reset", admin.reset),
        ("POST", "clock/advance", admin.advance_clock),
        ("POST", "exports/{export_id}/status", admin.force_status),
        ("GET", "requests", admin.requests),
        ("DELETE", "requests", admin.clear_requests),
        ("GET", "openapi", admin.openapi),
        *dashboard.routes(services),  # GET /__mock/ui and the exports of every app it shows
    ]
    for method, path, handler in routes:
        app.router.add_route(method, "/" + path, _clear_errors(handler))

    async def unknown(request: web.Request) -> web.Response:
        endpoints = [f"{method} {PREFIX}{path}" for method, path, _ in routes]
        allowed = sorted({method for method, path, _ in routes if _same_shape(request.path, PREFIX + path)})
        if allowed:
            answer = _error(405, f"{request.method} is not allowed on {request.path}", endpoints=endpoints)
            answer.headers["Allow"] = ", ".join(allowed)
            return answer
        return _error(404, f"No admin endpoint {request.method} {request.path}", endpoints=endpoints)

    app.router.add_route("*", "/{tail:.*}", unknown)
    return app


def _same_shape(path: str, template: str) -> bool:
    parts, shape = path.rstrip("/").split("/"), template.split("/")
    return len(parts) == len(shape) and all(s.startswith("{") or p == s for p, s in zip(parts, shape))


class Admin:
    def __init__(self, services: Services) -> None:
        self.services = services
        # each vendor's export status words → neutral lifecycle phases (where phases share a word,
        # the later phase wins: in_process → running)
        self.status_names: dict[str, dict[str, str]] = {}
        for vendor in services.vendors:
            names = self.status_names.setdefault(vendor.name, {})
            for phase, word in vendor.status_names.items():
                names[word] = phase

    async def health(self, request: web.Request) -> web.Response:
        settings = self.services.settings
        return json_response(
            {
                "status": "ok",
                "vendors": [vendor.name for vendor in self.services.vendors],
                "lifecycle": settings.lifecycle,
                "stateless": settings.stateless,
                "store": type(self.services.store).__name__,
                "now": iso(self.services.clock.now()),
                # which process answered: with --workers N, requests are spread over N of them
                "pid": os.getpid(),
                "workers": settings.workers,
                # vendor → whether unknown credentials are accepted (the contract kit skips auth-refusal checks then)
                "trusts_new_credentials": {
                    vendor.name: vendor.trusts_new_credentials() for vendor in self.services.vendors
                },
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        body = await _body(request, allowed={"app_id"}, required=False)
        app_id = body.get("app_id", request.query.get("app_id"))
        if app_id is not None and (not isinstance(app_id, str) or not app_id):
            raise _invalid("app_id must be a non-empty string")
        await self.services.store.reset(app_id)  # that app id of every vendor
        self.services.journal.clear(app_id)
        if app_id is None:
            self.services.faults.reset()
            await self.services.clock.rewind()  # a fresh mock: the clock the tour advanced goes back too
        return json_response({"reset": "everything" if app_id is None else app_id})

    async def advance_clock(self, request: web.Request) -> web.Response:
        body = await _body(request, allowed={"seconds"})
        seconds = body.get("seconds")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise _invalid('Send {"seconds": N} with N a number of 0 or more')
        now = await self.services.clock.step(seconds)
        return json_response({"advanced": seconds, "now": iso(now)})

    async def force_status(self, request: web.Request) -> web.Response:
        export_id = request.match_info["export_id"]
        body = await _body(request, allowed={"status"})
        tenant, record = await self.services.exports.find(export_id)  # 404 before looking at the status
        names = self.status_names.get(record.vendor, {})
        status = body.get("status")
        phase = names.get(status) if isinstance(status, str) else None
        if phase is None and status in PHASES:
            phase = status
        if phase is None:
            raise _invalid(f"status must be one of: {', '.join(names or PHASES)}")
        record = await self.services.exports.force(tenant, export_id, phase)
        shown = {p: n for n, p in names.items()}
        return json_response({"id": export_id, "status": shown.get(record.phase, record.phase), "phase": record.phase})

    async def requests(self, request: web.Request) -> web.Response:
        query = request.query
        unknown = set(query) - {"path", "app_id", "method", "limit"}
        if unknown:
            raise _invalid(f"Unknown filter {sorted(unknown)[0]!r}; filters: path, app_id, method, limit")
        limit = query.get("limit")
        if limit is not None and (not limit.isdigit() or int(limit) < 1):
            raise _invalid("limit must be a whole number of 1 or more")
        found = self.services.journal.find(
            path=query.get("path"),
            app_id=query.get("app_id"),
            method=query.get("method"),
            limit=int(limit) if limit else None,
        )
        try:
            return json_response({"requests": found, "count": len(found)})
        except UnicodeEncodeError:  # a journalled header with bytes that are not UTF-8
            return json_response(scrub({"requests": found, "count": len(found)}))

    async def clear_requests(self, request: web.Request) -> web.Response:
        self.services.journal.clear()
        return web.Response(status=204)

    async def openapi(self, request: web.Request) -> web.Response:
        vendors = {vendor.name: vendor for vendor in self.services.vendors}
        name = request.query.get("vendor")
        if name is None and len(vendors) == 1:
            name = next(iter(vendors))
        if name not in vendors:
            raise ApiError(404, "not_found", "Not found", f"Name a vendor with ?vendor=: {', '.join(vendors)}")
        return json_response(vendors[name].spec.document)


def _clear_errors(handler):
    """Admin errors as plain JSON, not in a vendor's shape."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return _error(exc.status, exc.details)

    return wrapped


async def _body(request: web.Request, *, allowed: set[str], required: bool = True) -> dict:
    raw = await read_body(request)
    if not raw.strip():
        if required:
            raise _invalid(f"Send a JSON object with: {', '.join(sorted(allowed))}")
        return {}
    try:
        body = parse_json(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError too
        raise _invalid(f"Malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _invalid("The body must be a JSON object")
    unknown = set(body) - allowed
    if unknown:
        raise _invalid(f"Unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return body


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_request", "Invalid request", message)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return json_response({"error": message, **extra}, status=status)
