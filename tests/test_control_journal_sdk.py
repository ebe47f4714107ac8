"""The journal records what the official `voucherify` SDK really sent."""

from __future__ import annotations

from tests.control_support import http, server
from tests.lazy_sdk import one_worker, sdk

voucherify = sdk("voucherify")  # imported at first use: collection stays fast
pytestmark = one_worker("voucherify")


def test_journal_records_what_the_sdk_sent(spec):
    with server(spec, lifecycle="poll") as running:
        config = voucherify.Configuration(host=running.url, api_key={"X-App-Id": "sdk-app", "X-App-Token": "sdk-tok"})
        exports = voucherify.ExportsApi(voucherify.ApiClient(config))
        created = exports.create_export(
            voucherify.ExportsCreateRequestBody.from_dict(
                {"exported_object": "order", "parameters": {"fields": ["id", "status"]}}
            )
        )
        exports.get_export(created.id)
        journal = http("GET", running.url + "/__mock/requests?app_id=sdk-app&method=POST").json
    [entry] = journal["requests"]
    assert entry["path"] == "/v1/exports"
    assert entry["body"]["exported_object"] == "order"
    assert entry["body"]["parameters"]["fields"] == ["id", "status"]
    assert entry["headers"]["X-App-Token"] == "****"  # what it sent, but never a secret
    assert entry["headers"]["Content-Type"].startswith("application/json")
    assert entry["headers"]["User-Agent"].startswith("OpenAPI-Python-SDK/")
    assert entry["response"]["body"]["id"] == created.id
