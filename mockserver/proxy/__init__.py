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
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from jsonschema import ValidationError
from multidict import CIMultiDict

from ..errors import ApiError
from ..respond import header_text
from ..spec import Operation
from ..validation import Invalid, RequestValidator, read_body
from ..vendors.base import Vendor

log = logging.getLogger("mockserver")
VIOLATION = "X-Mock-Violation"
TIMEOUT_SECONDS = 60
# connection-level headers (RFC 9110 §7.6.1) and those aiohttp recomputes for the body it sends
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length", "content-encoding"}
Exchange = Callable[[web.Request, Operation | None, aiohttp.ClientResponse, bytes], Any]

UPSTREAM_SESSION = web.AppKey("upstream_session", aiohttp.ClientSession)


class Forwarder:
    """Where to forward, and who else wants to see each exchange (the fixture recorder)."""

    def __init__(self, upstream: str, *, observers: list[Exchange] | None = None) -> None:
        upstream = upstream.rstrip("/")
        if not upstream.startswith(("http://", "https://")):
            raise ValueError(f"--upstream takes an http:// or https:// URL, not {upstream!r}")
        self.upstream = upstream
        self.observers = list(observers or [])

    def install(self, app: web.Application) -> None:
        """The client session for the app's lifetime, and the catch-all route (added after the spec's)."""
        app.cleanup_ctx.append(self._session)
        self.install_fallback(app)

    def install_fallback(self, app: web.Application) -> None:
        """Forward what no operation matches (on the root app, and in each vendor's sub-app, whose
        prefix would otherwise answer 404)."""
        app.router.add_route("*", "/{tail:.*}", self._handler(None, None, None))

    async def _session(self, app: web.Application):
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=True) as session:
            app[UPSTREAM_SESSION] = session
            yield

    def pipeline(self, vendor: Vendor, op: Operation, behave, services) -> Callable:
        """create_app's per-operation step, in proxy mode (`behave`, the mock's behaviour, goes unused)."""
        return self._handler(vendor, op, RequestValidator.of(op))

    def _handler(self, vendor: Vendor | None, op: Operation | None, validator: RequestValidator | None):
        from ..app import OPERATION, VENDOR  # the pipeline's request keys (app imports this module's users)

        names = {p.name.replace("-", "_"): p.name for p in op.parameters if p.location == "path"} if op else {}

        async def handle(request: web.Request) -> web.StreamResponse:
            findings: list[str] = []
            if vendor is not None:
                request[VENDOR] = vendor
                request[OPERATION] = op
            raw = await read_body(request)
            if validator is None:
                findings.append(f"route: no operation of the contract matches {request.method} {request.path}")
            else:
                findings += _check_request(request, validator, names, raw, vendor)
            upstream, body = await self._forward(request, raw)
            if op is not None and vendor is not None:
                findings += _check_response(vendor, op, upstream, body)
            for finding in findings:
                log.warning("proxy: %s %s: %s", request.method, request.path, finding)
            for observe in self.observers:
                await observe(request, op, upstream, body)
            headers = CIMultiDict((k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP)
            for finding in findings:
                headers.add(VIOLATION, header_text(finding))
            return web.Response(status=upstream.status, body=body, headers=headers)

        return handle

    async def _forward(self, request: web.Request, raw: bytes) -> tuple[aiohttp.ClientResponse, bytes]:
        session = request.config_dict[UPSTREAM_SESSION]  # the root app's, seen from a sub-app
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
        url = self.upstream + request.raw_path
        try:
            async with session.request(request.method, url, headers=headers, data=raw or None,
                                       allow_redirects=False) as response:
                return response, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("proxy: %s %s: upstream %s failed: %s", request.method, request.path, self.upstream, exc)
            raise ApiError(502, "bad_gateway", "Bad Gateway",
                           f"The upstream {self.upstream} did not answer: {exc or type(exc).__name__}",
                           headers={VIOLATION: "upstream: no answer"}) from None


def _check_request(request: web.Request, validator: RequestValidator, names: dict[str, str], raw: bytes,
                   vendor: Vendor) -> list[str]:
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


def _check_response(vendor: Vendor, op: Operation, upstream: aiohttp.ClientResponse, body: bytes) -> list[str]:
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


