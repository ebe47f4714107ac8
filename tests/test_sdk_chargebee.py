"""The user journey through the official `chargebee` Python SDK (3.x),
unmodified, against a real listening server: trigger a filtered orders export,
wait for it with the SDK's own `wait_for_export_completion`, fetch the
download URL, unzip, and find exactly the orders the filters select; and the
SDK's typed errors for a wrong key, a bad filter and an unknown export."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest

chargebee = pytest.importorskip("chargebee")

import httpx  # noqa: E402  (the SDK's own HTTP client)
from chargebee_support import read_zip  # noqa: E402

from mockserver.app import Settings  # noqa: E402
from mockserver.testing import ServerThread  # noqa: E402

KEY = "test_sdk_key"


@pytest.fixture(scope="module")
def server():
    settings = Settings(port=0, lifecycle="time", scheduled_seconds=0.1, running_seconds=0.2, rows=150,
                        chargebee_keys=[KEY])
    with ServerThread(settings) as running:
        yield running


@pytest.fixture
def client_for(server, monkeypatch):
    """An SDK client for `key`, pointed at the mock: plain HTTP, and the site.domain split of 127.0.0.1:port."""
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", False)  # else the SDK forces https
    parts = urlsplit(server.url)
    site, domain = parts.hostname.split(".", 1)

    def make(key: str = KEY) -> chargebee.Chargebee:
        cb = chargebee.Chargebee(api_key=key, site=site, chargebee_domain=f"{domain}:{parts.port}", protocol="http")
        cb.update_export_retry_delay_ms(100)  # the default waits 10 s between retrievals
        return cb
    return make


def _download(export) -> list[dict]:
    reply = httpx.get(export.download.download_url)  # no API key: the URL carries its own token
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/zip"
    names, rows, _ = read_zip(reply.content)
    assert names == [f"{export.operation_type}.csv"]
    return rows


def _epoch(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def test_filtered_orders_export_waited_for_downloaded_and_unzipped(client_for):
    cb = client_for()
    since = int(time.time()) - 5 * 86_400
    filters = {"order": {"status": {"in": ["queued", "delivered", "complete"]},
                         "updated_at": {"between": [since, int(time.time()) + 86_400]}},
               "total": {"gte": 1000}}
    created = cb.Export.orders(filters)  # sent as order[status][in]=['queued', 'delivered', 'complete'] …
    assert created.export.status == "in_process" and created.export.operation_type == "orders"
    assert created.export.download is None

    done = cb.Export.wait_for_export_completion(created.export)
    assert done.export.status == "completed"
    # valid for 4 hours from completion, which is 0.3 s after creation here
    assert 0 <= done.export.download.valid_till - done.export.created_at - 4 * 3600 <= 1
    rows = _download(done.export)

    def wanted(row: dict) -> bool:
        return (row["status"] in ("queued", "delivered", "complete") and int(row["total"]) >= 1000
                and _epoch(row["updated_at"]) >= since)

    assert rows and all(wanted(row) for row in rows)
    everything = _download(cb.Export.wait_for_export_completion(cb.Export.orders().export).export)
    assert [row["id"] for row in rows] == [row["id"] for row in everything if wanted(row)]


@pytest.mark.parametrize("operation, params, column, allowed", [
    ("customers", {"customer": {"taxability": {"is": "taxable"}}}, "taxability", {"taxable"}),
    ("subscriptions", {"subscription": {"status": {"not_in": ["cancelled", "transferred"]}}}, "status",
     {"future", "in_trial", "active", "non_renewing", "paused"}),
    ("invoices", {"invoice": {"total": {"between": [5000, 20000]}}}, "total", None),
])
def test_the_other_sdk_exports_complete_with_filtered_files(client_for, operation, params, column, allowed):
    cb = client_for()
    created = getattr(cb.Export, operation)(params)
    rows = _download(cb.Export.wait_for_export_completion(created.export).export)
    assert rows
    for row in rows:
        assert row[column] in allowed if allowed else 5000 <= int(row[column]) <= 20000


def test_a_wrong_key_raises_the_sdks_api_error(client_for):
    with pytest.raises(chargebee.APIError) as raised:
        client_for("test_wrong_key").Export.orders({})
    error = raised.value
    assert error.http_status_code == 401
    assert error.api_error_code == "api_authentication_failed"
    assert not isinstance(error, chargebee.InvalidRequestError)  # Chargebee gives this error no type


def test_a_bad_filter_raises_invalid_request_naming_the_parameter(client_for):
    with pytest.raises(chargebee.InvalidRequestError) as raised:
        client_for().Export.orders({"order": {"status": {"in": ["queued", "shipping"]}}})
    assert raised.value.http_status_code == 400
    assert raised.value.api_error_code == "param_wrong_value"
    assert raised.value.param == "order[status][in]"


def test_an_unknown_export_raises_invalid_request_not_found(client_for):
    with pytest.raises(chargebee.InvalidRequestError) as raised:
        client_for().Export.retrieve("__test__nope")
    assert raised.value.http_status_code == 404
    assert raised.value.api_error_code == "resource_not_found"
