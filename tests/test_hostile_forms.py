"""Form names nested hundreds of brackets deep (`order[a][a]…`, `parameters[a]…`) are refused with the
vendor's own 400 before anything recurses over them: never a 500, a RecursionError in the log, or a
stored export. Over real HTTP (raw bytes on a socket), against a server holding a SQLite store."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from mockserver.app import Settings
from mockserver.testing import ServerThread
from mockserver.validation import MAX_DEPTH
from tests.test_hostile_input import Snapshot, encode_request, raw_request

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CHARGEBEE = {"Authorization": "Basic " + base64.b64encode(b"test_cb_key:").decode(), **FORM}
STRIPE = {"Authorization": "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc", **FORM}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    state = tmp_path_factory.mktemp("forms") / "state.db"
    with ServerThread(Settings(port=0, lifecycle="poll", state=str(state))) as server:
        server.port = int(server.url.rsplit(":", 1)[1])
        server.snapshot = Snapshot(state)
        yield server


def deep(name: str, levels: int, value: str = "1") -> bytes:
    return (name + "[a]" * levels + "=" + value).encode()


def post(live, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    status, _, answer = raw_request(live.port, encode_request("POST", path, body, headers))
    return status, json.loads(answer)


@pytest.mark.parametrize("levels", [MAX_DEPTH, 600, 5_000])
def test_chargebee_refuses_deep_names_as_invalid_request(live, levels, caplog):
    before = live.snapshot()
    with caplog.at_level(logging.DEBUG):
        status, error = post(live, "/api/v2/exports/orders", deep("order", levels), CHARGEBEE)
    assert status == 400, error
    assert error["api_error_code"] == "invalid_request" and error["type"] == "invalid_request"
    assert error["http_status_code"] == 400
    assert len(json.dumps(error)) < 1000, "the message names the parameter, not its 5,000 brackets"
    assert live.snapshot() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("levels", [MAX_DEPTH, 600, 5_000])
def test_stripe_refuses_deep_names_as_an_invalid_request_error(live, levels, caplog):
    before = live.snapshot()
    body = b"report_type=balance.summary.1&" + deep("parameters", levels)
    with caplog.at_level(logging.DEBUG):
        status, error = post(live, "/v1/reporting/report_runs", body, STRIPE)
    assert status == 400, error
    assert error["error"]["type"] == "invalid_request_error"
    assert "nested more than" in error["error"]["message"]
    assert len(json.dumps(error)) < 1000
    assert live.snapshot() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_a_name_as_deep_as_the_limit_is_read_not_refused_for_its_depth(live):
    """MAX_DEPTH - 1 brackets after the name: the form decodes, and the contract (not the depth rule)
    is what refuses the unknown parameter."""
    status, error = post(
        live, "/v1/reporting/report_runs", b"report_type=balance.summary.1&" + deep("parameters", MAX_DEPTH - 1), STRIPE
    )
    assert status == 400 and "nested more than" not in error["error"]["message"], error
