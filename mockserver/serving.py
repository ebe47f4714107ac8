"""Listening: the aiohttp runner every way of serving uses (`mockserver serve`,
its `--workers`, and ServerThread in tests).

It differs from aiohttp's AppRunner in one thing: a request that aiohttp's
HTTP parser refuses before any route or middleware sees it — a NUL byte or a
control character in the request line or a header, a 10 KB path segment, a
header over 8 KB, a bad Content-Length, TLS spoken to the HTTP port — is
answered in the vendor's error shape like every other error (aiohttp would
send text/plain), and logged at debug level rather than as an error with a
traceback, so a fuzzer cannot fill the log. Errors that escape the app's own
error middleware (it catches everything, so this is a last resort) become the
vendor's 500 the same way.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from .app import SERVICES
from .errors import ApiError
from .respond import json_response

log = logging.getLogger("mockserver")


class Runner(web.AppRunner):
    """`Runner(app)`: an AppRunner whose connections answer HTTP-level errors in the vendor's shape."""

    def __init__(self, app: web.Application, **kwargs) -> None:
        kwargs.setdefault("access_log", None)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        vendors = self.app[SERVICES].vendors if SERVICES in self.app else []
        if type(server) is web.Server and vendors:  # aiohttp's own class: give its connections our handler
            server.__class__ = _Server
            server.mock_vendor = vendors[0]
        return server


class _Server(web.Server):
    mock_vendor = None

    def __call__(self) -> RequestHandler:
        handler = _Handler(self, loop=self._loop, **self._kwargs)
        handler.mock_vendor = self.mock_vendor
        return handler


class _Handler(RequestHandler):
    mock_vendor = None

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if isinstance(exc, ConnectionError):
            raise exc  # the client went away mid-request: aiohttp drops the connection quietly
        vendor = self.mock_vendor
        if vendor is None or request.writer.output_size > 0:  # too late for a body of ours
            return super().handle_error(request, status, exc, message)
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        else:
            self.log_debug("Refused a request from %s that is not valid HTTP: %s", request.remote, exc)
        response = json_response(vendor.error_body(_api_error(status, message, exc), vendor.request_id()),
                                 status=status)
        response.force_close()
        return response


def _api_error(status: int, message: str | None, exc: BaseException | None) -> ApiError:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if status >= 500:
        return ApiError(status, "internal_error", phrase, "The mock failed; see its log")
    # aiohttp's message: "Invalid header value char:\n\n  b'X-Foo: a\\x00b'\n ^": its first line says what
    reason = (message or getattr(exc, "message", None) or str(exc or "") or phrase).strip().splitlines()
    reason = reason[0].rstrip(":") if reason else phrase
    reason = reason.split(": bytearray(", 1)[0].split(": b'", 1)[0][:200]
    return ApiError(status, phrase.lower().replace(" ", "_").replace("-", "_"), phrase,
                    f"The request is not valid HTTP: {reason}")
