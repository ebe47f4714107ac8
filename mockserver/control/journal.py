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


class Journal:
    def __init__(self, size: int = 500) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)

    def find(self, *, path: str | None = None, app_id: str | None = None, method: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """Entries matching every filter given; `path` ending in `*` matches a prefix."""
        found = [e for e in self.entries
                 if _path_matches(path, e["path"])
                 and (app_id is None or e["app_id"] == app_id)
                 and (method is None or e["method"] == method.upper())]
        return found[-limit:] if limit else found

    def clear(self, app_id: str | None = None) -> None:
        if app_id is None:
            self.entries.clear()
            return
        kept = [e for e in self.entries if e["app_id"] != app_id]
        self.entries.clear()
        self.entries.extend(kept)


def _path_matches(pattern: str | None, path: str) -> bool:
    if pattern is None:
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def journal_middleware(journal: Journal, skip: Callable[[web.Request], bool], now: Callable[[], str]):
    """Record each answered request (outermost, so injected faults and errors are seen too)."""

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if skip(request):
            return await handler(request)
        response = await handler(request)
        journal.add({
            "at": now(),
            "method": request.method,
            "path": request.path,
            "query": {key: request.query.getall(key) if len(request.query.getall(key)) > 1 else value
                      for key, value in request.query.items()},
            "headers": dict(request.headers),
            "app_id": request.headers.get("X-App-Id"),
            "body": await _request_body(request),
            "response": {
                "status": response.status,
                "headers": dict(response.headers),
                "body": _response_body(response),
            },
        })
        return response

    return middleware


async def _request_body(request: web.Request) -> Any:
    try:
        raw = await request.read()  # cached by aiohttp when the handler read it already
    except web.HTTPException:
        return "<body too large to keep>"
    return _decode(raw, request.content_type)


def _response_body(response: web.StreamResponse) -> Any:
    body = getattr(response, "body", None)  # a streamed response (a CSV download) keeps none
    if not isinstance(body, bytes):
        return None
    return _decode(body, response.content_type)


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw[:MAX_BODY_CHARS].decode("utf-8", errors="replace")
    if content_type == "application/json" and len(raw) <= MAX_BODY_CHARS:
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text
