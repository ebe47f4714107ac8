"""Proxy mode against local upstreams: our own mock, and deliberately broken
ones (tests/broken), over real HTTP. The proxy must forward everything, say
what breaks the contract in X-Mock-Violation headers, journal each exchange and
record orders as fixtures a mock replays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mockserver import redact
from mockserver.app import Settings
from mockserver.proxy import Forwarder
from mockserver.testing import ServerThread
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.voucherify import Voucherify
from mockserver.vendors.voucherify.record import Recorder
from tests import broken
from tests.chargebee_support import KEY, basic
from tests.control_support import CREDENTIALS, http

ORDER = {
    "source_id": "ord-src-1",
    "status": "PAID",
    "amount": 2500,
    "items": [{"source_id": "sku-1", "related_object": "sku", "quantity": 2, "price": 1000}],
    "customer": {"source_id": "cust-1", "name": "Ada"},
}


def proxy_for(upstream: ServerThread, spec, record: Path | None = None) -> ServerThread:
    forwarder = Forwarder(upstream.url)
    if record is not None:
        forwarder.observers.append(Recorder(record, spec))
    return ServerThread(Settings(port=0), vendors=[Voucherify(spec=spec)], proxy=forwarder)


def violations(answer) -> list[str]:
    return answer.headers.get_all("X-Mock-Violation") or []


@pytest.fixture
def own_mock():
    with ServerThread(Settings(port=0, lifecycle="instant", rows=3)) as upstream:
        yield upstream


def test_a_good_exchange_passes_through_unmarked_and_is_journaled(own_mock, spec):
    with proxy_for(own_mock, spec) as proxy:
        created = http("POST", proxy.url + "/v1/exports", {"exported_object": "order"}, headers=CREDENTIALS)
        assert created.status == 200 and created.json["id"].startswith("exp_")
        assert violations(created) == []
        got = http("GET", f"{proxy.url}/v1/exports/{created.json['id']}", headers=CREDENTIALS)
        assert got.status == 200 and got.json["status"] == "DONE" and violations(got) == []
        journal = http("GET", proxy.url + "/__mock/requests").json
        entries = journal if isinstance(journal, list) else journal["requests"]
        assert [(e["method"], e["response"]["status"]) for e in entries] == [("POST", 200), ("GET", 200)]
        assert entries[0]["response"]["body"]["id"] == created.json["id"]
    # it really reached the upstream: the export lives there
    assert http("GET", f"{own_mock.url}/v1/exports/{created.json['id']}", headers=CREDENTIALS).status == 200


def test_a_bad_request_is_forwarded_not_refused_and_marked(own_mock, spec):
    with proxy_for(own_mock, spec) as proxy:
        answer = http("POST", proxy.url + "/v1/exports", {"exported_object": "nonsense"}, headers=CREDENTIALS)
        assert answer.status == 400 and answer.json["request_id"].startswith("v-")  # the upstream's own answer
        found = violations(answer)
        assert len(found) == 1 and found[0].startswith("request: body.exported_object")
        query = http("GET", proxy.url + "/v1/exports?limit=0", headers=CREDENTIALS)
        assert query.status == 400 and violations(query)[0].startswith("request: limit")
    upstream_journal = http("GET", own_mock.url + "/__mock/requests").json
    entries = upstream_journal if isinstance(upstream_journal, list) else upstream_journal["requests"]
    assert [e["path"] for e in entries] == ["/v1/exports", "/v1/exports"]


@pytest.mark.parametrize(
    ("defect", "method", "path", "body", "says"),
    [
        (broken.missing_required_field, "GET", "/v1/exports", None, "'total' is a required property"),
        (broken.status_outside_enum, "POST", "/v1/exports", {"exported_object": "order"}, "'QUEUED' is not one of"),
        (
            broken.error_without_request_id,
            "GET",
            "/v1/exports/exp_missing",
            None,
            "'request_id' is a required property",
        ),
    ],
)
def test_a_broken_upstream_answer_is_passed_on_with_a_violation(spec, defect, method, path, body, says):
    with defect() as upstream, proxy_for(upstream, spec) as proxy:
        answer = http(method, proxy.url + path, body, headers=CREDENTIALS)
        found = violations(answer)
        assert len(found) == 1 and found[0].startswith("response: ") and says in found[0], found
        journal = http("GET", proxy.url + "/__mock/requests").json
        entries = journal if isinstance(journal, list) else journal["requests"]
        assert entries[-1]["response"]["headers"]["X-Mock-Violation"] == found[0]


def test_a_path_outside_the_contract_is_forwarded_with_a_route_finding(own_mock, spec):
    with proxy_for(own_mock, spec) as proxy:
        answer = http("GET", proxy.url + "/v1/vouchers?x=1", headers=CREDENTIALS)
        assert answer.status == 404 and answer.json["key"] == "not_found"  # the upstream's 404
        assert violations(answer) == ["route: no operation of the contract matches GET /v1/vouchers"]


def test_an_unreachable_upstream_is_a_502_in_the_vendor_shape(spec):
    with ServerThread(Settings(port=0)) as gone:
        url = gone.url
    with ServerThread(Settings(port=0), vendors=[Voucherify(spec=spec)], proxy=Forwarder(url)) as proxy:
        answer = http("GET", proxy.url + "/v1/exports", headers=CREDENTIALS)
        assert answer.status == 502 and answer.json["key"] == "bad_gateway" and url in answer.json["details"]
        assert answer.json["request_id"]


def test_chargebee_traffic_is_checked_against_the_chargebee_contract():
    with (
        ServerThread(Settings(port=0, lifecycle="instant", rows=2), vendors=[Chargebee()]) as upstream,
        ServerThread(Settings(port=0), vendors=[Chargebee()], proxy=Forwarder(upstream.url)) as proxy,
    ):
        auth = {"Authorization": basic(KEY)}
        created = http("POST", proxy.url + "/api/v2/exports/orders", headers=auth)
        assert created.status == 200 and violations(created) == []
        export_id = created.json["export"]["id"]
        got = http("GET", f"{proxy.url}/api/v2/exports/{export_id}", headers=auth)
        assert got.status == 200 and violations(got) == []
        missing = http("GET", proxy.url + "/api/v2/exports/nope", headers={"Authorization": basic("other")})
        assert missing.status == 404 and violations(missing) == []
        # journalled under a label of the key, as docs/proxy.md says: never the key, never "none"
        filed = {entry["app_id"] for entry in http("GET", proxy.url + "/__mock/requests").json["requests"]}
        assert filed == {redact.label(KEY), redact.label("other")}


def test_recorded_orders_replay_from_a_mock_serving_them_as_fixtures(own_mock, spec, tmp_path):
    with proxy_for(own_mock, spec, record=tmp_path) as proxy:
        created = http("POST", proxy.url + "/v1/orders", ORDER, headers=CREDENTIALS)
        assert created.status == 200 and violations(created) == []
        order_id = created.json["id"]
        updated = http("PUT", f"{proxy.url}/v1/orders/{order_id}", {"status": "CANCELED"}, headers=CREDENTIALS)
        assert updated.status == 200
        http("POST", proxy.url + "/v1/orders", {**ORDER, "source_id": "ord-src-2", "amount": 900}, headers=CREDENTIALS)
        listed = http("GET", proxy.url + "/v1/orders", headers=CREDENTIALS)
        assert listed.status == 200
    written = yaml.safe_load((tmp_path / "app-1.yaml").read_text())
    assert written["app_id"] == "app-1" and "token" not in written  # secrets stay out of files
    assert sorted(o["id"] for o in written["orders"]) == sorted(o["id"] for o in listed.json["orders"])
    assert next(o for o in written["orders"] if o["id"] == order_id)["status"] == "CANCELED"  # the latest version
    with ServerThread(Settings(port=0, fixtures=str(tmp_path))) as replay:
        again = http("GET", f"{replay.url}/v1/orders/{order_id}", headers=CREDENTIALS)
        assert again.status == 200
        for key in ("id", "source_id", "status", "amount", "total_amount"):
            assert again.json[key] == updated.json[key], key
        assert again.json["customer"]["id"] == created.json["customer"]["id"]
        assert http("GET", replay.url + "/v1/orders", headers=CREDENTIALS).json["total"] == 2


@pytest.mark.slow
def test_cli_proxy_runs_and_refuses_a_bad_upstream(own_mock):
    bad = subprocess.run(
        [sys.executable, "-m", "mockserver", "proxy", "--upstream", "ftp://x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "http://" in bad.stderr
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "proxy",
            "--upstream",
            own_mock.url,
            "--spec",
            "voucherify",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = banner.split("listening on ")[1].split()[0]
        assert process.stdout.readline().strip() == f"forwarding every request to {own_mock.url}"  # the upstream
        answer = http("GET", url + "/v1/exports?limit=0", headers=CREDENTIALS)
        assert answer.status == 400 and violations(answer)[0].startswith("request: limit")
    finally:
        process.terminate()
        process.wait(timeout=30)
