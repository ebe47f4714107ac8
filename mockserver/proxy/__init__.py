"""Proxy mode: the mock's own pipeline with a forwarding "behave" step.

    route → validate the request → forward to the upstream → validate the response → respond

As in Prism, proxying is not a second server: `create_app(..., proxy=Forwarder(url))`
builds the same application (routes from the spec, CORS, journal, error
middleware) and only swaps the step in the middle. Validation uses the mock's
own RequestValidator and Spec.check_response, but collects what they find
instead of refusing: the upstream's answer always goes back to the client,
with one `X-Mock-Violation` header per finding ("request: …", "response: …",
"route: …"). A path no operation of the spec matches is forwarded too, with a
route finding ("when someone simply wants to hit an URL, don't block them").
Authentication is the upstream's business; the mock checks none.

Only the request target's path and query are forwarded, joined onto --upstream
as a URL: a target that is not origin-form (`GET http://elsewhere/… HTTP/1.1`)
is refused (400), so no request line can send a client's credentials to
another host. Answers stream back as they arrive (a 68 MB CSV costs the proxy
a chunk, not 68 MB): only a JSON answer is held whole, up to CHECKED_BYTES, for
the contract check and the observers; a longer one streams on unchecked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from jsonschema import ValidationError
from multidict import CIMultiDict
from yarl import URL

from ..errors import ApiError
from ..pipeline import OPERATION, VENDOR
from ..respond import SEND_SECONDS, SEND_TIMEOUT, finish_headers, header_text
from ..services import Services
from ..spec import Operation
from ..validation import Invalid, RequestValidator, read_body
from ..vendors.base import Vendor

log = logging.getLogger("mockserver")
VIOLATION = "X-Mock-Violation"
TIMEOUT_SECONDS = 60  # to connect to the upstream, and between two reads of its answer
CHECKED_BYTES = 8 << 20  # a JSON answer up to this size is checked against the contract whole
CHUNK_BYTES = 64 << 10  # what a streamed answer is passed on in
# connection-level headers (RFC 9110 §7.6.1) and those aiohttp recomputes for the body it sends
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}
Exchange = Callable[[web.Request, Operation | None, aiohttp.ClientResponse, bytes], Any]

UPSTREAM_SESSION = web.AppKey("upstream_session", aiohttp.ClientSession)


class Forwarder:
    """Where to forward, and who else wants to see each exchange (the fixture recorder)."""

    def __init__(self, upstream: str, *, observers: list[Exchange] | None = None) -> None:
        upstream = upstream.rstrip("/")
        if not upstream.startswith(("http://", "https://")):
            raise ValueError(f"--upstream takes an http:// or https:// URL, not {upstream!r}")
        self.upstream = upstream
        self.base = URL(upstream)
        self.observers = list(observers or [])

    def install(self, app: web.Application) -> None:
        """The client session for the app's lifetime, and the catch-all route (added after the spec's)."""
        app.cleanup_ctx.append(self._session)
        self.install_fallback(app.router)

    def install_fallback(self, router: web.UrlDispatcher, prefix: str = "") -> None:
        """Forward what no operation matches: every path (on the root), and each path under a vendor's
        mount (`prefix`), whose own catch-all would otherwise answer 404 (app._add_vendor_routes)."""
        router.add_route("*", prefix + "/{tail:.*}", self._handler(None, None, None))

    async def _session(self, app: web.Application):
        timeout = aiohttp.ClientTimeout(sock_connect=TIMEOUT_SECONDS, sock_read=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=True) as session:
            app[UPSTREAM_SESSION] = session
            yield

    def pipeline(self, vendor: Vendor, op: Operation, behave, services: Services) -> Callable:
        """create_app's per-operation step, in proxy mode (`behave`, the mock's behaviour, goes unused)."""
        return self._handler(vendor, op, RequestValidator.of(op))

    def _handler(self, vendor: Vendor | None, op: Operation | None, validator: RequestValidator | None):
        names = {p.name.replace("-", "_"): p.name for p in op.parameters if p.location == "path"} if op else {}

        async def handle(request: web.Request) -> web.StreamResponse:
            findings: list[str] = []
            if vendor is not None:
                request[VENDOR] = vendor
                request[OPERATION] = op
            url = self.url_for(request.raw_path)
            raw = await read_body(request)
            if validator is None:
                findings.append(f"route: no operation of the contract matches {request.method} {request.path}")
            else:
                findings += _check_request(request, validator, names, raw, vendor)
            session = request.config_dict[UPSTREAM_SESSION]  # the root app's
            headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
            try:
                async with session.request(
                    request.method, url, headers=headers, data=raw or None, allow_redirects=False
                ) as upstream:
                    body, whole = await _head(upstream)
                    return await self._answer(request, op, vendor, upstream, body, whole, findings)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.warning("proxy: %s %s: upstream %s failed: %s", request.method, request.path, self.upstream, exc)
                if request.get(_STARTED):  # the answer is under way: all the client can be told is a cut
                    raise ConnectionResetError("the upstream's answer broke off") from None
                raise ApiError(
                    502,
                    "bad_gateway",
                    "Bad Gateway",
                    f"The upstream {self.upstream} did not answer: {exc or type(exc).__name__}",
                    headers={VIOLATION: "upstream: no answer"},
                ) from None

        return handle

    def url_for(self, target: str) -> URL:
        """The upstream URL of a request target: --upstream's origin and path, then the target's path and
        query, each as sent (encoded). Only origin-form targets (`/path?query`) are forwarded."""
        if not target.startswith("/"):
            raise ApiError(
                400,
                "bad_request",
                "Bad Request",
                f"The proxy forwards a path (/…), not the request target {header_text(target, 100)}",
            )
        path, _, query = target.partition("?")
        return URL.build(
            scheme=self.base.scheme,
            authority=self.base.raw_authority,
            path=self.base.raw_path.rstrip("/") + path,
            query_string=query,
            encoded=True,
        )

    async def _answer(
        self,
        request: web.Request,
        op: Operation | None,
        vendor: Vendor | None,
        upstream: aiohttp.ClientResponse,
        body: bytes,
        whole: bool,
        findings: list[str],
    ) -> web.StreamResponse:
        """The upstream's answer with the findings as headers: checked and observed when `body` is all of it,
        else streamed on (the contract check then sees the status and media type only)."""
        if op is not None and vendor is not None:
            findings += _check_response(vendor, op, upstream, body if whole else None)
        for finding in findings:
            log.warning("proxy: %s %s: %s", request.method, request.path, finding)
        if whole:
            for observe in self.observers:
                await observe(request, op, upstream, body)
        elif self.observers:
            log.warning(
                "proxy: %s %s: an answer over %d bytes is not recorded", request.method, request.path, len(body)
            )
        headers = CIMultiDict((k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP)
        for finding in findings:
            headers.add(VIOLATION, header_text(finding))
        if whole:
            return web.Response(status=upstream.status, body=body, headers=headers)
        response = web.StreamResponse(status=upstream.status, headers=headers)
        response.enable_chunked_encoding()
        finish_headers(request, response)
        await response.prepare(request)
        request[_STARTED] = True
        timeout = request.config_dict.get(SEND_TIMEOUT, SEND_SECONDS)
        chunk = body
        while chunk:
            try:
                await asyncio.wait_for(response.write(chunk), timeout)
            except asyncio.TimeoutError:  # the client stopped reading: let it and the upstream go
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError(f"the client took nothing for {timeout:g} s") from None
            chunk = await upstream.content.read(CHUNK_BYTES)
        await response.write_eof()
        return response


_STARTED = web.RequestKey("proxy_answer_started", bool)


async def _head(upstream: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """(the start of the answer, whether it is all of it): a JSON answer up to CHECKED_BYTES whole, so
    it can be checked and recorded; of any other (a CSV, a zip), its first chunk."""
    limit = CHECKED_BYTES if upstream.content_type == "application/json" else CHUNK_BYTES
    parts, size = [], 0
    while size < limit:
        part = await upstream.content.read(min(CHUNK_BYTES, limit - size))
        if not part:
            return b"".join(parts), True
        parts.append(part)
        size += len(part)
    body = b"".join(parts)
    return body, upstream.content.at_eof()


def _check_request(
    request: web.Request, validator: RequestValidator, names: dict[str, str], raw: bytes, vendor: Vendor
) -> list[str]:
    findings = []
    path_values = {names.get(k, k): v for k, v in request.match_info.items()}
    try:
        validator.check_params(path_values, request.query, request.query)
    except Invalid as problem:
        findings.append(f"request: {problem.message}")
    media_type = request.content_type if request.headers.get("Content-Type") else None
    try:
        validator.check_body(media_type, raw, vendor.decode_form)
    except Invalid as problem:
        where = f"body{problem.path}" if problem.path else "body"
        findings.append(f"request: {where}: {problem.message}")
    return findings


def _check_response(vendor: Vendor, op: Operation, upstream: aiohttp.ClientResponse, body: bytes | None) -> list[str]:
    """What breaks the contract in the answer; `body` None: one too long to hold, checked for its status
    and media type only."""
    if body is None:
        if upstream.content_type == "application/json":
            log.info("proxy: a JSON answer over %d bytes is not checked against the contract", CHECKED_BYTES)
            return []
        body = b"(streamed)"  # not empty: check_response checks the media type of a body it does not read
    media_type = upstream.content_type if body else None
    decoded: Any = body
    if media_type == "application/json":
        try:
            decoded = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            return [f"response: {upstream.status} is not valid JSON: {exc}"]
    try:
        vendor.spec.check_response(op, upstream.status, media_type, decoded)
    except ValidationError as error:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        return [f"response: {upstream.status} body{where}: {error.message}"]
    except AssertionError as error:
        return [f"response: {error}"]
    return []
