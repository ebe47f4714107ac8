"""A bounded journal of the requests the mock answered, newest last.

Tests read it through `GET /__mock/requests` to assert what a client really
sent (headers, query, body) and what it got back. Only vendor API requests are
kept, never the admin API's own. Old entries fall off the end, so a
long-running server's memory stays flat: each body is kept cut to
`MAX_BODY_CHARS` bytes as it is recorded.

No secret is kept (mockserver.redact): credentials are masked and tokens redacted
as the entry is recorded, and a tenant whose name is its key is filed under a label;
`?app_id=` and `clear()` take the key itself or that label.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from .. import findings, redact

MAX_BODY_CHARS = 64 * 1024  # a bigger body is kept cut to this size

# The app a request acted for, as its vendor's authentication found it (an X-App-Id,
# a Chargebee API key); the pipeline sets it, the journal files the entry under it.
APP_ID = web.RequestKey("app_id", str)


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

    def find(
        self, *, path: str | None = None, app_id: str | None = None, method: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Entries matching every filter given; `path` ending in `*` matches a prefix."""
        names = _names(app_id)
        found = [
            e
            for e in self.entries
            if _path_matches(path, _field(e, "path"))
            and (names is None or _field(e, "app_id") in names)
            and (method is None or _field(e, "method") == method.upper())
        ]
        found = found[-limit:] if limit else found
        return [e.entry() if isinstance(e, Lazy) else e for e in found]

    def clear(self, app_id: str | None = None) -> None:
        if app_id is None:
            self.entries.clear()
            return
        names = _names(app_id)
        kept = [e for e in self.entries if _field(e, "app_id") not in names]
        self.entries.clear()
        self.entries.extend(kept)


def _names(app_id: str | None) -> set[str] | None:
    """The names an app is filed under: its id, or the label of a key given whole."""
    return None if app_id is None else {app_id, redact.label(app_id)}


def _field(entry: dict[str, Any] | Lazy, name: str) -> Any:
    return getattr(entry, name) if isinstance(entry, Lazy) else entry[name]


def _path_matches(pattern: str | None, path: str) -> bool:
    if pattern is None:
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


Claimed = Callable[[web.Request], "str | None"]


def recorder(
    journal: Journal, now: Callable[[], Any], show: Callable[[Any], Any] = lambda at: at, claimed: Claimed | None = None
):
    """`await record(request, response)`: journal one exchange (the middleware's, and
    those answered before it, such as a refused CORS preflight). `claimed(request)`: who a
    request claims to be when its credentials were refused (the vendor's app_hint)."""

    async def record(request: web.Request, response: web.StreamResponse) -> None:
        headers, query = request.headers, request.query
        try:  # one lookup (a Request's `get` and `in` are Mapping's, each a [] in a try of its own)
            app_id, accepted = request[APP_ID], True
        except KeyError:  # refused, or no credentials asked
            app_id, accepted = None, False
        app_id = app_id or (claimed(request) if claimed else None)  # refused: what was claimed
        # the request's credentials: masked as kept
        headers, masked, secrets = redact.request_parts(headers, query, accepted=accepted)
        if masked is not None:
            query = MultiDict(masked)
        journal.add(
            _Recorded(
                request.method,
                redact.path(request.path),
                app_id,
                show,
                now(),
                query,
                headers,
                _kept(await _request_body(request), secrets) if request.body_exists else _NOTHING,
                response.status,
                # the mock's own headers (a Location's token is in its store anyway): masked when read
                CIMultiDict(response.headers),
                _kept(_response_body(response), secrets),
                findings.found(request),
            )
        )

    return record


class _Recorded(Lazy):
    """What the middleware keeps of one request: its parts as they were (the
    request's headers and query cannot change; the response's headers are a
    copy), put in the journal's shape when read."""

    __slots__ = (
        "_show",
        "_at",
        "_query",
        "_headers",
        "_body",
        "_status",
        "_response_headers",
        "_response_body",
        "_warnings",
    )

    def __init__(
        self,
        method: str,
        path: str,
        app_id: str | None,
        show: Callable[[Any], Any],
        at: Any,
        query,
        headers,
        body: tuple,
        status: int,
        response_headers: CIMultiDict,
        response_body: tuple,
        warnings=(),
    ) -> None:
        self.method, self.path, self.app_id, self._made = method, path, app_id, None
        self._show, self._at, self._query, self._headers, self._body = show, at, query, headers, body
        self._status, self._response_headers, self._response_body = status, response_headers, response_body
        self._warnings = warnings  # the request's findings (mockserver.findings): what X-Mock-Warning said

    def entry(self) -> dict[str, Any]:
        if self._made is None:
            query, headers = self._query, self._headers
            self._made = {
                "at": self._show(self._at),
                "method": self.method,
                "path": self.path,
                "query": {
                    key: query.getall(key) if len(query.getall(key)) > 1 else value for key, value in query.items()
                },
                "headers": dict(headers),
                "app_id": self.app_id,
                "body": _decode_kept(self._body),
                "response": {
                    "status": self._status,
                    "headers": {
                        name: redact.header_value(name, value) for name, value in self._response_headers.items()
                    },
                    "body": _decode_kept(self._response_body),
                },
                "warnings": [finding.as_json() for finding in self._warnings],
            }
        return self._made


_NOTHING = ("value", None)


async def _request_body(request: web.Request) -> tuple:
    """The request body as kept: ("value", v), or ("raw", bytes, media type) to decode when read."""
    if not request.body_exists:  # nothing was sent (a GET): reading would give b"", which decodes to None
        return _NOTHING
    if not request.content.is_eof():  # never wait for a body the handler did not (e.g. a slow one it refused)
        return ("value", "<body not received>")
    try:
        raw = await request.read()  # cached by aiohttp when the handler read it already
    except web.HTTPException:
        return ("value", "<body too large to keep>")
    return ("raw", raw, request.content_type if raw else "")


def _response_body(response: web.StreamResponse) -> tuple:
    """The response body as kept; its media type is worked out (as aiohttp does) when read."""
    body = getattr(response, "body", None)  # a streamed response (a CSV download) keeps none
    if not isinstance(body, bytes):
        return _NOTHING
    return ("response", body, response.headers.get("Content-Type"))


def _kept(kept: tuple, secrets: list[str]) -> tuple:
    """A body as the journal keeps it: cut to MAX_BODY_CHARS bytes (whether it was longer is kept
    too: a cut JSON body is shown as text), its secrets masked."""
    if kept[0] == "value":
        return kept
    raw = kept[1]
    whole = len(raw) <= MAX_BODY_CHARS
    if kept[0] == "response":  # the credentials it echoes masked now; the rest of the masking when read
        return (kept[0], redact.body_echoes(raw[:MAX_BODY_CHARS], secrets), kept[2], whole)
    return (kept[0], redact.body(raw[:MAX_BODY_CHARS], secrets), kept[2], whole)


def _decode_kept(kept: tuple) -> Any:
    if kept[0] == "value":
        return kept[1]
    raw, content_type, whole = kept[1], kept[2], kept[3]
    if kept[0] == "response":
        # The URL parameters, JSON values and capability segments the answer holds are the mock's
        # own (a download link's token, kept in its store anyway): masked as read, not per request.
        raw = redact.body(raw)
        content_type = (
            web.StreamResponse(headers={"Content-Type": content_type}).content_type
            if content_type is not None
            else "application/octet-stream"
        )
    return _decode(raw, content_type, whole)


def _decode(raw: bytes, content_type: str, whole: bool = True) -> Any:
    if not raw:
        return None
    text = raw[:MAX_BODY_CHARS].decode("utf-8", errors="replace")
    if content_type == "application/json" and whole and len(raw) <= MAX_BODY_CHARS:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # kept as text: malformed, or nested too deep to decode
            pass
    return text
