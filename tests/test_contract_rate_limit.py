"""The kit's client waits out a 429 as a real client does (Retry-After), so a contract whose API
limits concurrent work (Chargebee: five exports in process per site) is checked, not failed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mockserver.contract import http as kit_http
from mockserver.spec import Operation


class Limited(BaseHTTPRequestHandler):
    """Answers 429 (Retry-After as configured) `refusals` times, then 200."""

    refusals = 0
    retry_after = "0"
    seen = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen += 1
        if type(self).seen <= type(self).refusals:
            self.send_response(429)
            self.send_header("Retry-After", type(self).retry_after)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def limited():
    Limited.seen = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Limited)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


OP = Operation(
    operation_id="get",
    method="GET",
    path="/x",
    parameters=(),
    body_required=False,
    body_schemas={},
    responses={},
    security=(),
    raw={},
)


def client(server) -> kit_http.Client:
    return kit_http.Client(f"http://127.0.0.1:{server.server_port}", None, credentials=lambda app: {})


@pytest.mark.slow
def test_a_429_with_retry_after_is_waited_out_and_sent_again(limited):
    Limited.refusals, Limited.retry_after = 2, "0"
    assert client(limited).call(OP).status == 200
    assert Limited.seen == 3


@pytest.mark.slow
def test_a_429_longer_than_the_kits_patience_is_reported(limited, monkeypatch):
    monkeypatch.setattr(kit_http, "RATE_LIMIT_PATIENCE", 5.0)
    Limited.refusals, Limited.retry_after = 1, "60"
    assert client(limited).call(OP).status == 429
    assert Limited.seen == 1


def test_a_429_without_retry_after_is_reported(limited):
    Limited.refusals, Limited.retry_after = 1, "soon"
    assert client(limited).call(OP).status == 429
