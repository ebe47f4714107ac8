"""A bounded journal of the requests the mock answered, newest last.

Tests read it through `GET /__mock/requests` to assert what a client really
sent (headers, query, body) and what it got back. Only vendor API requests are
kept, never the admin API's own. Old entries fall off the end, so a
long-running server's memory stays flat.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

MAX_BODY_CHARS = 64 * 1024  # a bigger body is kept cut to this size


class Lazy:
    """An entry whose costly parts (decoded bodies, copied headers, the time as
    text) are made only when the journal is read: most entries never are."""

    __slots__ = ("method", "path", "app_id", "_make", "_made")

    def __init__(self, method: str, path: str, app_id: str | None, make: Callable[[], dict[str, Any]]) -> None:
        self.method, self.path, self.app_id = method, path, app_id
        self._make, self._made = make, None

    def __getitem__(self, key: str) -> Any:
        return self.entry()[key]

    def entry(self) -> dict[str, Any]:
        if self._made is None:
            self._made, self._make = self._make(), None
        return self._made


class Journal:
    def __init__(self, size: int = 500) -> None:
        self.entries: deque[dict[str, Any] | Lazy] = deque(maxlen=size)

    def add(self, entry: dict[str, Any] | Lazy) -> None:
        self.entries.append(entry)

    def find(self, *, path: str | None = None, app_id: str | None = None, method: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """Entries matching every filter given; `path` ending in `*` matches a prefix."""
        found = [e for e in self.entries
                 if _path_matches(path, _field(e, "path"))
                 and (app_id is None or _field(e, "app_id") == app_id)
                 and (method is None or _field(e, "method") == method.upper())]
        found = found[-limit:] if limit else found
        return [e.entry() if isinstance(e, Lazy) else e for e in found]

    def clear(self, app_id: str | None = None) -> None:
        if app_id is None:
            self.entries.clear()
            return
        kept = [e for e in self.entries if _field(e, "app_id") != app_id]
        self.entries.clear()
        self.entries.extend(kept)


def _field(entry: dict[str, Any] | Lazy, name: str) -> Any:
    return getattr(entry, name) if isinstance(entry, Lazy) else entry[name]


def _path_matches(pattern: str | None, path: str) -> bool:
    if pattern is None:
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def journal_middleware(journal: Journal, skip: Callable[[web.Request], bool], now: Callable[[], Any],
                       show: Callable[[Any], Any] = lambda at: at):
    """Record each answered request (outermost, so injected faults and errors are seen too).

    `now()` stamps the entry as it is made; `show(stamp)` is its `at` when read.
    What a request and its response were is taken as it happens (the request's
    headers and query cannot change; the response's headers are copied) and put
    into shape only when the journal is read.
    """

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if skip(request):
            return await handler(request)
        response = await handler(request)
        at = now()
        method, path, query, headers = request.method, request.path, request.query, request.headers
        request_body = await _request_body(request)
        status, response_headers, response_body = response.status, dict(response.headers), _response_body(response)

        def make() -> dict[str, Any]:
            return {
                "at": show(at),
                "method": method,
                "path": path,
                "query": {key: query.getall(key) if len(query.getall(key)) > 1 else value
                          for key, value in query.items()},
                "headers": dict(headers),
                "app_id": headers.get("X-App-Id"),
                "body": request_body(),
                "response": {"status": status, "headers": response_headers, "body": response_body()},
            }

        journal.add(Lazy(method, path, headers.get("X-App-Id"), make))
        return response

    return middleware


async def _request_body(request: web.Request) -> Callable[[], Any]:
    """The request body, decoded when called."""
    if not request.body_exists:  # nothing was sent (a GET): reading would give b"", which decodes to None
        return _nothing
    if not request.content.is_eof():  # never wait for a body the handler did not (e.g. a slow one it refused)
        return lambda: "<body not received>"
    try:
        raw = await request.read()  # cached by aiohttp when the handler read it already
    except web.HTTPException:
        return lambda: "<body too large to keep>"
    content_type = request.content_type if raw else ""
    return lambda: _decode(raw, content_type)


def _response_body(response: web.StreamResponse) -> Callable[[], Any]:
    """The response body, decoded when called."""
    body = getattr(response, "body", None)  # a streamed response (a CSV download) keeps none
    if not isinstance(body, bytes):
        return lambda: None
    header = response.headers.get("Content-Type")  # its media type is worked out (as aiohttp does) when read
    return lambda: _decode(body, web.StreamResponse(headers={"Content-Type": header}).content_type
                           if header is not None else "application/octet-stream")


def _nothing() -> None:
    return None


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw[:MAX_BODY_CHARS].decode("utf-8", errors="replace")
    if content_type == "application/json" and len(raw) <= MAX_BODY_CHARS:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # kept as text: malformed, or nested too deep to decode
            pass
    return text
