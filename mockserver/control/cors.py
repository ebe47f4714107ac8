"""CORS, so a frontend served from another port can call the mock from a browser.

By default any localhost origin is allowed: http or https, any port, and the
hosts browsers treat as loopback (localhost, *.localhost, 127.0.0.1, [::1]).
`--cors-origin` replaces that with an explicit list (`*` allows every origin).
For an allowed origin the answer echoes that origin (never `*`) and allows
credentials, so `fetch(..., {credentials: 'include'})` and axios'
`withCredentials` work. A preflight (OPTIONS with Origin and
Access-Control-Request-Method) is answered here, before routing, and allows the
vendor headers, Prefer, and whatever other headers the preflight asks for (the
vendor SDKs send their own, tracing libraries theirs). A refused origin is
logged and journaled: the browser shows JavaScript only "Failed to fetch".

Why not aiohttp-cors: it configures CORS per route and origin by exact name,
while the default here is a pattern (any localhost port) and a preflight must
be answered before routing (a path the mock does not serve still gets the
headers, so the browser shows the 404 instead of a CORS failure).

A preflight that asks for Private Network Access (Chrome, a page served from a
LAN address calling the mock on loopback) is granted it for an allowed origin.
The admin API (`/__mock/`) grants no origin anything (control/exposure.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from ..respond import json_response

log = logging.getLogger("mockserver")
LOCALHOST = re.compile(r"^https?://([a-z0-9-]+\.)*(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$", re.IGNORECASE)
ALLOW_HEADERS = ("Authorization", "Content-Type", "Prefer")  # and each served vendor's Vendor.cors_headers
ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
EXPOSE_HEADERS = ("Retry-After", "Content-Disposition", "X-Mock-Violation")
MAX_AGE = "600"
# Private Network Access (Chrome): a page from a less private address (a LAN IP, a public site) asks
# before calling a more private one (loopback); an allowed origin is granted it.
PNA_REQUEST = "Access-Control-Request-Private-Network"
PNA_ALLOW = "Access-Control-Allow-Private-Network"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110 token)
MAX_ASKED = 50  # header names taken from one preflight


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
            return "any localhost origin (localhost, *.localhost, 127.0.0.1, [::1])"
        return ", ".join(sorted(self.listed))


Refused = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def preflight(
    origins: Origins,
    refused: Refused | None = None,
    headers: Sequence[str] = (),
    closed: Callable[[web.Request], bool] = lambda request: False,
):
    """`await answer(request)`: a browser's preflight answered before routing (vendor routes know no
    OPTIONS); None for any other request. The app's front middleware asks it of every OPTIONS request.

    `refused(request, response)` is told of each refused preflight (the app journals it);
    `headers`: the request headers the served vendors' clients send (Vendor.cors_headers);
    `closed(request)`: paths no origin may call cross-origin (the admin API): refused, journaled by nobody.
    """
    ours = tuple(dict.fromkeys([*headers, *ALLOW_HEADERS]))

    async def answer(request: web.Request) -> web.StreamResponse | None:
        origin = request.headers.get("Origin")
        if request.method != "OPTIONS" or origin is None or "Access-Control-Request-Method" not in request.headers:
            return None
        if closed(request):
            return json_response({"error": f"{request.path} grants no cross-origin access"}, status=403)
        if not origins.allows(origin):
            reason = f"Origin {origin} is not allowed; allowed: {origins.describe()}"
            log.warning(
                "CORS: refused a preflight for %s %s: %s",
                request.headers["Access-Control-Request-Method"],
                request.path,
                reason,
            )
            response = json_response({"error": reason}, status=403)
            if refused is not None:
                await refused(request, response)
            return response
        granted = {
            "Access-Control-Allow-Methods": ", ".join(ALLOW_METHODS),
            "Access-Control-Allow-Headers": ", ".join(_allowed_headers(request, ours)),
            "Access-Control-Max-Age": MAX_AGE,
        }
        if request.headers.get(PNA_REQUEST, "").strip().lower() == "true":  # a public page calling a private address
            granted[PNA_ALLOW] = "true"
        return web.Response(status=204, headers=granted)

    return answer


def _allowed_headers(request: web.Request, ours: Sequence[str]) -> list[str]:
    """Ours, plus every well-formed header name the preflight asks for."""
    allowed = list(ours)
    known = {name.lower() for name in allowed}
    asked = request.headers.get("Access-Control-Request-Headers", "")
    for name in (part.strip() for part in asked.split(",")[:MAX_ASKED]):
        if name and _TOKEN.match(name) and name.lower() not in known:
            known.add(name.lower())
            allowed.append(name)
    return allowed


def allow_headers(origins: Origins, closed: Callable[[web.Request], bool] = lambda request: False):
    """`allow(request, response)`, for the app's on_response_prepare signal: the allow headers on every
    answer as it is sent, so errors and streamed downloads get them too (never on a `closed` path)."""

    def allow(request: web.Request, response: web.StreamResponse) -> None:
        if closed(request):
            return
        origin = request.headers.get("Origin")
        if origin is not None and origins.allows(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            if request.method != "OPTIONS":
                response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSE_HEADERS)
        elif origin is not None and request.method != "OPTIONS":
            log.warning(
                "CORS: %s %s from origin %s, which is not allowed (%s): the browser hides the answer",
                request.method,
                request.path,
                origin,
                origins.describe(),
            )
        response.headers.add("Vary", "Origin")

    return allow
