"""CORS, so a frontend served from another port can call the mock from a browser.

By default any localhost origin (http or https, any port: localhost,
127.0.0.1, [::1]) is allowed; `--cors-origin` replaces that with an explicit
list (`*` allows every origin). A preflight (OPTIONS with Origin and
Access-Control-Request-Method) is answered here, before routing, and allows
the vendor headers plus Prefer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import web

from ..respond import json_response

LOCALHOST = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$", re.IGNORECASE)
ALLOW_HEADERS = ("X-App-Id", "X-App-Token", "Authorization", "Content-Type", "Prefer")
ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
EXPOSE_HEADERS = ("Retry-After", "Content-Disposition")
MAX_AGE = "600"


class Origins:
    """Which origins may call the mock."""

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        self.any = "*" in allowed
        self.listed = {origin.rstrip("/").lower() for origin in allowed if origin != "*"}
        self.localhost_only = not allowed

    def allows(self, origin: str) -> bool:
        if self.any:
            return True
        if self.localhost_only:
            return bool(LOCALHOST.match(origin))
        return origin.rstrip("/").lower() in self.listed

    def describe(self) -> str:
        if self.any:
            return "any origin"
        if self.localhost_only:
            return "any localhost origin"
        return ", ".join(sorted(self.listed))


def preflight_middleware(origins: Origins):
    """Answer a browser's preflight before routing: vendor routes know no OPTIONS."""

    @web.middleware
    async def preflight(request: web.Request, handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if request.method != "OPTIONS" or origin is None or "Access-Control-Request-Method" not in request.headers:
            return await handler(request)
        if not origins.allows(origin):
            return json_response({"error": f"Origin {origin} is not allowed; allowed: {origins.describe()}"},
                                 status=403)
        return web.Response(status=204, headers={
            "Access-Control-Allow-Methods": ", ".join(ALLOW_METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALLOW_HEADERS),
            "Access-Control-Max-Age": MAX_AGE,
        })

    return preflight


def allow_headers(origins: Origins):
    """An on_response_prepare signal: the allow headers on every answer as it
    is sent, so errors and streamed downloads get them too."""

    async def allow(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if origin is not None and origins.allows(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            if request.method != "OPTIONS":
                response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSE_HEADERS)
        response.headers.add("Vary", "Origin")

    return allow
