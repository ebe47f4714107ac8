"""The proxy forwards a request's path and query to --upstream and nowhere else, and streams answers.
Upstreams are local aiohttp servers on 127.0.0.1; requests are raw bytes on a
socket, so the request line is exactly what an attacker would send."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from aiohttp import web

from mockserver.app import Settings
from mockserver.errors import ApiError
from mockserver.proxy import Forwarder
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify
from tests.test_hostile_input import raw_request

SECRET = "SECRET-app-token"
LIST = {"object": "list", "data_ref": "exports", "exports": [], "total": 0}


class Upstream:
    """A local aiohttp server on its own thread; `seen` lists the requests it got."""

    def __init__(self, routes, port: int = 0) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        self.routes, self.port = routes, port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Upstream:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        @web.middleware
        async def note(request, handler):
            self.seen.append((request.method, request.raw_path, request.headers.get("X-App-Token")))
            return await handler(request)

        app = web.Application(middlewares=[note])
        for method, path, handler in self.routes:
            app.router.add_route(method, path, handler)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self.runner.addresses[0][1]

    def __exit__(self, *exc_info) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def listing(request):
    return web.json_response(LIST)


def proxy(upstream_url: str) -> ServerThread:
    return ServerThread(Settings(port=0), vendors=[Voucherify()], proxy=Forwarder(upstream_url))


def get(port: int, target: bytes) -> tuple[int, dict, bytes]:
    return raw_request(
        port,
        b"GET "
        + target
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-App-Id: a\r\nX-App-Token: "
        + SECRET.encode()
        + b"\r\nConnection: close\r\n\r\n",
        timeout=20,
    )


# -- where requests go --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target", [b"m://x/v1/exports", b"http://127.0.0.1:9/v1/exports", b"host://x/v1/exports?limit=1"]
)
def test_an_absolute_form_target_is_refused_and_nothing_is_forwarded(target):
    with Upstream([("*", "/{tail:.*}", listing)]) as upstream, proxy(f"http://127.0.0.1:{upstream.port}") as mock:
        status, _, body = get(int(mock.url.rsplit(":", 1)[1]), target)
        assert status == 400, body[:300]
        assert b"not the request target" in body
        assert upstream.seen == []


@pytest.fixture
def port_80():
    """127.0.0.1:80: where a portless upstream's host, lengthened by the scheme of an absolute-form target,
    lands (`http://local` + `host://x/…` = `http://localhost://x/…`)."""
    probe = socket.socket()
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", 80))
    except OSError as exc:
        pytest.skip(f"this test needs 127.0.0.1:80 to stand in for another host: {exc}")
    finally:
        probe.close()
    return 80


def test_a_request_line_cannot_send_the_clients_credentials_to_another_host(port_80):
    """The attack on loopback: the upstream is `http://local` (a name nothing here resolves,
    and nothing is sent to it); `GET host://x/v1/exports` made the old proxy call http://localhost:80
    with the client's X-App-Token."""
    with Upstream([("*", "/{tail:.*}", listing)], port=port_80) as elsewhere, proxy("http://local") as mock:
        status, _, body = get(int(mock.url.rsplit(":", 1)[1]), b"host://x/v1/exports")
        assert elsewhere.seen == [], "the token went to another host"
        assert status == 400, body[:300]


@pytest.mark.parametrize(
    "target, forwarded",
    [
        ("/v1/exports?limit=1&order=-created_at", "/base/v1/exports?limit=1&order=-created_at"),
        ("//x/v1/exports", "/base//x/v1/exports"),  # origin-form: a path, even one that looks like an authority
        ("/v1/exports/%2F..%2Fadmin?a=%26b", "/base/v1/exports/%2F..%2Fadmin?a=%26b"),  # as sent, encoded
        ("/@127.0.0.2:9/v1", "/base/@127.0.0.2:9/v1"),
    ],
)
def test_only_the_path_and_query_are_joined_onto_the_upstream(target, forwarded):
    url = Forwarder("http://127.0.0.1:4000/base/").url_for(target)
    assert (url.host, url.port, url.raw_path_qs) == ("127.0.0.1", 4000, forwarded)


@pytest.mark.parametrize("target", ["m://x/v1", "host://x/v1", "*", "127.0.0.1:80", "@evil/v1", ""])
def test_url_for_refuses_what_is_not_origin_form(target):
    with pytest.raises(ApiError) as refused:
        Forwarder("http://local").url_for(target)
    assert refused.value.status == 400


def test_an_origin_form_request_reaches_the_upstream_with_its_path_and_query():
    with Upstream([("*", "/{tail:.*}", listing)]) as upstream, proxy(f"http://127.0.0.1:{upstream.port}") as mock:
        status, _, _ = get(int(mock.url.rsplit(":", 1)[1]), b"/v1/exports?limit=1")
        assert status == 200
        assert upstream.seen == [("GET", "/v1/exports?limit=1", SECRET)]


# -- streaming ----------------------------------------------------------------------------------------------
def test_an_answer_reaches_the_client_while_the_upstream_is_still_sending():
    """The upstream sends a first chunk, then waits until the client has bytes of the answer: a proxy that
    buffers the whole answer would never give it any (old code: this timed out)."""
    first_arrived = threading.Event()
    chunk = b"id,code\n" + b"x" * (256 << 10) + b"\n"

    async def download(request):
        response = web.StreamResponse(headers={"Content-Type": "text/csv"})
        await response.prepare(request)
        await response.write(chunk)
        await asyncio.get_running_loop().run_in_executor(None, first_arrived.wait, 15)
        for _ in range(8):
            await response.write(chunk)
        await response.write_eof()
        return response

    with (
        Upstream([("GET", "/v1/exports/{id}/download", download)]) as upstream,
        proxy(f"http://127.0.0.1:{upstream.port}") as mock,
    ):
        with socket.create_connection(("127.0.0.1", int(mock.url.rsplit(":", 1)[1]))) as conn:
            conn.sendall(b"GET /v1/exports/exp_1/download HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            conn.settimeout(10)
            received = conn.recv(65536)
            assert received.startswith(b"HTTP/1.1 200")
            assert b"transfer-encoding: chunked" in received.lower()
            first_arrived.set()
            while part := conn.recv(1 << 20):
                received += part
    assert dechunked(received.partition(b"\r\n\r\n")[2]) == chunk * 9


def dechunked(data: bytes) -> bytes:
    """A chunked body's bytes; fails unless it ends with the last (empty) chunk."""
    out = []
    while True:
        size, _, data = data.partition(b"\r\n")
        size = int(size, 16)
        if size == 0:
            return b"".join(out)
        out.append(data[:size])
        assert data[size : size + 2] == b"\r\n"
        data = data[size + 2 :]
