"""Listening: the one routine every way of serving uses (`mockserver serve`,
its `--workers`, mockserver.testing.ServerThread): `await listen(app, host, port)`.

A request aiohttp's HTTP parser refuses before any route or middleware sees
it (a NUL byte in the request line, a header over 8 KB, a bad Content-Length,
TLS spoken to the HTTP port) gets aiohttp's own generic 400, as the real
vendors' load balancers answer malformed HTTP with theirs, not with their
APIs' error bodies. Such refusals, and clients that go away mid-request, are
logged at debug level (aiohttp logs them as errors with a traceback), so a
fuzzer cannot fill the log.

Connections are dropped when idle: `idle_timeout` seconds (Settings, `serve
--idle-timeout`) without a complete request, whether the client sent nothing
yet, part of its headers (a slowloris), or nothing after its last answer.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import ssl
import sys

from aiohttp import web
from aiohttp.http import HttpProcessingError

from . import logs, tuning
from .app import MOUNTS, SERVICES, create_app
from .control import index
from .options import Settings
from .tls import context_for

log = logging.getLogger("mockserver")
IDLE_SECONDS = 60.0  # for an app create_app did not build (no Settings.idle_timeout)


class _ClientFaults(logging.Filter):
    """aiohttp logs each request its parser refuses (a 4xx it answers itself) and each client that went
    away mid-request (a truncated body, a dropped download) with ERROR and a traceback: one line at DEBUG
    instead. Errors of the server itself keep their level."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ConnectionError) or (isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.msg = f"{record.msg}: %s"
            record.args = (*record.args, exc) if isinstance(record.args, tuple) else (exc,)
            record.exc_info = record.exc_text = None
        return True


HTTP_LOG = logging.getLogger("mockserver.http")  # the connections' logger (aiohttp's `logger` option)
HTTP_LOG.addFilter(_ClientFaults())


async def listen(
    app: web.Application,
    host: str,
    port: int,
    *,
    reuse_port: bool | None = None,
    settle: bool = False,
    ssl_context: ssl.SSLContext | None = None,
) -> web.AppRunner:
    """Serve `app` on host:port until `await runner.cleanup()`; the runner's addresses say the port.

    `settle` freezes the heap (tuning.settle_heap): only for a process that does nothing but serve
    (`mockserver serve` and its workers). In a test or an embedding program it would keep every cycle
    alive at that moment forever: a suite starting many servers grew to tens of GB. `ssl_context`: HTTPS
    (mockserver.tls.server_context)."""
    idle = app[SERVICES].settings.idle_timeout if SERVICES in app else IDLE_SECONDS
    runner = web.AppRunner(app, access_log=None, logger=HTTP_LOG, keepalive_timeout=idle)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port, ssl_context=ssl_context).start()
    except BaseException:
        await runner.cleanup()
        raise
    if settle:
        tuning.settle_heap()  # start-up's objects out of the collector's way: steadier answers
    return runner


def cannot_listen(command: str, settings: Settings, exc: OSError) -> int:
    """One line and exit 2; most often another server holds the port, so say which option moves it."""
    reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
    hint = "; choose another with --port (0 picks a free one)" if exc.errno == errno.EADDRINUSE else ""
    print(
        f"mockserver {command}: error: cannot listen on {settings.host}:{settings.port}: {reason}{hint}",
        file=sys.stderr,
    )
    return 2


async def serve_until_stopped(settings: Settings, upstream: str | None = None, **create) -> None:
    """Serve `create_app(settings, **create)` until SIGINT or SIGTERM, after printing the banner (`upstream`:
    the proxy's, which says where requests go)."""
    app = create_app(settings, lazy=True, **create)
    runner = await listen(app, settings.host, settings.port, settle=True, ssl_context=context_for(settings))
    about = index.describe(app[MOUNTS].vendors, settings, index.base_url(settings, runner.addresses[0][1]))
    lines = index.banner(about)
    if upstream:  # the proxy: where every request goes
        lines.insert(1, f"  forwarding every request to {upstream}")
    print("\n".join(lines), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    logs.flush_summaries()
    print("mockserver stopping", flush=True)
    await runner.cleanup()
