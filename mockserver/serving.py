"""Listening: the one routine every way of serving uses (`mockserver serve`,
its `--workers`, mockserver.testing.ServerThread): `await listen(app, host, port)`.

Its runner differs from aiohttp's AppRunner in one thing: a request that
aiohttp's HTTP parser refuses before any route or middleware sees it — a NUL
byte or a control character in the request line or a header, a 10 KB path
segment, a header over 8 KB, a bad Content-Length, TLS spoken to the HTTP
port — is answered in the error shape of the vendor whose prefix the path lies
under (the first mounted vendor when there is no path), like every other
error (aiohttp would send text/plain), and logged at debug level rather than
as an error with a traceback, so a fuzzer cannot fill the log. Errors that
escape the app's own error middleware (it catches everything, so this is a
last resort) become the vendor's 500 the same way.

aiohttp has no public hook for the body of those answers: the one place that
reaches into it is `_vendor_shaped_server`, and tests/test_private_apis.py fails
loudly if the aiohttp internals it relies on change.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from . import tuning
from .app import MOUNTS, Mounts
from .errors import ApiError
from .respond import json_response

log = logging.getLogger("mockserver")
_REQUEST_LINE = re.compile(rb"^[A-Z]{1,20} (/[^ ?]{0,2048})")


async def listen(app: web.Application, host: str, port: int, *, reuse_port: bool | None = None,
                 settle: bool = False) -> web.AppRunner:
    """Serve `app` on host:port until `await runner.cleanup()`; the runner's addresses say the port.

    `settle` freezes the heap (tuning.settle_heap): only for a process that does nothing but serve
    (`mockserver serve` and its workers). In a test or an embedding program it would keep every cycle
    alive at that moment forever: a suite starting many servers grew to tens of GB."""
    runner = Runner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port).start()
    except BaseException:
        await runner.cleanup()
        raise
    if settle:
        tuning.settle_heap()  # start-up's objects out of the collector's way: steadier answers
    return runner


class Runner(web.AppRunner):
    """`Runner(app)`: an AppRunner whose connections answer HTTP-level errors in the vendor's shape."""

    def __init__(self, app: web.Application, **kwargs) -> None:
        kwargs.setdefault("access_log", None)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        if MOUNTS in self.app:
            _vendor_shaped_server(server, self.app[MOUNTS])
        return server


def _vendor_shaped_server(server: web.Server, mounts: Mounts) -> None:
    """The one use of aiohttp internals: give the server's connections our handle_error.
    aiohttp builds a RequestHandler per connection in web.Server.__call__; no public
    option chooses its class, so the server's class is swapped for a subclass that does."""
    if type(server) is web.Server:  # aiohttp's own class, as AppRunner makes it
        server.__class__ = _Server
        server.mock_mounts = mounts  # type: ignore[attr-defined]


class _Server(web.Server):
    mock_mounts: Mounts | None = None

    def __call__(self) -> RequestHandler:
        handler = _Handler(self, loop=self._loop, **self._kwargs)
        handler.mock_mounts = self.mock_mounts
        return handler


class _Handler(RequestHandler):
    mock_mounts: Mounts | None = None
    mock_path: str | None = None  # the path of the latest request line seen on this connection

    def data_received(self, data: bytes) -> None:
        """asyncio's Protocol hook: note the request line's path before aiohttp parses it, since a
        request its parser refuses reaches handle_error without one."""
        line = _REQUEST_LINE.match(data)
        if line is not None:
            self.mock_path = line.group(1).split(b"?", 1)[0].decode("latin-1")
        super().data_received(data)

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if isinstance(exc, ConnectionError):
            raise exc  # the client went away mid-request: aiohttp drops the connection quietly
        mounts = self.mock_mounts
        if mounts is None or request.writer.output_size > 0:  # too late for a body of ours
            return super().handle_error(request, status, exc, message)
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        else:
            self.log_debug("Refused a request from %s that is not valid HTTP: %s", request.remote, exc)
        vendor = mounts.vendor_for(self.mock_path)
        response = json_response(vendor.http_error_body(_api_error(status, message, exc)), status=status)
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
