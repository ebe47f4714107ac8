"""Fault injection through a real listening server: the official `voucherify`
SDK must surface its documented exceptions, so its users' retry paths can be
tested against the mock."""

from __future__ import annotations

import time

import pytest

from mockserver.control.faults import Faults, parse_latency, parse_rate_limit
from mockserver.errors import ApiError
from tests.control_support import CREDENTIALS, http, server
from tests.lazy_sdk import one_worker, sdk

voucherify = sdk("voucherify")  # imported at first use: collection stays fast


def exports_api(url: str):
    config = voucherify.Configuration(host=url, api_key={"X-App-Id": "sdk-app", "X-App-Token": "sdk-token"})
    config.retries = 0  # urllib3 would otherwise retry connection problems on its own
    return voucherify.ExportsApi(voucherify.ApiClient(config))


@one_worker("voucherify")
def test_error_rate_makes_the_sdk_raise_service_exception(spec):
    with server(spec, error_rate=1.0) as running:
        statuses = set()
        for _ in range(8):
            with pytest.raises(voucherify.exceptions.ServiceException) as raised:
                exports_api(running.url).list_exports()
            statuses.add(raised.value.status)
            assert '"key":' in raised.value.body  # the vendor's error shape
        assert statuses == {500, 503}


def test_an_error_rate_of_zero_point_five_fails_about_half(spec):
    with server(spec, error_rate=0.5, seed=3) as running:
        answers = [http("GET", running.url + "/v1/exports", headers=CREDENTIALS).status for _ in range(40)]
    failed = sum(status >= 500 for status in answers)
    assert 8 <= failed <= 32 and set(answers) <= {200, 500, 503}


@one_worker("voucherify")
def test_rate_limit_makes_the_sdk_raise_429_with_retry_after(spec):
    with server(spec, rate_limit="2/s") as running:
        api = exports_api(running.url)
        api.list_exports()
        api.list_exports()
        with pytest.raises(voucherify.exceptions.ApiException) as raised:
            api.list_exports()
        assert raised.value.status == 429
        assert raised.value.headers["Retry-After"] == "1"
        # another app has its own allowance
        assert http("GET", running.url + "/v1/exports", headers=CREDENTIALS).status == 200
        # the admin API is never limited
        assert all(http("GET", running.url + "/__mock/health").status == 200 for _ in range(5))


@one_worker("voucherify")
def test_latency_delays_every_answer(spec):
    with server(spec, latency="150-200") as running:
        started = time.monotonic()
        exports_api(running.url).list_exports()
        assert time.monotonic() - started >= 0.15


def test_no_faults_by_default(spec):
    with server(spec) as running:
        assert all(http("GET", running.url + "/v1/exports", headers=CREDENTIALS).status == 200 for _ in range(20))


def test_rate_limit_window_slides():
    now = [100.0]
    faults = Faults(rate_limit=2, monotonic=lambda: now[0])

    class Request:
        remote = "127.0.0.1"

    faults.count(Request(), "a")
    now[0] += 0.5
    faults.count(Request(), "a")
    with pytest.raises(ApiError) as raised:
        faults.count(Request(), "a")
    assert raised.value.status == 429 and raised.value.headers == {"Retry-After": "1"}
    faults.count(Request(), "b")  # another app has a budget of its own
    now[0] += 0.6  # the first request has left the one-second window
    faults.count(Request(), "a")


@pytest.mark.parametrize(
    "text, expected", [("50-200", (50, 200)), ("100", (100, 100)), ("5 - 10ms", (5, 10)), (None, None)]
)
def test_parse_latency(text, expected):
    assert parse_latency(text) == expected


@pytest.mark.parametrize("text", ["200-50", "fast", "-5", "1-2-3"])
def test_parse_latency_refuses(text):
    with pytest.raises(ValueError):
        parse_latency(text)


@pytest.mark.parametrize("text, expected", [("10/s", 10), ("3/sec", 3), (None, None)])
def test_parse_rate_limit(text, expected):
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize("text", ["0/s", "10", "10/min", "x/s"])
def test_parse_rate_limit_refuses(text):
    with pytest.raises(ValueError):
        parse_rate_limit(text)
