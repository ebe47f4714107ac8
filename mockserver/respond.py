"""Turning results into HTTP responses, the same way for every vendor."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import orjson
from aiohttp import web

JSON = "application/json"
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}  # what content_type + charset would make


# the headers every answer gets (CORS, findings, the vendor's), set on the root app by create_app: its front
# middleware adds them to what handlers return; a handler that starts sending itself calls it first
FINISH: web.AppKey[Callable[[web.Request, web.StreamResponse], None]] = web.AppKey("finish", object)
SEND_TIMEOUT = web.AppKey("send_timeout", float)  # Settings.send_timeout, set on the root app by create_app
SEND_SECONDS = 60.0  # without it (an app built by hand)
MAX_HEADER_TEXT = 300  # characters of one diagnostic header value (X-Mock-Warning, X-Mock-Violation)


def header_text(text: str, limit: int = MAX_HEADER_TEXT) -> str:
    """`text` as one header value any client can read: whitespace runs folded to a space, then every
    control or non-ASCII character escaped (`\\x00`, `\\u00e9`), so no value a client sent can break
    the header block; cut to `limit` characters."""
    text = " ".join(text.split()).encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def json_bytes(body: Any) -> bytes:
    """orjson writes the bytes json.dumps(separators=(",", ":"), ensure_ascii=False) writes for our bodies,
    12× sooner: a page of 10 exports in 3.6 µs, not 45.6 (docs/performance.md, "Lists")."""
    try:
        return orjson.dumps(body)
    except TypeError:  # what orjson refuses (a key that is not a string, an int over 64 bits): json's way
        return _dumps(body).encode("utf-8")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """`body` as a JSON answer (json_bytes)."""
    return encoded_json_response(json_bytes(body), status, headers)


def encoded_json_response(data: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer of bytes json_bytes wrote (kept from an earlier answer: ExportService.rendered)."""
    return web.Response(
        body=data,
        status=status,
        headers={**headers, **JSON_HEADERS} if headers else JSON_HEADERS,
    )


_ORIGINS: dict[tuple[str, str], str] = {}  # (scheme, Host) → origin, for the few a server is reached by
# RFC 3986's authority as a Host header carries it: an IP literal or a registered name, then an optional port
_GOOD_HOSTS: set[str] = set()  # Host values bad_host found well-formed
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::([0-9]{1,5}))?")


def bad_host(request: web.Request) -> str | None:
    """Why the request's `Host` cannot name this server in a URL (RFC 9112 §3.2: a 400), or None.
    An empty Host is allowed: URLs then name the address the request came in on."""
    host = request.headers.get("Host")
    if not host or host in _GOOD_HOSTS:  # clients send the same Host on every request: checked once
        return None
    found = _HOST.fullmatch(host)
    if found is None or (found.group(2) is not None and int(found.group(2)) > 65535):
        return f"The Host header is not host[:port]: {header_text(host, 100)}"
    if len(_GOOD_HOSTS) < 256:  # Host is the client's to choose: keep a few
        _GOOD_HOSTS.add(host)
    return None


def origin(request: web.Request) -> str:
    """`str(request.url.origin())`, remembered: for the usual request target (a
    path, not an absolute URL) it depends on the scheme and Host alone, and
    building the URL costs more than the rest of a small answer's rendering.
    A request without a usable Host (empty, or one bad_host refuses) gets the
    address it came in on, so rendering a URL never fails after something was stored."""
    if not request.raw_path.startswith("/"):
        return str(request.url.origin())
    if not request.headers.get("Host"):  # before the cache: request.host is then the machine's name, which
        return _bound_origin(request)  # a client's Host may have put there
    key = (request.scheme, request.host)
    found = _ORIGINS.get(key)
    if found is None:
        if bad_host(request) is not None:
            return _bound_origin(request)  # not remembered: a server may be reached on several addresses
        found = str(request.url.origin())
        if len(_ORIGINS) < 256:  # Host is the client's to choose: keep a few
            _ORIGINS[key] = found
    return found


def _bound_origin(request: web.Request) -> str:
    """scheme://address:port of the socket the request came in on."""
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    if not sockname:
        return f"{request.scheme}://127.0.0.1"
    host, port = sockname[:2]
    return f"{request.scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def finish_headers(request: web.Request, response: web.StreamResponse) -> None:
    """What the app's front middleware adds to a returned answer (FINISH), for one a handler sends itself."""
    finish = request.config_dict.get(FINISH)
    if finish is not None:  # an app create_app did not build has none
        finish(request, response)


def no_content() -> web.Response:
    return web.Response(status=204)


async def stream(
    request: web.Request,
    produce: Callable[[], Iterable[bytes]],
    *,
    content_type: str,
    headers: dict[str, str] | None = None,
    charset: str | None = "utf-8",
) -> web.StreamResponse:
    """Send a generated body chunk by chunk, so memory stays flat however big it is
    (`charset=None` for binary bodies such as a zip).

    `produce()` makes the chunks synchronously (generating, sorting, zipping
    are CPU work): it runs on a thread of its own, never on the event loop,
    at most QUEUED chunks ahead of what the client has taken. An error before
    the first chunk is raised here, before the response starts (so it can
    still be answered as an error); when the client goes away, the producer
    is stopped at its next chunk. A client that takes nothing for SEND_TIMEOUT seconds (its
    window full, the connection open) is dropped the same way: its connection, its producer thread
    and the chunks queued for it are released."""
    timeout = request.config_dict.get(SEND_TIMEOUT, SEND_SECONDS)
    chunks = _Produced(produce)
    try:
        first = await chunks.next()
        response = web.StreamResponse(status=200, headers=headers)
        response.content_type = content_type
        if charset:
            response.charset = charset
        response.enable_chunked_encoding()
        finish_headers(request, response)
        await response.prepare(request)
        chunk = first
        while True:
            try:  # write_eof too: it sends the last chunk
                await asyncio.wait_for(response.write(chunk) if chunk is not None else response.write_eof(), timeout)
            except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError(f"the client took nothing for {timeout:g} s") from None
            if chunk is None:
                return response
            chunk = await chunks.next()
    finally:
        chunks.stop()


QUEUED = 8  # chunks (about 64 KiB each) a producer may run ahead of the client
_END = object()
PRODUCING, WAITING = "mockserver-stream", "mockserver-stream-idle"  # a producer thread's name, by what it does


class _Producers:
    """The threads producers run on: one that has finished waits for the next producer (KEEP of them at most)
    instead of ending. `Thread.start` makes the event loop wait until the new thread runs, and on a busy server
    the other threads hold the GIL: with two threads busy in Python, starting one held the caller 7.5 ms
    (median; 18 ms at p90), handing a job to a waiting one 14 µs (docs/performance.md, "Tenants")."""

    KEEP = 16  # waiting threads kept: about the downloads a busy server runs at once; a burst leaves no more

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker has none of its parent's threads

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._waiting = 0  # threads waiting for a job and not yet promised one

    def run(self, job: Callable[[], None]) -> None:
        """Run `job` on a waiting thread, or on a new one when none waits. A new thread is handed its job, not
        sent to the queue for it: a thread that finished meanwhile could take that job, leaving the new one
        waiting under the name of a busy producer."""
        with self._lock:
            start = self._waiting == 0
            if not start:
                self._waiting -= 1  # that thread's: it takes this job (or one put before)
        if start:
            threading.Thread(target=self._work, args=(job,), name=PRODUCING, daemon=True).start()
        else:
            self._jobs.put(job)

    def _work(self, job: Callable[[], None] | None) -> None:
        me = threading.current_thread()
        while True:
            me.name = PRODUCING
            job()
            job = None  # what it holds (a data set's generator) goes now, not when the next job comes
            me.name = WAITING
            with self._lock:
                if self._waiting >= self.KEEP:
                    return
                self._waiting += 1
            job = self._jobs.get()


_PRODUCERS = _Producers()


class _Produced:
    """The chunks of `produce()`, made on a producer thread (_Producers) and handed to the
    event loop through a bounded queue (the thread waits while it is full)."""

    def __init__(self, produce: Callable[[], Iterable[bytes]]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: queue.Queue = queue.Queue(QUEUED)
        self._ready = asyncio.Event()
        self._stopped = threading.Event()
        _PRODUCERS.run(partial(self._run, produce))

    def _run(self, produce: Callable[[], Iterable[bytes]]) -> None:
        chunks = None
        try:
            chunks = iter(produce())
            for chunk in chunks:
                if chunk and not self._put(chunk):
                    return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop, raised there
            self._put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator's `finally` blocks run on this thread

    def _put(self, item: object) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            try:
                self._loop.call_soon_threadsafe(self._ready.set)
            except RuntimeError:  # the loop is closed: nobody will read
                return False
            return True
        return False

    async def next(self) -> bytes | None:
        """The next chunk; None at the end."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                self._ready.clear()
                if self._queue.empty():  # nothing was put between the look and the clear
                    await self._ready.wait()
                continue
            if item is _END:
                return None
            if isinstance(item, BaseException):
                raise item
            return item

    def stop(self) -> None:
        """Let the producer go: it stops before its next chunk."""
        self._stopped.set()
