"""Hostile input: every request below gets a clear 4xx in Voucherify's error
shape — never a 5xx, a traceback or an HTML page — and nothing stored changes.

Each case runs twice: through real HTTP (raw bytes on a socket, so nothing a
client library would tidy up is lost) and in-process (aiohttp's test client).
Requests that are not valid HTTP at all run through real HTTP only; so do the
slow, truncated and cancelled ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field

import pytest

from mockserver import validation
from mockserver.app import SERVICES, Settings, create_app
from mockserver.store import VendorStore
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify
from tests.conftest import APP, assert_error_shape

AUTH = {"X-App-Id": APP[0], "X-App-Token": APP[1]}
JSON = {"Content-Type": "application/json"}
ORDER_EXPORT = {"exported_object": "order", "parameters": {"fields": ["id", "status"]}}


def nested(levels: int, open_: bytes = b"[", close: bytes = b"]", inner: bytes = b"") -> bytes:
    return open_ * levels + inner + close * levels


NEUTRAL = {"error", "status"}  # the error of a path under no vendor's mount (mockserver.control.index)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    status: int | tuple = 400
    key: str | None = None  # the vendor error key expected (None: any)
    auth: bool = True
    http_only: bool = False  # aiohttp's client will not send it, or its parser answers before the app

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("100,000 levels of [[[…", "POST", "/v1/exports", nested(100_000), JSON, 400, "invalid_payload"),
    Case(
        "50,000 levels of objects in order metadata",
        "POST",
        "/v1/orders",
        b'{"source_id": "deep", "metadata": ' + nested(50_000, b'{"a": ', b"}", b"1") + b"}",
        JSON,
        400,
        "invalid_payload",
    ),
    Case(
        "65 levels of metadata (the limit is 64)",
        "POST",
        "/v1/orders",
        b'{"source_id": "deep", "metadata": ' + nested(64, b'{"a": ', b"}", b"1") + b"}",
        JSON,
        400,
        "invalid_payload",
    ),
    Case(
        "JSON over 1 MiB",
        "POST",
        "/v1/exports",
        json.dumps({**ORDER_EXPORT, "pad": "x" * (1 << 20)}).encode(),
        JSON,
        413,
        "payload_too_large",
    ),
    Case(
        "invalid UTF-8 in the body",
        "POST",
        "/v1/exports",
        b'{"exported_object": "ord\xff\xfeer"}',
        JSON,
        400,
        "invalid_payload",
    ),
    Case(
        "a raw NUL byte in a JSON string",
        "POST",
        "/v1/exports",
        b'{"exported_object": "order\x00"}',
        JSON,
        400,
        "invalid_payload",
    ),
    Case(
        "an escaped NUL in a field name",
        "POST",
        "/v1/exports",
        json.dumps({"exported_object": "order", "parameters": {"fields": ["id\u0000"]}}).encode(),
        JSON,
        400,
        "invalid_export_fields",
    ),
    Case("a body of NUL bytes", "POST", "/v1/exports", b"\x00" * 64, JSON, 400, "invalid_payload"),
    Case("NaN (not JSON)", "POST", "/v1/orders", b'{"source_id": "nan", "amount": NaN}', JSON, 400, "invalid_payload"),
    Case(
        "a 5,000-digit number",
        "POST",
        "/v1/orders",
        b'{"source_id": "big", "amount": ' + b"9" * 5000 + b"}",
        JSON,
        400,
        "invalid_payload",
    ),
    Case("%00 in the query", "GET", "/v1/exports?order=%00", status=400, key="invalid_query_params"),
    Case("%00 in an export id", "GET", "/v1/exports/exp_%00", status=(400, 404)),
    Case("%00 in an order id", "GET", "/v1/orders/ord_%00", status=(400, 404)),
    Case(
        "10,000 fields",
        "POST",
        "/v1/exports",
        json.dumps({"exported_object": "order", "parameters": {"fields": ["id"] * 10_000}}).encode(),
        JSON,
        400,
        "invalid_export_fields",
    ),
    Case(
        "10,000 values in a filter",
        "POST",
        "/v1/exports",
        json.dumps(
            {
                "exported_object": "order",
                "parameters": {"filters": {"status": {"conditions": {"$in": ["PAID"] * 10_000}}}},
            }
        ).encode(),
        JSON,
        400,
        "invalid_payload",
    ),
    Case(
        "10,000 orders in one import",
        "POST",
        "/v1/orders/import",
        json.dumps([{"source_id": f"s-{n}"} for n in range(10_000)]).encode(),
        JSON,
        400,
        "invalid_payload",
    ),
    Case(
        "10,000 items in one order",
        "POST",
        "/v1/orders",
        json.dumps({"source_id": "many", "items": [{"quantity": 1, "price": 1}] * 10_000}).encode(),
        JSON,
        400,
        "invalid_payload",
    ),
    Case("an encoded path traversal", "GET", "/v1/exports/..%2F..%2F..%2Fetc%2Fpasswd", status=(400, 404)),
    Case("dot segments out of the API", "GET", "/v1/../../../etc/passwd", status=404, key="not_found"),
    Case("encoded dot segments", "GET", "/v1/%2e%2e/%2e%2e/etc/passwd", status=404, key="not_found"),
    Case("CR LF in an export id (header injection)", "GET", "/v1/exports/exp_%0d%0aX-Injected:%201", status=(400, 404)),
    Case("an escape sequence as an order id", "GET", "/v1/orders/%1b%5b31m", status=(400, 404)),
    Case("a 1 KB order id", "GET", "/v1/orders/" + "o" * 1024, status=404, key="not_found"),  # as the vendor
    Case(
        "XML", "POST", "/v1/exports", b"<export/>", {"Content-Type": "application/xml"}, 415, "unsupported_media_type"
    ),
    Case(
        "JSON sent as text/plain",
        "POST",
        "/v1/exports",
        json.dumps(ORDER_EXPORT).encode(),
        {"Content-Type": "text/plain"},
        415,
        "unsupported_media_type",
    ),
    Case(
        "multipart",
        "POST",
        "/v1/exports",
        b"--x\r\n\r\n--x--",
        {"Content-Type": "multipart/form-data; boundary=x"},
        415,
        "unsupported_media_type",
    ),
    Case(
        "a body with no content type",
        "POST",
        "/v1/exports",
        json.dumps(ORDER_EXPORT).encode(),
        {},
        415,
        "unsupported_media_type",
    ),
    Case("duplicated limit", "GET", "/v1/exports?limit=1&limit=2", status=400, key="invalid_query_params"),
    Case("duplicated order", "GET", "/v1/exports?order=id&order=-id", status=400, key="invalid_query_params"),
    Case("an absurd limit", "GET", "/v1/exports?limit=99999999999999999999999", status=400, key="invalid_query_params"),
    Case("TRACE", "TRACE", "/v1/exports", status=405, key="method_not_allowed"),
    Case("OPTIONS without a preflight", "OPTIONS", "/v1/exports/exp_1", status=405, key="method_not_allowed"),
    Case("PATCH", "PATCH", "/v1/exports", b"{}", JSON, 405, "method_not_allowed"),
    Case(
        "a 5 KB app id",
        "GET",
        "/v1/exports",
        headers={"X-App-Id": "a" * 5_000, "X-App-Token": "t"},
        status=401,
        key="unauthorized",
        auth=False,
    ),
    Case(
        "an impossible Prefer header",
        "GET",
        "/v1/exports",
        headers={"Prefer": "code=999, rows=-1"},
        status=400,
        key="invalid_prefer_header",
    ),
]


class Snapshot:
    """Everything the store holds, read straight from its SQLite file."""

    def __init__(self, path) -> None:
        self.path = path

    def __call__(self) -> list[tuple]:
        with sqlite3.connect(self.path) as db:
            return sorted(db.execute("SELECT kind, key, app, record, vendor FROM tenant_records").fetchall())


def seed_state(send) -> None:
    """What hostile requests must leave alone: an export, an order (with its customer), credentials."""
    for method, path, body in [
        ("POST", "/v1/exports", ORDER_EXPORT),
        ("POST", "/v1/orders", {"source_id": "kept", "amount": 100, "customer": {"source_id": "kept@example.com"}}),
    ]:
        assert send(method, path, json.dumps(body).encode(), {**AUTH, **JSON}) == 200


# -- real HTTP ---------------------------------------------------------------------------------------------
def raw_request(port: int, data: bytes, timeout: float = 30) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def encode_request(method: str, path: str, body: bytes | None, headers: dict) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    lines += [
        f"{name}: ".encode() + (value.encode("latin-1") if isinstance(value, str) else value)
        for name, value in headers.items()
    ]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


@pytest.fixture(scope="module")
def live(tmp_path_factory, spec):
    state = tmp_path_factory.mktemp("hostile") / "state.db"
    with ServerThread(
        Settings(port=0, lifecycle="poll", state=str(state), max_exports=50), vendors=[Voucherify(spec=spec)]
    ) as server:
        server.port = int(server.url.rsplit(":", 1)[1])
        server.snapshot = Snapshot(state)
        seed_state(lambda m, p, b, h: raw_request(server.port, encode_request(m, p, b, h))[0])
        yield server


def check_error(status: int, headers: dict, body: bytes, case: Case) -> None:
    expected = case.status if isinstance(case.status, tuple) else (case.status,)
    assert status in expected, (status, body[:300])
    if case.method == "HEAD":
        return
    assert headers.get("content-type", "").startswith("application/json"), headers
    error = json.loads(body)
    if set(error) == NEUTRAL:  # a path the client resolved out of every vendor's mount: /v1/../etc → /etc
        assert status == 404 and not posixpath.normpath(case.path).startswith(("/v1/", "/api/")), (case.path, error)
        return
    assert_error_shape(error, status)
    if case.key:
        assert error["key"] == case.key, error
    assert len(body) < 2048, "errors stay short however big the input"
    assert "X-Injected" not in "".join(headers)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_request_over_real_http(live, case, caplog):
    before = live.snapshot()
    headers = {**(AUTH if case.auth else {}), **case.headers}
    with caplog.at_level(logging.DEBUG, logger="mockserver"):
        status, response_headers, body = raw_request(
            live.port, encode_request(case.method, case.path, case.body, headers)
        )
    check_error(status, response_headers, body, case)
    assert live.snapshot() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "nothing worth an error log"


# raw bytes no HTTP client would send: aiohttp's parser refuses them before any route runs, with its own
# generic 400 (as the vendors' load balancers answer malformed HTTP, not their APIs)
NOT_HTTP = {
    "an escape character in an app id": b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nX-App-Id: app\x1b[31m\r\n\r\n",
    "a 10 KB secret key": b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nX-App-Id: a\r\nX-App-Token: "
    + b"t" * 10_000
    + b"\r\n\r\n",
    "a DEL character in the Prefer header": b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nPrefer: rows=1\x7f\r\n\r\n",
    "a NUL byte in the path": b"GET /v1/exports/exp_\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "a NUL byte in the query": b"GET /v1/exports?order=\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "a NUL byte in a header": b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nX-App-Id: a\x00b\r\n\r\n",
    "a control character in the content type": b"POST /v1/exports HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: \x01json\r\nContent-Length: 2\r\n\r\n{}",
    "a 10 KB path segment": b"GET /v1/exports/" + b"a" * 10_240 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "a 100 KB header": b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    "1,000 headers": b"GET /v1/exports HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-H%d: 1\r\n" % n for n in range(1000))
    + b"\r\n",
    "an invented method": b"BREW /v1/exports HTTP/1.1\r\nHost: x\r\n\r\n",
    "a bad Content-Length": b"POST /v1/exports HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n{}",
    "two Content-Lengths": b"POST /v1/exports HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "TLS spoken to the HTTP port": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64,
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
}


@pytest.mark.parametrize("name", NOT_HTTP)
def test_requests_that_are_not_http_get_a_generic_400_logged_quietly(live, name, caplog):
    before = live.snapshot()
    with caplog.at_level(logging.DEBUG):
        status, headers, body = raw_request(live.port, NOT_HTTP[name])
    assert 400 <= status < 500, (status, body[:300])
    assert len(body) < 2048 and b"Traceback" not in body
    assert live.snapshot() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_undecodable_header_bytes_are_refused_or_kept_safely(live):
    """Header values are bytes: ones that are not UTF-8 never break an answer or the journal."""
    status, _, body = raw_request(
        live.port, encode_request("GET", "/v1/exports", None, {**AUTH, "Prefer": b"\xff\xfe", "X-Note": b"\xc3("})
    )
    assert status == 400 and json.loads(body)["key"] == "invalid_prefer_header"
    status, _, body = raw_request(live.port, encode_request("GET", "/v1/exports", None, {**AUTH, "X-Note": b"\xff"}))
    assert status == 200
    status, _, body = raw_request(live.port, encode_request("GET", "/__mock/requests?limit=1", None, {}))
    assert status == 200 and json.loads(body)["count"] == 1
    status, _, body = raw_request(
        live.port, encode_request("GET", "/v1/exports", None, {"X-App-Id": b"\xff\xfe", "X-App-Token": b"\xed\xa0\x80"})
    )
    assert status == 401


def spec_paths(spec) -> list[str]:
    """Every path of the spec with its variables filled in, plus admin and unknown paths."""
    paths = {
        op.path.replace("{exportId}", "exp_1").replace("{orderId}", "ord_1").replace("{code}", "CODE1")
        for op in spec.operations
    }
    return sorted(paths) + [
        "/__mock/health",
        "/__mock/reset",
        "/__mock/exports/exp_1/status",
        "/nowhere",
        "/v1/nowhere",
        "/",
    ]


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"])
def test_every_path_answers_other_methods_with_a_4xx(live, spec, method):
    before = live.snapshot()
    for path in spec_paths(spec):
        status, headers, body = raw_request(live.port, encode_request(method, path, None, AUTH))
        assert 400 <= status < 500, (method, path, status, body[:200])
        if method != "HEAD":
            assert headers["content-type"].startswith("application/json"), (method, path)
            error = json.loads(body)
            if path in ("/", "/nowhere") or method == "CONNECT":  # under no mount (CONNECT names a host, not
                # a path, so no vendor's either): the neutral shape
                assert set(error) == NEUTRAL, (method, path, error)
            elif not path.startswith("/__mock/"):
                assert_error_shape(error, status)
        if status == 405:
            assert headers.get("allow"), (method, path)
    assert live.snapshot() == before


# -- slow, truncated and cancelled --------------------------------------------------------------------------
@pytest.mark.slow
def test_a_slowloris_does_not_block_anyone_else(live, monkeypatch):
    monkeypatch.setattr(validation, "BODY_SECONDS", 1.0)
    before = live.snapshot()
    loris = []
    for n in range(50):  # headers that never end, and bodies that never come
        conn = socket.create_connection(("127.0.0.1", live.port))
        if n % 2:
            conn.sendall(b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nX-App-Id: app-1\r\nX-Slow: ")
        else:
            conn.sendall(encode_request("POST", "/v1/exports", b'{"exported_object": "order"}', {**AUTH, **JSON})[:-5])
        loris.append(conn)
    try:
        started = time.monotonic()
        for _ in range(20):
            status, _, _ = raw_request(live.port, encode_request("GET", "/v1/exports?limit=1", None, AUTH))
            assert status == 200
        assert time.monotonic() - started < 5, "others are served while the slow clients wait"
        slow_body = loris[0]
        slow_body.settimeout(10)
        answer = slow_body.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert_error_shape(json.loads(answer.partition(b"\r\n\r\n")[2]), 408)
    finally:
        for conn in loris:
            conn.close()
    assert live.snapshot() == before


def test_truncated_bodies_store_nothing_and_log_no_error(live, caplog):
    before = live.snapshot()
    with caplog.at_level(logging.DEBUG):
        for cut in (1, 10, 30):
            data = encode_request("POST", "/v1/exports", json.dumps(ORDER_EXPORT).encode(), {**AUTH, **JSON})
            with socket.create_connection(("127.0.0.1", live.port)) as conn:
                conn.sendall(data[:-cut])
            time.sleep(0.1)
        status, _, _ = raw_request(live.port, encode_request("GET", "/v1/exports", None, AUTH))
    assert status == 200
    assert live.snapshot() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


@pytest.mark.slow
def test_thousands_of_cancelled_csv_downloads(live, caplog):
    """2,000 downloads of a 1,000,000-row CSV, 500 at a time, each dropped after its first bytes."""
    created = json.loads(
        raw_request(
            live.port,
            encode_request(
                "POST",
                "/v1/exports",
                json.dumps(ORDER_EXPORT).encode(),
                {**AUTH, **JSON, "Prefer": "rows=1000000, lifecycle=instant"},
            ),
        )[2]
    )
    done = json.loads(raw_request(live.port, encode_request("GET", f"/v1/exports/{created['id']}", None, AUTH))[2])
    url = done["result"]["url"]
    request = encode_request("GET", url[url.index("/v1/") :], None, {}).replace(b"Connection: close\r\n", b"")

    async def cancel_one() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
        writer.write(request)
        first = await reader.read(4096)
        writer.transport.abort()  # RST: the server finds out while writing
        return len(first)

    async def run() -> list[int]:
        results = []
        for _ in range(4):
            results += await asyncio.gather(*(cancel_one() for _ in range(500)))
        return results

    baseline = rss_kb()
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG):
        firsts = asyncio.run(run())
    elapsed = time.monotonic() - started
    assert all(firsts) and len(firsts) == 2000
    time.sleep(0.5)
    status, _, body = raw_request(live.port, encode_request("GET", f"/v1/exports/{created['id']}", None, AUTH))
    assert status == 200
    assert rss_kb() - baseline < 150_000, "memory stays bounded (server and clients share this process)"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    print(f"2000 cancelled downloads in {elapsed:.1f} s, RSS {baseline // 1024} → {rss_kb() // 1024} MB")
    stored = VendorStore(live.app[SERVICES].store, "voucherify").tenant(APP[0]).list("exports")
    assert len(asyncio.run(stored)) <= 50


# -- memory bound and download tokens ----------------------------------------------------------------------
def test_each_app_keeps_at_most_max_exports_and_the_oldest_go_first(live):
    made = []
    for _ in range(60):
        request = encode_request(
            "POST", "/v1/exports", json.dumps(ORDER_EXPORT).encode(), {"X-App-Id": "capped", "X-App-Token": "t", **JSON}
        )
        status, _, body = raw_request(live.port, request)
        assert status == 200
        made.append(json.loads(body)["id"])
    _, _, body = raw_request(
        live.port, encode_request("GET", "/v1/exports?limit=100", None, {"X-App-Id": "capped", "X-App-Token": "t"})
    )
    listed = json.loads(body)
    assert listed["total"] == 50 and {e["id"] for e in listed["exports"]} == set(made[10:])
    status, _, _ = raw_request(
        live.port, encode_request("GET", f"/v1/exports/{made[0]}", None, {"X-App-Id": "capped", "X-App-Token": "t"})
    )
    assert status == 404


def test_download_tokens_are_unguessable_bound_and_compared_in_constant_time(live, monkeypatch):
    import hmac

    from mockserver import exports

    other = {"X-App-Id": "token-other", "X-App-Token": "t2"}
    made = []
    for headers in (AUTH, AUTH, other):
        body = raw_request(
            live.port,
            encode_request(
                "POST",
                "/v1/exports",
                json.dumps(ORDER_EXPORT).encode(),
                {**headers, **JSON, "Prefer": "lifecycle=instant"},
            ),
        )[2]
        export_id = json.loads(body)["id"]
        done = json.loads(raw_request(live.port, encode_request("GET", f"/v1/exports/{export_id}", None, headers))[2])
        made.append((export_id, done["result"]["url"].split("token=", 1)[1]))
    tokens = [token for _, token in made]
    assert len(set(tokens)) == 3 and all(len(token) >= 32 for token in tokens)  # 24 random bytes each
    compared, original = [], hmac.compare_digest
    monkeypatch.setattr(exports.hmac, "compare_digest", lambda a, b: compared.append(1) or original(a, b))

    def download(export_id, token, headers=None):
        return raw_request(
            live.port, encode_request("GET", f"/v1/exports/{export_id}?token={token}", None, headers or {})
        )[0]

    assert download(made[0][0], made[0][1]) == 200
    assert download(made[0][0], made[1][1]) == 401  # another export's token
    assert download(made[1][0], made[0][1]) == 401
    assert download(made[0][0], made[0][1][:-1]) == 401
    assert download(made[0][0], made[0][1], {"X-App-Id": "token-other"}) == 401  # another app presenting it
    assert download(made[2][0], made[2][1], {"X-App-Id": "token-other"}) == 200
    assert compared, "tokens are compared with hmac.compare_digest"


# -- in-process ----------------------------------------------------------------------------------------------
@pytest.fixture
async def in_process(aiohttp_client, spec, tmp_path):
    state = tmp_path / "state.db"
    client = await aiohttp_client(
        create_app(Settings(lifecycle="poll", state=str(state)), vendors=[Voucherify(spec=spec)])
    )
    client.snapshot = Snapshot(state)
    return client


@pytest.mark.parametrize("case", [c for c in CASES if not c.http_only], ids=str)
async def test_hostile_request_in_process(in_process, case):
    from yarl import URL

    async def send(method, path, body, headers):
        response = await in_process.request(
            method, URL(path, encoded=True), data=body, headers=headers, skip_auto_headers={"Content-Type"}
        )
        return response.status, {k.lower(): v for k, v in response.headers.items()}, await response.read()

    loop = asyncio.get_running_loop()
    seeded = []
    for method, path, body in [("POST", "/v1/exports", ORDER_EXPORT), ("POST", "/v1/orders", {"source_id": "kept"})]:
        seeded.append((await send(method, path, json.dumps(body).encode(), {**AUTH, **JSON}))[0])
    assert seeded == [200, 200]
    before = await loop.run_in_executor(None, in_process.snapshot)
    headers = {**(AUTH if case.auth else {}), **case.headers}
    status, response_headers, body = await send(case.method, case.path, case.body, headers)
    check_error(status, response_headers, body, case)
    assert await loop.run_in_executor(None, in_process.snapshot) == before


def test_the_store_is_never_touched_by_a_refused_request_under_concurrency(live):
    """Hostile requests from 8 threads at once, mixed with good ones: only the good ones store anything."""
    before = {row[1] for row in live.snapshot()}
    good = []

    def worker(n):
        for case in CASES[:12]:
            headers = {**(AUTH if case.auth else {}), **case.headers}
            raw_request(live.port, encode_request(case.method, case.path, case.body, headers))
        status, _, body = raw_request(
            live.port,
            encode_request("POST", "/v1/orders", json.dumps({"source_id": f"ok-{n}"}).encode(), {**AUTH, **JSON}),
        )
        assert status == 200
        good.append(json.loads(body)["id"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {row[1] for row in live.snapshot()} - before == set(good)


# -- JSON Schema patterns are ECMA-262 ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, matches",
    [
        ("aa_1", True),
        ("a b", False),
        ("a\tb", False),
        ("a\u00a0b", False),
        ("a\u3000b", False),
        ("\x1fg\x97", True),  # not whitespace to ECMA-262 (Python's \\s would say it is)
        ("\x85x", True),
        ("a/b", False),
    ],
)
def test_patterns_use_ecma_classes(value, matches):
    import re

    assert bool(re.search(validation.ecma_regex(r"^[^/?#\s]+$"), value)) is matches


def test_digit_and_word_classes_are_ascii_as_in_ecma():
    import re

    assert re.search(validation.ecma_regex(r"^\d+$"), "123") and not re.search(validation.ecma_regex(r"^\d+$"), "١٢٣")
    assert not re.search(validation.ecma_regex(r"^\w+$"), "zażółć")
    assert validation.ecma_regex(r"[\d\S]") == r"[0-9\S]"  # a negated class inside brackets is left as it is


async def test_an_id_that_is_not_whitespace_to_ecma_is_looked_up(in_process):
    from yarl import URL

    response = await in_process.get(URL("/v1/async-actions/%1Fg%C2%97", encoded=True), headers=AUTH)
    assert response.status == 404 and (await response.json())["key"] == "not_found"
    response = await in_process.get(URL("/v1/async-actions/a%20b", encoded=True), headers=AUTH)
    assert response.status == 404 and (await response.json())["resource_id"] == "a b"  # any id: not found
