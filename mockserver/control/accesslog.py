"""`serve --access-log`: one line per request on the `mockserver.access` logger.

    127.0.0.1 GET /v1/exports/exp_1/download?token=**** 200 1.4 ms

Off by default: the journal (`GET /__mock/requests`) is the detailed record. The line holds no
header (so no Authorization or X-App-Token value), masks the value of every query parameter
named like a credential (`token=`, `api_key=` …) and a capability path segment as the journal does
(mockserver.redact), and escapes control characters (ANSI escapes …) so a request cannot write to the
terminal (mockserver.logs).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl, quote

from aiohttp import web

from .. import redact
from ..logs import escape

log = logging.getLogger("mockserver.access")
MAX_TEXT = 500  # characters of the request target kept on the line


def shown(text: str) -> str:
    """Client-sent text safe for a terminal: control characters escaped (mockserver.logs), cut to MAX_TEXT."""
    text = escape(text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def masked_query(query_string: str) -> str:
    """The query as the journal keeps it: credential-like parameters masked (mockserver.redact)."""
    pairs = redact.query(parse_qsl(query_string, keep_blank_values=True))
    return "&".join(f"{quote(name, safe='[]$.*-_')}={quote(value, safe='$.*-_:,')}" for name, value in pairs)


def line(request: web.Request, status: int, elapsed: float) -> str:
    query = masked_query(request.query_string) if request.query_string else ""
    target = redact.path(request.path) + (f"?{query}" if query else "")
    return f"{request.remote} {shown(request.method)} {shown(target)} {status} {elapsed * 1000:.1f} ms"


def middleware():
    """The outermost middleware when `--access-log` is on: it sees every answer's final status."""

    @web.middleware
    async def access(request: web.Request, handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            log.info("%s", line(request, status, time.perf_counter() - started))

    return access
