"""Who may reach the admin API (`/__mock/`): it resets state, moves the clock and shows
the journal, so a web page must not drive it and a shared network must not read it.

- Host: a request whose `Host` is not a loopback name (localhost, *.localhost,
  127.0.0.0/8, [::1]), the address the server is bound to, or a name given with
  `--allow-host` (`*`: any) is refused with 403. A page that rebinds its own DNS
  name to 127.0.0.1 reaches the mock same-origin, but its requests carry that name.
  Vendor routes are not checked: what they hold opens only to the tenant's own
  credentials, which such a page does not have, and SDK clients reach the mock by
  whatever name they were given (a container's service name, Chargebee's
  `{site}.{domain}`).
- Token: with `--admin-token TOKEN`, every admin call needs `Authorization: Bearer
  TOKEN` (401 otherwise).
- JSON only: a POST needs `Content-Type: application/json` (415 otherwise), so a
  cross-site form or a `text/plain` fetch (a "simple" request, sent without a CORS
  preflight) cannot change state. DELETE is never simple: its preflight is refused.
- No CORS grants: mockserver.control.cors answers no `/__mock/` preflight and adds no
  `Access-Control-Allow-*` header to an admin answer.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import sys
from collections.abc import Iterable

from aiohttp import web

from ..respond import json_response

LOOPBACK_NAMES = "localhost, *.localhost, 127.0.0.0/8, [::1]"
# the admin token from the environment: `serve` takes it when --admin-token is not given (a flag shows in
# `ps`), and the contract kit sends it on the admin calls it makes (--from-journal, /__mock/health)
TOKEN_VARIABLE = "MOCKSERVER_ADMIN_TOKEN"
_PORT = re.compile(r"^\d{1,5}$")
ANY_ADDRESS = ("0.0.0.0", "::")


def is_loopback(name: str) -> bool:
    """A name or address that can only mean this machine."""
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str | None:
    """The name of a Host header (`name`, `name:port`, `[v6]:port`); None when malformed."""
    header = header.strip()
    if header.startswith("["):
        name, bracket, rest = header[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and _PORT.match(rest[1:]))):
            return None
        return name.lower() or None
    name, colon, port = header.partition(":")
    if colon and not _PORT.match(port):
        return None
    if not name or any(c in name for c in " ,/\\@?#") or not name.isascii():
        return None
    return name.lower()


class Exposure:
    """The admin API's rules for one server (settings.host, allow_hosts, admin_token)."""

    def __init__(self, bound: str = "127.0.0.1", allowed: Iterable[str] = (), token: str | None = None) -> None:
        self.bound = bound.strip("[]").lower()
        self.any_host = "*" in allowed
        self.allowed = {name.strip("[]").lower().rstrip(".") for name in allowed if name != "*"}
        self.token = token or None

    def host_allowed(self, header: str | None) -> bool:
        if header is None or self.any_host:  # no Host at all: HTTP/1.0 from a script, never a browser
            return True
        name = host_name(header)
        if name is None:
            return False
        name = name.rstrip(".")
        return is_loopback(name) or name == self.bound or name in self.allowed

    def describe(self) -> str:
        names = [LOOPBACK_NAMES]
        if self.bound and not is_loopback(self.bound):
            names.append(self.bound)
        return ", ".join([*names, *sorted(self.allowed)])

    def middleware(self):
        """The admin sub-application's guard: Host, then token, then a JSON body for a POST."""

        @web.middleware
        async def guard(request: web.Request, handler) -> web.StreamResponse:
            host = request.headers.get("Host")
            if not self.host_allowed(host):
                return _refuse(
                    403,
                    f"The admin API answers requests for {self.describe()}, not for Host "
                    f"{host!r}; start the mock with --allow-host NAME to add a name",
                )
            if (
                self.token is not None
                and not _static_page(request)
                and not _bearer_matches(request.headers.get("Authorization", ""), self.token)
            ):
                answer = _refuse(401, "The admin API needs Authorization: Bearer <the --admin-token value>")
                answer.headers["WWW-Authenticate"] = 'Bearer realm="mockserver admin"'
                return answer
            if request.method == "POST" and request.content_type != "application/json":
                given = request.headers.get("Content-Type")
                return _refuse(
                    415,
                    f"Admin calls that change state take Content-Type: application/json, not {given!r}"
                    if given
                    else "Admin calls that change state take Content-Type: application/json "
                    "(e.g. curl -H 'Content-Type: application/json' -d '{}')",
                )
            return await handler(request)

        return guard


def warning(host: str, token: str | None) -> str | None:
    """The line `serve` prints when the admin API is reachable beyond this machine without a token."""
    if token or is_loopback(host):
        return None
    where = "every address of this machine" if host in ANY_ADDRESS else host
    return (
        f"mockserver: warning: listening on {where}: the admin API (/__mock/: journal, reset, clock) has no "
        "authentication; anyone who can reach it can use it (set --admin-token TOKEN)"
    )


def warn(host: str, token: str | None) -> None:
    """Print `warning`'s line on stderr, if any (the `serve` and `proxy` commands, before listening)."""
    exposed = warning(host, token)
    if exposed:
        print(exposed, file=sys.stderr, flush=True)


def _static_page(request: web.Request) -> bool:
    """The dashboard's page holds no data (a browser cannot send a token to open it); its calls send the token."""
    return request.method == "GET" and request.path == "/__mock/ui"


def admin_headers() -> dict[str, str]:
    """What a client of the admin API sends: the token of MOCKSERVER_ADMIN_TOKEN, if set."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8", "surrogateescape")
    )


def _refuse(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)
