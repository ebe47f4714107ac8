"""`mockserver serve --workers N`: N processes answering on one port.

The parent binds the port first, without listening (SO_REUSEPORT; it only
holds the port, so `--port 0` becomes one free port for all), then forks N
workers. Each worker listens on that port with SO_REUSEPORT, so the kernel
spreads new connections over them, and serves from the same persistent store:
`--state FILE` (SQLite) or `--state redis://…`; with neither, a temporary
SQLite file that is deleted when the server stops. So an export created
through one worker is visible, consistent and advancing through every other:
the store is the only state that matters, the mock clock's offset lives in it
(SharedClock), and each worker mints ids from a stream of its own.

What stays per worker: the request journal (GET /__mock/requests shows what
the worker that answered saw), the rate-limit counters of `--rate-limit` (a
client may get up to N times the limit) and the random draws of `--latency` /
`--error-rate`.

The parent supervises: a worker that dies is replaced; SIGINT or SIGTERM to
the parent stops every worker (SIGTERM, then SIGKILL after 10 s) and the
parent exits 0. A worker whose parent disappears (SIGKILL) stops by itself
within a second. Linux (or any system with SO_REUSEPORT and fork).

Why not gunicorn's GunicornWebWorker, which aiohttp documents for this: its
arbiter would replace the fork-and-replace loop, but not what is ours around
it (the temporary store's life, each worker's id stream, the one-line CLI
errors, one printed address for `--port 0`), and the app would then start in
two ways, gunicorn's and `serving.listen()`, which the tests and the CLI share.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import replace
from multiprocessing.connection import wait

from . import registry, tls
from .app import MOUNTS, Settings, create_app, default_store, load_fixtures
from .clock import Clock, SharedClock
from .control.index import banner, base_url, describe
from .ids import Ids, claim_stream
from .serving import listen
from .sqlite_store import SqliteStore

log = logging.getLogger("mockserver")
START_SECONDS = 60.0  # every worker must be listening by then
STOP_SECONDS = 10.0  # then SIGKILL
RESTARTS = 5  # workers replaced within RESTART_WINDOW before the server gives up
RESTART_WINDOW = 60.0


class WorkersError(ValueError):
    """The workers could not be started; the message says why."""


def serve(settings: Settings, announce=print) -> int:
    """Run `settings.workers` worker processes until SIGINT/SIGTERM; the exit code."""
    if not hasattr(socket, "SO_REUSEPORT") or "fork" not in multiprocessing.get_all_start_methods():
        raise WorkersError("--workers needs SO_REUSEPORT and fork (Linux); run one process instead")
    temporary = None
    if not settings.stateless and not settings.state:
        temporary = tempfile.mkdtemp(prefix="mockserver-")
        settings = replace(settings, state=os.path.join(temporary, "state.db"))
        log.info(
            "no --state: the %d workers share a temporary SQLite store, %s (deleted when the server stops)",
            settings.workers,
            settings.state,
        )
    holder = None
    try:
        settings = _prepare(settings, temporary is not None)
        holder = _hold_port(settings.host, settings.port)
        settings = replace(settings, port=holder.getsockname()[1])
        return _Supervisor(settings, temporary is not None, announce).run()
    finally:
        if holder is not None:
            holder.close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def _prepare(settings: Settings, temporary: bool) -> Settings:
    """Open the store once before forking (a new SQLite file gets its tables, an
    unreachable Redis is reported now) and store the fixtures once: workers get
    what loading them changed in each vendor (e.g. pinned tokens) as that vendor's
    options (Vendor.fixture_options) and do not store them again."""
    return asyncio.run(_prepare_store(settings, temporary))


async def _prepare_store(settings: Settings, temporary: bool) -> Settings:
    store = SqliteStore(settings.state, durable=False) if temporary else default_store(settings)
    try:
        await store.open()
        if not settings.fixtures:
            return settings
        clock = SharedClock(store) if store.shared else Clock()
        await clock.sync()
        ids = Ids(settings.seed, await claim_stream(store) if store.shared else 0)
        vendors = registry.build(settings)
        await load_fixtures(settings.fixtures, vendors, store=store, ids=ids, clock=clock)
        options = {**settings.vendor_options}
        for vendor in vendors:
            options[vendor.name] = {**options.get(vendor.name, {}), **vendor.fixture_options()}
        return replace(settings, fixtures=None, vendor_options=options)
    finally:
        await store.close()


def _hold_port(host: str, port: int) -> socket.socket:
    """Bind (not listen) with SO_REUSEPORT: the port is ours, the workers' sockets share it. And with
    SO_REUSEADDR, as asyncio's own listening sockets have: a port whose last server closed keep-alive
    connections holds them in TIME_WAIT for up to a minute, which a socket without it may not bind."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    holder = socket.socket(family, kind, proto)
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(address)
    except OSError:
        holder.close()
        raise
    return holder


class _Supervisor:
    def __init__(self, settings: Settings, temporary: bool, announce) -> None:
        self.settings = settings
        self.temporary = temporary
        self.announce = announce
        self.context = multiprocessing.get_context("fork")
        self.workers: dict[int, multiprocessing.Process] = {}
        self.pipes: dict[int, object] = {}
        self.stopping = False
        self.restarts: list[float] = []

    def run(self) -> int:
        previous = {signum: signal.signal(signum, self._stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            for index in range(self.settings.workers):
                self._start(index)
            gc.enable()  # off for start-up (tuning.starting); each worker turns it on once it listens
            about = self._wait_ready()
            if about is None:
                return 0 if self.stopping else 1
            # the single process's banner (what is served, where, credentials, admin API, config file), as
            # the first worker to listen describes it: every worker serves the same
            self.announce("\n".join(banner(about, f", {self.settings.workers} workers")), flush=True)
            return self._supervise()
        finally:
            self._shutdown()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _start(self, index: int) -> None:
        receiver, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_worker_main,
            name=f"mockserver-worker-{index}",
            daemon=False,
            args=(index, self.settings, sender, os.getpid(), self.temporary),
        )
        process.start()
        sender.close()
        self.workers[index] = process
        self.pipes[index] = receiver

    def _wait_ready(self) -> dict | None:
        """What the workers serve (mockserver.control.index.describe) once all listen; None if one cannot."""
        waiting, about = set(self.workers), None
        deadline = time.monotonic() + START_SECONDS
        while waiting and not self.stopping:
            if time.monotonic() > deadline:
                log.error("workers %s did not start within %g s", sorted(waiting), START_SECONDS)
                return None
            wait([self.pipes[i] for i in waiting] + [self.workers[i].sentinel for i in waiting], timeout=0.2)
            for index in list(waiting):
                pipe, process = self.pipes[index], self.workers[index]
                if pipe.poll():
                    try:
                        message = pipe.recv()
                    except EOFError:
                        message = ("failed", "exited while starting")
                    if message[0] == "ready":
                        waiting.discard(index)
                        about = about or message[1]
                        continue
                    log.error("worker %d could not start: %s", index, message[1])
                    return None
                if not process.is_alive():
                    log.error("worker %d exited while starting (exit code %s)", index, process.exitcode)
                    return None
        return None if waiting else about

    def _supervise(self) -> int:
        while not self.stopping:
            wait([process.sentinel for process in self.workers.values()], timeout=0.5)
            for index, process in list(self.workers.items()):
                if self.stopping or process.is_alive():
                    continue
                now = time.monotonic()
                self.restarts = [t for t in self.restarts if t > now - RESTART_WINDOW] + [now]
                if len(self.restarts) > RESTARTS:
                    log.error("workers keep dying (%d in %g s); stopping", len(self.restarts), RESTART_WINDOW)
                    return 1
                log.warning(
                    "worker %d (pid %d) exited with code %s; starting another", index, process.pid, process.exitcode
                )
                self._start(index)
        return 0

    def _shutdown(self) -> None:
        alive = [p for p in self.workers.values() if p.is_alive()]
        if alive:
            print("mockserver stopping", flush=True)
        for process in alive:
            process.terminate()  # SIGTERM to that pid: the worker closes its connections and its store
        deadline = time.monotonic() + STOP_SECONDS
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in alive:
            if process.is_alive():
                log.warning("worker pid %d did not stop within %g s; killing it", process.pid, STOP_SECONDS)
                process.kill()
                process.join()
        for pipe in self.pipes.values():
            pipe.close()


def _worker_main(index: int, settings: Settings, ready, parent: int, temporary: bool) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):  # the parent's handlers mean nothing here
        signal.signal(signum, signal.SIG_DFL)
    try:
        asyncio.run(_worker(settings, ready, parent, temporary))
    except Exception as exc:  # reported to the parent, which stops
        try:
            ready.send(("failed", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass
        log.exception("worker %d failed", index)
        raise SystemExit(1) from None


async def _worker(settings: Settings, ready, parent: int, temporary: bool) -> None:
    store = SqliteStore(settings.state, durable=False) if temporary else None  # a throwaway file needs no fsync
    runner = None
    try:
        app = create_app(settings, store=store, lazy=True)
        runner = await listen(
            app,
            settings.host,
            settings.port,
            reuse_port=True,
            settle=True,
            ssl_context=tls.context_for(settings),
        )
        ready.send(("ready", describe(app[MOUNTS].vendors, settings, base_url(settings, settings.port))))
        ready.close()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        orphaned = False
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except asyncio.TimeoutError:
                if os.getppid() != parent:  # the parent was killed: do not linger as an orphan
                    log.warning("worker pid %d: the parent is gone; stopping", os.getpid())
                    orphaned = True
                    stop.set()
    finally:
        if runner is not None:
            await runner.cleanup()
        if store is not None:
            await store.close()
    if orphaned and temporary:  # nobody else will delete the temporary store now
        shutil.rmtree(os.path.dirname(settings.state), ignore_errors=True)
