"""Turning results into HTTP responses, the same way for every vendor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aiohttp import web

JSON = "application/json"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type=JSON,
        charset="utf-8",
        headers=headers,
    )


def no_content() -> web.Response:
    return web.Response(status=204)


async def stream(request: web.Request, chunks: Iterator[bytes], *, content_type: str,
                 headers: dict[str, str] | None = None) -> web.StreamResponse:
    """Send a generated body chunk by chunk, so memory stays flat however big it is."""
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = content_type
    response.charset = "utf-8"
    response.enable_chunked_encoding()
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response
