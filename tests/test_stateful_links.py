"""OpenAPI links in our schemas make schemathesis' stateful phase walk real
sequences: an id a create answered is the id the next get, download, update
or delete uses. Proven from the mock's journal after a stateful-only run
against a real server (lifecycle instant, so exports are DONE at once and the
download token in `result.url` / `download_url` can be followed too)."""

from __future__ import annotations

import base64
import multiprocessing
from collections import Counter

import pytest
import schemathesis
from schemathesis.engine import events, from_schema

from mockserver import tuning
from mockserver.app import Settings
from mockserver.spec import load_document, schemas_dir
from mockserver.testing import ServerThread
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.voucherify import Voucherify
from tests.control_support import http

SCENARIOS = 30  # schemathesis' max-examples for the stateful phase: scenarios it runs


def links(vendor: str) -> set[tuple[str, str, str]]:
    """(operation, link name, target operation) for every link of a bundled schema."""
    document = load_document(schemas_dir() / vendor)
    components = document.get("components", {}).get("responses", {})
    found = set()
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            for response in operation.get("responses", {}).values():
                if "$ref" in response:
                    response = components[response["$ref"].rsplit("/", 1)[-1]]
                for name, link in (response.get("links") or {}).items():
                    found.add((operation["operationId"], name, link["operationId"]))
    return found


def stateful_walk(vendor, operations: list[str], headers: dict[str, str]) -> tuple[list[dict], int]:
    """`walk` in a fresh interpreter: schemathesis and hypothesis keep process-wide state that tests run
    before this one change (in the full suite on 2 workers the seeded walk took another path, with no delete)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(walk, (type(vendor).__name__, operations, headers))


def walk(vendor_class: str, operations: list[str], headers: dict[str, str]) -> tuple[list[dict], int]:
    """Run only the stateful phase over `operations`; the server's journal and the scenarios run. (A fresh
    interpreter reads no conftest: it collects garbage at the suite's pace by itself.)"""
    tuning.collect_less()
    vendor = {"Voucherify": Voucherify, "Chargebee": Chargebee}[vendor_class]()
    with ServerThread(Settings(port=0, lifecycle="instant", rows=2, journal_size=100_000), vendors=[vendor]) as server:
        config = schemathesis.Config.from_dict(
            {
                "base-url": server.url,
                "seed": 1,
                "workers": 1,
                "headers": headers,
                "generation": {"max-examples": SCENARIOS, "database": "none"},  # no replays from earlier runs
                "phases": {name: {"enabled": False} for name in ("examples", "coverage", "fuzzing")},
                "checks": {"ignored_auth": {"enabled": False}},  # keep the journal to the walk itself
            }
        )
        schema = schemathesis.openapi.from_dict(load_document(schemas_dir() / vendor.name), config=config)
        scenarios = 0
        for event in from_schema(schema.include(operation_id=operations)).execute():
            if isinstance(event, events.ScenarioFinished) and event.phase.value == "stateful":
                scenarios += 1
            elif isinstance(event, events.FatalError):
                raise event.exception
        return http("GET", server.url + "/__mock/requests").json["requests"], scenarios


def followed(journal: list[dict], created_by: str, id_of) -> Counter:
    """(method, path shape, status) of each request on a resource an earlier `created_by` POST answered."""
    made: set[str] = set()
    walked: Counter = Counter()
    for entry in journal:
        parts = entry["path"].split("/")
        resource = parts[-2] if parts[-1] == "download" else parts[-1]
        if resource in made:
            shape = "download" if "token" in entry["query"] else entry["method"]
            walked[(shape, entry["response"]["status"])] += 1
        body = entry["response"]["body"]
        if entry["method"] == "POST" and entry["path"] == created_by and entry["response"]["status"] == 200:
            made.add(id_of(body))
    return walked


def test_our_schemas_declare_the_sequences():
    assert {
        ("create-export", "GetExport", "get-export"),
        ("create-export", "DeleteExport", "delete-export"),
        ("get-export", "DownloadExport", "get-export"),
        ("get-export", "DeleteExport", "delete-export"),
        ("create-order-export", "GetExport", "get-export"),
        ("create-order", "GetOrder", "get-order"),
        ("create-order", "UpdateOrder", "update-order"),
        ("get-order", "UpdateOrder", "update-order"),
        ("update-order", "GetOrder", "get-order"),
    } <= links("voucherify")
    chargebee = links("chargebee")
    for create in ("export-orders", "export-customers", "export-subscriptions", "export-invoices", "retrieve-export"):
        assert {
            (create, "RetrieveExport", "retrieve-export"),
            (create, "DownloadExport", "download-export"),
        } <= chargebee


VOUCHERIFY_APP = {"X-App-Id": "walker", "X-App-Token": "walker-token"}


@pytest.mark.slow
def test_the_stateful_phase_walks_voucherify_exports():
    journal, scenarios = stateful_walk(Voucherify(), ["create-export", "get-export", "delete-export"], VOUCHERIFY_APP)
    walked = followed(journal, "/v1/exports", lambda body: body["id"])
    assert scenarios >= SCENARIOS
    # get-export calls on an id a create-export produced (schemathesis adds the optional `token` to some)
    assert sum(n for (shape, _), n in walked.items() if shape in ("GET", "download")) >= 1, walked
    assert walked[("DELETE", 204)] >= 1, walked  # …and delete-export ones
    print(f"voucherify exports: {scenarios} scenarios, {len(journal)} requests, linked {dict(walked)}")


@pytest.mark.slow
def test_the_stateful_phase_walks_voucherify_orders():
    journal, scenarios = stateful_walk(Voucherify(), ["create-order", "get-order", "update-order"], VOUCHERIFY_APP)
    walked = followed(journal, "/v1/orders", lambda body: body["id"])
    assert walked[("GET", 200)] >= 1 and walked[("PUT", 200)] >= 1, walked
    print(f"voucherify orders: {scenarios} scenarios, {len(journal)} requests, linked {dict(walked)}")


@pytest.mark.slow
def test_the_stateful_phase_walks_chargebee_export_retrieve_download():
    key = "walker_key"
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    journal, scenarios = stateful_walk(
        Chargebee(), ["export-orders", "retrieve-export", "download-export"], {"Authorization": auth}
    )
    walked = followed(journal, "/api/v2/exports/orders", lambda body: body["export"]["id"])
    assert walked[("GET", 200)] >= 1, walked  # retrieve-export with the id export-orders answered
    assert walked[("download", 200)] >= 1, walked  # download-export with the token from download_url
    print(f"chargebee: {scenarios} scenarios, {len(journal)} requests, linked {dict(walked)}")
