"""The Prefer header: Prism's code/example/dynamic and our export knobs, each
through HTTP (every answer is checked against the spec by the Api client)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
import yaml

from mockserver.app import Settings, create_app
from mockserver.control.generate import generate
from mockserver.control.prefer import KNOBS
from mockserver.documents import load_yaml
from mockserver.spec import load_spec
from mockserver.vendors.voucherify import Voucherify
from tests.conftest import Api
from tests.control_support import control_api  # noqa: F401  (fixture)

ORDER = {"exported_object": "order", "parameters": {"fields": ["id", "status"]}}


async def test_code_answers_with_the_documented_example(control_api, spec):
    api, _ = await control_api()
    reply = await api.get("/v1/exports/exp_whatever", headers={"Prefer": "code=404"})
    assert reply.status == 404
    example = spec.resolved["components"]["responses"]["NotFound"]["content"]["application/json"]["example"]
    assert reply.json == example


async def test_code_without_an_example_answers_in_the_vendor_error_shape(control_api):
    api, _ = await control_api()
    reply = await api.post("/v1/exports", json=ORDER, headers={"Prefer": "code=415"})
    assert reply.status == 415 and reply.json["code"] == 415  # the Api client checked the shape


async def test_code_200_answers_from_the_spec_and_stores_nothing(control_api):
    api, _ = await control_api()
    reply = await api.post("/v1/exports", json=ORDER, headers={"Prefer": "code=200"})
    assert reply.status == 200 and reply.json["status"] == "SCHEDULED"
    assert reply.json["id"] == "exp_FFfp9o7daWuJqJCKp5xqqli4"  # the schema's example id
    listed = await api.get("/v1/exports")
    assert listed.json["total"] == 0


async def test_undocumented_code_is_refused_with_the_documented_ones(control_api):
    api, _ = await control_api()
    reply = await api.get("/v1/exports", headers={"Prefer": "code=418"})
    assert reply.status == 400
    assert reply.json["key"] == "invalid_prefer_header"
    assert "200, 400, 401" in reply.json["details"]


async def test_dynamic_generates_a_body_from_the_schema(control_api):
    api, _ = await control_api()
    reply = await api.get("/v1/exports", headers={"Prefer": "dynamic=true"})
    assert reply.status == 200
    assert reply.json["object"] == "list" and len(reply.json["exports"]) == 1


async def test_the_request_is_still_authenticated_and_validated(control_api):
    api, _ = await control_api()
    assert (await api.get("/v1/exports", auth=False, headers={"Prefer": "code=200"})).status == 401
    assert (await api.get("/v1/exports?limit=0", headers={"Prefer": "code=200"})).status == 400


@pytest.fixture(scope="module")
def spec_with_examples(tmp_path_factory) -> Path:
    """Our voucherify spec plus two named examples on list-exports' 200."""
    folder = tmp_path_factory.mktemp("spec")
    source = Path(__file__).resolve().parent.parent / "schemas" / "voucherify"
    for part in source.glob("*.yaml"):
        (folder / part.name).write_text(part.read_text())
    document = load_yaml((source / "openapi.yaml").read_text())  # LibYAML's parser and emitter: 0.2 s less
    empty = {"object": "list", "data_ref": "exports", "exports": [], "total": 0}
    media = document["paths"]["/v1/exports"]["get"]["responses"]["200"]["content"]["application/json"]
    media["examples"] = {"empty": {"value": empty}, "many": {"value": {**empty, "total": 99}}}
    (folder / "openapi.yaml").write_text(yaml.dump(document, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))
    return folder


async def test_named_example(aiohttp_client, clock, spec_with_examples):
    spec = load_spec("voucherify", spec_with_examples)
    app = create_app(Settings(), clock=clock, vendors=[Voucherify(spec=spec)])
    api = Api(await aiohttp_client(app), spec)
    reply = await api.get("/v1/exports", headers={"Prefer": "code=200, example=many"})
    assert reply.json["total"] == 99
    assert (await api.get("/v1/exports", headers={"Prefer": "example=empty"})).json["total"] == 0
    unknown = await api.get("/v1/exports", headers={"Prefer": "example=nope"})
    assert unknown.status == 400 and "empty, many" in unknown.json["details"]


async def test_an_example_the_spec_does_not_name_is_refused(control_api):
    api, _ = await control_api()
    reply = await api.get("/v1/exports", headers={"Prefer": "example=anything"})
    assert reply.status == 400 and "none are documented" in reply.json["details"]


# ------------------------------------------------------------ export knobs
async def test_outcome_error_ends_the_export_in_error(control_api):
    api, _ = await control_api(lifecycle="poll")
    created = await api.post("/v1/exports", json=ORDER, headers={"Prefer": "outcome=error"})
    assert created.json["status"] == "SCHEDULED"
    seen = [(await api.get(f"/v1/exports/{created.json['id']}")).json["status"] for _ in range(3)]
    assert seen == ["IN_PROGRESS", "ERROR", "ERROR"]


async def test_rows_sets_the_number_of_csv_rows(control_api):
    api, _ = await control_api(lifecycle="instant", rows=50)
    created = await api.post("/v1/orders/export", json={}, headers={"Prefer": "rows=3"})
    done = await api.get(f"/v1/exports/{created.json['id']}")
    url = done.json["result"]["url"]
    csv_text = (await api.get(url[url.index("/v1/") :], auth=False)).body
    assert len(list(csv.reader(io.StringIO(csv_text)))) == 1 + 3


async def test_lifecycle_overrides_the_run_mode_for_one_export(control_api):
    api, _ = await control_api(lifecycle="poll")
    created = await api.post("/v1/exports", json=ORDER, headers={"Prefer": "lifecycle=instant"})
    assert (await api.get(f"/v1/exports/{created.json['id']}")).json["status"] == "DONE"
    other = await api.post("/v1/exports", json=ORDER)
    assert (await api.get(f"/v1/exports/{other.json['id']}")).json["status"] == "IN_PROGRESS"


async def test_voucher_transactions_export_takes_the_knobs_too(control_api):
    api, _ = await control_api(lifecycle="time")
    created = await api.post(
        "/v1/vouchers/GIFT-1/transactions/export", json={}, headers={"Prefer": "lifecycle=poll; outcome=error"}
    )
    export_id = created.json["id"]
    assert [(await api.get(f"/v1/exports/{export_id}")).json["status"] for _ in range(2)] == ["IN_PROGRESS", "ERROR"]


async def test_delay_waits_before_answering(control_api):
    api, _ = await control_api()
    started = time.monotonic()
    assert (await api.get("/v1/exports", headers={"Prefer": "delay=300"})).status == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "prefer, says",
    [
        ("colour=blue", "allowed: " + ", ".join(KNOBS)),
        ("code=abc", "whole number from 100 to 599"),
        ("rows=-1", "whole number from 0"),
        ("delay=99999999", "whole number from 0 to 60000"),
        ("dynamic=maybe", "true or false"),
        ("outcome=late", "one of: done, error"),
        ("lifecycle=slow", "one of: time, poll, instant"),
        ("rows", "needs a value"),
        ("rows=1, rows=2", "more than once"),
        ("rows=5, code=200", "cannot be combined"),
    ],
)
async def test_bad_preferences_are_refused_saying_what_is_allowed(control_api, prefer, says):
    api, _ = await control_api()
    reply = await api.post("/v1/exports", json=ORDER, headers={"Prefer": prefer})
    assert reply.status == 400, reply.body
    assert reply.json["key"] == "invalid_prefer_header"
    assert says in reply.json["details"]
    assert (await api.get("/v1/exports")).json["total"] == 0  # nothing was created


async def test_export_knobs_are_refused_where_no_export_is_created(control_api):
    api, _ = await control_api()
    reply = await api.get("/v1/exports", headers={"Prefer": "outcome=error"})
    assert reply.status == 400 and "only to operations that create an export" in reply.json["details"]


def test_generated_bodies_fit_every_documented_response(spec):
    checked = 0
    for operation in spec.operations:
        for status, media in operation.responses.items():
            for media_type, schema in media.items():
                spec.check_response(operation, int(status), media_type, generate(schema))
                checked += 1
    assert checked > 20


# Statuses every real API can answer (a rate limit, an outage) on every operation, in the vendor's shape

ALWAYS_CASES = [(429, "1"), (500, None), (502, None), (503, "1"), (504, None)]


@pytest.mark.parametrize(("code", "retry_after"), ALWAYS_CASES)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/exports"),
        ("GET", "/v1/exports/exp_x"),
        ("DELETE", "/v1/exports/exp_x"),
        ("POST", "/v1/orders/export"),
    ],
)
async def test_outage_and_rate_limit_codes_answer_on_every_operation(control_api, code, retry_after, method, path):
    api, _ = await control_api()
    body = (
        {"/v1/exports": ORDER, "/v1/orders/export": {"parameters": {"fields": ["id"]}}}.get(path)
        if method == "POST"
        else None
    )
    reply = await api.request(method, path, json=body, headers={"Prefer": f"code={code}"}, check=False)
    assert reply.status == code  # check=False: the schema does not document it; the shape is checked below
    assert reply.json["code"] == code and reply.json["request_id"] and reply.json["key"]
    assert reply.headers.get("Retry-After") == retry_after


async def test_other_undocumented_codes_are_still_refused_naming_the_universal_ones(control_api):
    api, _ = await control_api()
    reply = await api.post("/v1/exports", json=ORDER, headers={"Prefer": "code=418"})
    assert reply.status == 400 and "429, 500, 502, 503, 504" in reply.json["details"]


async def test_outage_codes_in_the_chargebee_error_shape(aiohttp_client, clock):
    from mockserver.vendors.chargebee import Chargebee
    from tests.chargebee_support import KEY, basic

    app = create_app(Settings(), clock=clock, vendors=[Chargebee(spec=load_spec("chargebee"))])
    client = await aiohttp_client(app)
    for code in (429, 502, 504):
        resp = await client.get("/api/v2/exports/e_1", headers={"Authorization": basic(KEY), "Prefer": f"code={code}"})
        body = await resp.json()
        assert resp.status == code and body["http_status_code"] == code and "api_error_code" in body
    limited = await client.get("/api/v2/exports/e_1", headers={"Authorization": basic(KEY), "Prefer": "code=429"})
    assert limited.headers["Retry-After"] == "1"
