"""The official Node SDKs for Chargebee and Stripe, unmodified, against a real listening server (the
scripts in tests/js/, pinned by its package-lock.json, `npm ci` on first use): the settings
docs/sdk-clients.md gives point each one at the mock, a journey completes, and the SDKs' known quirks
(read in their sources) are what the docs say."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import zipfile
from io import BytesIO

import pytest

from mockserver.app import Settings
from mockserver.testing import ServerThread
from tests.chargebee_support import read_zip

STRIPE_KEY = "sk_test_51Hnode0mockserver"


@pytest.fixture(scope="module")
def server():
    settings = Settings(
        port=0,
        lifecycle="time",
        scheduled_seconds=0.01,
        running_seconds=0.02,
        rows=80,
        vendor_options={"stripe": {"keys": [STRIPE_KEY]}},
    )
    with ServerThread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def poll_server():
    with ServerThread(Settings(port=0, lifecycle="poll", vendor_options={"stripe": {"keys": [STRIPE_KEY]}})) as running:
        yield running


def run(npm_sdk, script: str, url: str, **env: str) -> dict:
    done = subprocess.run(
        [shutil.which("node"), script],
        cwd=npm_sdk,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MOCK_URL": url, **env},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_chargebee_node_reaches_the_mock_with_site_host_suffix_protocol_and_port(server, npm_sdk):
    result = run(npm_sdk, "chargebee_export.js", server.url)
    assert result["created"]["status"] == "in_process" and result["created"]["operation_type"] == "orders"
    assert result["statuses"][-1] == "completed" and result["exported"]["download"]["download_url"].startswith(
        server.url + "/api/v2/exports/"
    )
    names, rows, _ = read_zip(base64.b64decode(result["zip"]))
    assert names == ["orders.csv"] and rows
    # the filters the SDK encoded (order[status][in], total[gte]) were applied
    assert all(row["status"] in ("queued", "delivered") and int(row["total"]) >= 1000 for row in rows)
    # an unknown operator: the SDK's error carries Chargebee's fields
    assert result["refused"] == {
        "status": 400,
        "api_error_code": "invalid_request",
        "param": "order[status][sounds_like]",
    }
    # chargebee-node 3.x: wait_for_export_completion resolves to a wrapper whose request() rejects
    assert result["waited"] == {"returned": ["request"], "error": "this.export.retrieve(...).request is not a function"}
    zipfile.ZipFile(BytesIO(base64.b64decode(result["zip"]))).testzip()


@pytest.mark.slow
def test_stripe_node_reaches_the_mock_with_host_port_and_protocol(poll_server, npm_sdk):
    result = run(npm_sdk, "stripe_report.js", poll_server.url, STRIPE_KEY=STRIPE_KEY)
    assert result["type"]["id"] == "balance.summary.1"
    assert result["statuses"] == ["pending", "pending", "succeeded"]
    assert result["run"]["result"]["id"] == result["file"]["id"]
    assert result["file"]["url"].startswith(poll_server.url)
    assert result["csv"].splitlines()[0].startswith("category,description,net_amount,currency")
    # stripe-node takes any answer with a truthy `error` for an error: retrieving a failed run (whose
    # `error` is its message) throws StripeOAuthError with status 200; a list returns it
    failed = result["failed"]
    assert "run" not in failed
    assert failed["thrown"]["name"] == "StripeOAuthError" and failed["thrown"]["statusCode"] == 200
    assert failed["listed"]["status"] == "failed" and failed["thrown"]["runError"] == failed["listed"]["error"]


@pytest.mark.slow
def test_node_sdks_trust_the_mocks_ca_through_node_extra_ca_certs(tmp_path, npm_sdk):
    """`serve --tls`: NODE_EXTRA_CA_CERTS=DIR/ca.pem, and stripe-node (its requests and fetch) over HTTPS."""
    settings = Settings(
        port=0, tls_dir=str(tmp_path), lifecycle="poll", vendor_options={"stripe": {"keys": [STRIPE_KEY]}}
    )
    with ServerThread(settings) as server:
        result = run(npm_sdk, "stripe_report.js", server.url, STRIPE_KEY=STRIPE_KEY, NODE_EXTRA_CA_CERTS=server.ca_file)
        assert server.url.startswith("https://") and result["statuses"][-1] == "succeeded"
        assert result["file"]["url"].startswith(server.url) and result["csv"].startswith("category,")
