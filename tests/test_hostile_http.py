"""Hostile HTTP, over real HTTP (raw bytes on a socket):

- a malformed `Host` gets the vendor's 400 before anything runs, so nothing is stored (it used to be a
  500 after the export was stored, so a retry made two); an empty `Host` is served, its URLs naming the
  address the request came in on;
- a body its `Content-Encoding` cannot decode gets the vendor's 400; a gzip bomb stops at 1 MiB decoded;
- slow clients are dropped: a connection that sends no complete request within `idle_timeout` (nothing,
  headers that never end, an idle keep-alive) is closed, and a download its client stops reading is
  dropped after `send_timeout`, releasing its producer thread.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time
import zlib

import pytest

from mockserver import cli
from mockserver.app import Settings
from mockserver.testing import ServerThread
from tests.conftest import producing, wait_until_idle
from tests.test_hostile_input import Snapshot, raw_request

V_AUTH = [b"X-App-Id: hostile-app", b"X-App-Token: t"]
CHARGEBEE = [b"Authorization: Basic " + base64.b64encode(b"test_cb_key:")]
STRIPE = [b"Authorization: Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc"]
_DAY_ENDED = int(time.time()) // 86_400 * 86_400  # within the data Stripe has (the server's clock is real time)
REPORT_RUN = b"report_type=balance.summary.1&parameters[interval_start]=%d&parameters[interval_end]=%d" % (
    _DAY_ENDED - 2 * 86_400,
    _DAY_ENDED - 86_400,
)
JSON = b"Content-Type: application/json"
FORM = b"Content-Type: application/x-www-form-urlencoded"
CREATES = {  # one create per vendor: (path, headers, body)
    "voucherify": ("/v1/exports", [*V_AUTH, JSON], b'{"exported_object": "order"}'),
    "chargebee": ("/api/v2/exports/customers", [*CHARGEBEE, FORM], b""),
    "stripe": ("/v1/reporting/report_runs", [*STRIPE, FORM], REPORT_RUN),
}


def request(
    method: str,
    path: str,
    *,
    host: bytes | None = b"127.0.0.1",
    headers=(),
    body: bytes | None = None,
    close: bool = True,
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1".encode(),
        *([b"Host: " + host] if host is not None else []),
        *([b"Connection: close"] if close else []),
        *headers,
    ]
    if body is not None:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    state = tmp_path_factory.mktemp("http") / "state.db"
    with ServerThread(Settings(port=0, lifecycle="instant", state=str(state))) as server:
        server.port = int(server.url.rsplit(":", 1)[1])
        server.snapshot = Snapshot(state)
        for path, headers, body in CREATES.values():  # each vendor's credentials known before any test, in any order:
            status, _, answer = raw_request(server.port, request("POST", path, headers=headers, body=body))
            assert status == 200, answer[:300]  # what a refused request must leave alone is there from the start
        yield server


def vendor_shaped_400(vendor: str, body: bytes) -> dict:
    error = json.loads(body)
    if vendor == "voucherify":
        assert error["code"] == 400 and error["request_id"].startswith("v-"), error
    elif vendor == "chargebee":
        assert error["http_status_code"] == 400 and error["type"] == "invalid_request", error
    else:
        assert error["error"]["type"] == "invalid_request_error", error
    return error


# -- Host ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", [b"x:99999", b"a, b:1", b"x:abc", b"[::1", b"a b"])
@pytest.mark.parametrize("vendor", list(CREATES))
def test_a_malformed_host_is_a_vendor_400_and_stores_nothing(live, vendor, host):
    path, headers, body = CREATES[vendor]
    before = live.snapshot()
    status, _, answer = raw_request(live.port, request("POST", path, host=host, headers=headers, body=body))
    assert status == 400, answer[:300]
    assert "Host" in json.dumps(vendor_shaped_400(vendor, answer))
    assert live.snapshot() == before, "a refused request changes nothing stored"


@pytest.mark.parametrize("vendor", list(CREATES))
def test_the_same_create_with_a_good_host_stores_an_export(live, vendor):
    """The control: what the malformed Host refused is a request that stores when the Host is fine."""
    path, headers, body = CREATES[vendor]
    before = live.snapshot()
    status, _, answer = raw_request(live.port, request("POST", path, headers=headers, body=body))
    assert status == 200, answer[:300]
    assert len(live.snapshot()) > len(before)


def test_an_empty_host_gets_urls_naming_the_address_served(live):
    status, _, answer = raw_request(
        live.port,
        request("POST", "/v1/exports", host=b"", headers=[*V_AUTH, JSON], body=b'{"exported_object": "order"}'),
    )
    assert status == 200, answer[:300]
    export_id = json.loads(answer)["id"]
    status, _, answer = raw_request(live.port, request("GET", f"/v1/exports/{export_id}", host=b"", headers=V_AUTH))
    assert status == 200, answer[:300]
    url = json.loads(answer)["result"]["url"]
    assert url.startswith(f"http://127.0.0.1:{live.port}/v1/exports/"), url
    status, _, csv = raw_request(live.port, request("GET", url[url.index("/v1/") :]))
    assert status == 200 and csv


# -- Content-Encoding ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", [b"gzip", b"deflate"])
@pytest.mark.parametrize("vendor", list(CREATES))
def test_a_body_that_is_not_what_its_content_encoding_says_is_a_vendor_400(live, vendor, encoding):
    path, headers, _ = CREATES[vendor]
    before = live.snapshot()
    status, _, answer = raw_request(
        live.port, request("POST", path, headers=[*headers, b"Content-Encoding: " + encoding], body=b"not compressed")
    )
    assert status == 400, answer[:300]
    error = vendor_shaped_400(vendor, answer)
    assert "Content-Encoding" in json.dumps(error)
    assert error.get("key", "invalid_payload") == "invalid_payload"  # Voucherify's word for an unreadable body
    assert live.snapshot() == before


def test_a_gzipped_body_is_read(live):
    status, _, answer = raw_request(
        live.port,
        request(
            "POST",
            "/v1/exports",
            headers=[*V_AUTH, JSON, b"Content-Encoding: gzip"],
            body=gzip.compress(b'{"exported_object": "voucher"}'),
        ),
    )
    assert status == 200 and json.loads(answer)["exported_object"] == "voucher", answer[:300]


def test_a_gzip_bomb_stops_at_the_body_limit(live):
    """100 MB of zeros in 100 KB of gzip: refused (413) once 1 MiB is decoded, as a plain 1 MiB body is."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(bytes(1 << 20)) for _ in range(100)) + packer.flush()
    before = live.snapshot()
    status, _, answer = raw_request(
        live.port, request("POST", "/v1/exports", headers=[*V_AUTH, JSON, b"Content-Encoding: gzip"], body=bomb)
    )
    assert status == 413 and json.loads(answer)["key"] == "payload_too_large", answer[:300]
    assert live.snapshot() == before


# -- slow clients -------------------------------------------------------------------------------------------
IDLE = SEND = 0.5  # seconds: small, so the tests wait little


@pytest.fixture(scope="module")
def strict_timeouts():
    with ServerThread(Settings(port=0, lifecycle="instant", idle_timeout=IDLE, send_timeout=SEND)) as server:
        server.port = int(server.url.rsplit(":", 1)[1])
        yield server


def closed_after(conn: socket.socket, limit: float) -> float:
    """Seconds until the server closes `conn` (reading whatever it still sends); fails after `limit`."""
    started = time.monotonic()
    conn.settimeout(limit)
    try:
        while conn.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {limit} s")
    return time.monotonic() - started


@pytest.mark.parametrize(
    "sent", [b"", b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nX-Slow: "], ids=["nothing", "headers that never end"]
)
def test_a_connection_without_a_complete_request_is_closed(strict_timeouts, sent):
    with socket.create_connection(("127.0.0.1", strict_timeouts.port)) as conn:
        conn.sendall(sent)
        assert closed_after(conn, IDLE + 10) >= IDLE * 0.8


def test_headers_trickled_byte_by_byte_do_not_keep_a_connection(strict_timeouts):
    """A slowloris sending a byte now and then: activity does not reset the clock, a complete request does."""
    with socket.create_connection(("127.0.0.1", strict_timeouts.port)) as conn:
        started = time.monotonic()
        for byte in b"GET /v1/exports HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":
            try:
                conn.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            if time.monotonic() - started > IDLE + 10:
                pytest.fail("still open")
            time.sleep(IDLE / 10)
        closed_after(conn, IDLE + 10)


def test_an_idle_keep_alive_connection_is_closed(strict_timeouts):
    with socket.create_connection(("127.0.0.1", strict_timeouts.port)) as conn:
        conn.sendall(request("GET", "/__mock/health", close=False))
        conn.settimeout(10)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_after(conn, IDLE + 10) >= IDLE * 0.5


def test_a_stalled_download_is_dropped_and_its_producer_released(strict_timeouts):
    port = strict_timeouts.port
    status, _, answer = raw_request(
        port,
        request(
            "POST",
            "/v1/exports",
            headers=[*V_AUTH, JSON, b"Prefer: rows=1000000, lifecycle=instant"],
            body=b'{"exported_object": "voucher"}',
        ),
    )
    assert status == 200, answer
    export_id = json.loads(answer)["id"]
    url = json.loads(raw_request(port, request("GET", f"/v1/exports/{export_id}", headers=V_AUTH))[2])["result"]["url"]
    before = producing()
    with socket.socket() as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a window that fills at once
        conn.connect(("127.0.0.1", port))
        conn.sendall(request("GET", url[url.index("/v1/") :]))
        conn.settimeout(10)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")  # the download started; now it stalls
        ours = producing() - before
        assert len(ours) == 1
        assert wait_until_idle(ours, SEND + 20), "the producer of a download nobody reads is let go"
        closed_after(conn, 10)  # and its connection is closed: what was queued is all the client gets
    status, _, _ = raw_request(port, request("GET", "/__mock/health"))
    assert status == 200


def test_a_download_that_outlasts_the_idle_timeout_and_pauses_briefly_is_not_cut(strict_timeouts):
    """The idle timeout is for connections with no request under way, the send timeout for a client that
    takes nothing: a client reading a long download with pauses shorter than it gets all of it."""
    port = strict_timeouts.port
    status, _, answer = raw_request(
        port,
        request(
            "POST",
            "/v1/exports",
            headers=[*V_AUTH, JSON, b"Prefer: rows=20000, lifecycle=instant"],
            body=b'{"exported_object": "voucher"}',
        ),
    )
    export_id = json.loads(answer)["id"]
    url = json.loads(raw_request(port, request("GET", f"/v1/exports/{export_id}", headers=V_AUTH))[2])["result"]["url"]
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(request("GET", url[url.index("/v1/") :]))
        conn.settimeout(10)
        received, started = b"", time.monotonic()
        while part := conn.recv(16384):
            received += part
            if time.monotonic() - started < IDLE * 3:
                time.sleep(SEND / 5)  # paused, never as long as the send timeout
    assert time.monotonic() - started > IDLE * 2
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(b"\r\n0\r\n\r\n"), received[-100:]
    assert received.count(b"\n") > 20_000


def test_the_timeouts_are_serve_options(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    settings = cli._settings(cli.build_parser().parse_args(["serve", "--idle-timeout", "5", "--send-timeout", "7.5"]))
    assert (settings.idle_timeout, settings.send_timeout) == (5, 7.5)
    assert (Settings().idle_timeout, Settings().send_timeout) == (60, 60)
    monkeypatch.setattr(
        "mockserver.serving.serve_until_stopped", lambda *a, **k: pytest.fail("the server started instead of refusing")
    )
    assert cli.main(["serve", "--idle-timeout", "0"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
