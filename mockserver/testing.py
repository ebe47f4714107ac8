"""Run the mock on a real listening port from inside another program's process.

Tests and the pytest plugin use this: the server gets its own thread and event
loop, so synchronous clients (the official SDKs) can talk to it over HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from aiohttp import web

from .app import Settings, create_app
from .clock import Clock
from .serving import listen
from .tls import CA_FILE, context_for


class ServerThread:
    """`with ServerThread(settings) as server: server.url` — stopped on exit."""

    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None, **create_kwargs) -> None:
        self.settings = settings or Settings(port=0)
        if self.settings.tls:  # HTTPS: `server.ca_file` is what clients trust
            from .tls import prepare

            self.settings.tls_dir = str(prepare(self.settings.tls_dir).parent)
        self.clock = clock or Clock()
        self.app = create_app(self.settings, clock=self.clock, **create_kwargs)
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="mockserver", daemon=True)
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None

    @property
    def ca_file(self) -> str | None:
        """With TLS on: the certificate authority's file, for clients to trust."""
        return str(Path(self.settings.tls_dir, CA_FILE)) if self.settings.tls else None

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _start(self) -> None:
        self._runner = await listen(
            self.app, self.settings.host, self.settings.port, ssl_context=context_for(self.settings)
        )
        host, port = self._runner.addresses[0][:2]
        self.url = f"{'https' if self.settings.tls else 'http'}://{host}:{port}"
