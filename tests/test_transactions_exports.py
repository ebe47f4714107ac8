"""Loyalty card, campaign transaction and points-expiration exports, in-process:
each creates a SCHEDULED export whose filters echo the path's scope and whose
rows are that card's or campaign's."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.vendors.voucherify.exports import voucher_id
from mockserver.vendors.voucherify.transactions import campaign_id, schema_lookup
from tests.conftest import download_rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CARD = "LOYAL-ALICE"
LOYALTY = "camp_DemoLoyaltyProgram00001"


def in_(value):
    return {"conditions": {"$in": [value]}}


# path → (exported object, filters the answer echoes)
CALLS = {
    f"/v1/loyalties/members/{CARD}/transactions/export": ("voucher_transactions", {"voucher_id": in_(CARD)}),
    f"/v1/loyalties/{LOYALTY}/members/{CARD}/transactions/export": (
        "voucher_transactions",
        {"voucher_id": in_(CARD), "campaign_id": in_(LOYALTY)},
    ),
    f"/v1/loyalties/{LOYALTY}/transactions/export": ("voucher_transactions", {}),
    f"/v1/campaigns/{LOYALTY}/transactions/export": ("voucher_transactions", {}),
    f"/v1/loyalties/{LOYALTY}/points-expiration/export": ("points_expiration", {"campaign_id": in_(LOYALTY)}),
}


def default_fields(spec, path):
    body = spec.match("POST", path).body_schemas["application/json"]
    return schema_lookup(body, "parameters", "fields", "default")


@pytest.fixture
async def poll_api(make_api):
    return await make_api(lifecycle="poll", rows=12)


@pytest.mark.parametrize("path", CALLS)
async def test_each_call_schedules_an_export_with_its_scope_echoed(api, spec, path):
    exported_object, echoed = CALLS[path]
    reply = await api.post(path, json={})
    assert reply.status == 200, reply.body
    export = reply.json
    assert export["status"] == "SCHEDULED" and export["id"].startswith("exp_")
    assert export["exported_object"] == exported_object
    assert export["parameters"]["fields"] == default_fields(spec, path)
    assert export["parameters"]["filters"] == {"junction": "and", **echoed}
    listed = (await api.get("/v1/exports")).json["exports"]
    assert [e["id"] for e in listed] == [export["id"]]


@pytest.mark.parametrize("path", [*CALLS, "/v1/vouchers/GIFT-1/transactions/export"])
@pytest.mark.parametrize(
    "body",
    [
        None,
        {"parameters": None},
        {"parameters": {"fields": None, "filters": None}},
        {"exported_object": "order", "parameters": {"response_format": "CSV"}},
    ],
)
async def test_no_body_nulls_and_unknown_properties_export_the_defaults(api, spec, path, body):
    reply = await api.post(path, **({"json": body} if body is not None else {}))
    assert reply.status == 200, reply.body
    assert reply.json["parameters"]["fields"] == default_fields(spec, path)
    assert "response_format" not in reply.json["parameters"]


@pytest.mark.parametrize("raw", [b"\n", b"  \r\n\t"])
async def test_a_json_body_of_whitespace_is_malformed_not_absent(api, raw):
    """No body means "not given"; whitespace is no JSON document (schemathesis sends it as invalid syntax)."""
    reply = await api.post(
        "/v1/vouchers/GIFT-1/transactions/export", data=raw, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400 and "Malformed JSON" in reply.json["details"], reply.body


async def test_sent_filters_and_order_are_kept_beside_the_scope(api):
    body = {
        "parameters": {
            "order": "-created_at",
            "fields": ["id", "amount", "voucher_id"],
            "filters": {"junction": "and", "created_at": {"conditions": {"$after": ["2024-01-01"]}}},
        }
    }
    export = (await api.post(f"/v1/loyalties/members/{CARD}/transactions/export", json=body)).json
    assert export["parameters"] == {
        "order": "-created_at",
        "fields": ["id", "amount", "voucher_id"],
        "filters": {**body["parameters"]["filters"], "voucher_id": in_(CARD)},
    }


async def test_campaign_transaction_exports_have_no_campaign_id_column(api, spec):
    path = f"/v1/campaigns/{LOYALTY}/transactions/export"
    assert "campaign_id" not in default_fields(spec, path)
    reply = await api.post(path, json={"parameters": {"fields": ["id", "campaign_id"]}})
    assert reply.status == 400 and ".parameters.fields[1]" in reply.json["details"]


@pytest.mark.parametrize(
    "path, body",
    [
        (f"/v1/loyalties/{LOYALTY}/points-expiration/export", {"parameters": {"fields": ["id", "amount"]}}),
        (f"/v1/loyalties/{LOYALTY}/points-expiration/export", {"parameters": {"order": "-created_at"}}),
        (f"/v1/loyalties/members/{CARD}/transactions/export", {"parameters": {"filters": {"status": {}}}}),
    ],
)
async def test_bad_parameters_are_refused_and_nothing_is_created(api, path, body):
    reply = await api.post(path, json=body)
    assert reply.status == 400, reply.body
    assert (await api.get("/v1/exports")).json["total"] == 0


async def test_card_rows_are_the_cards(poll_api):
    path = f"/v1/loyalties/{LOYALTY}/members/{CARD}/transactions/export"
    body = {"parameters": {"fields": ["id", "voucher_id", "campaign_id", "amount"]}}
    rows = await download_rows(poll_api, (await poll_api.post(path, json=body)).json)
    assert rows and {r["voucher_id"] for r in rows} == {voucher_id(CARD)}
    assert {r["campaign_id"] for r in rows} == {LOYALTY}


async def test_campaign_rows_are_the_campaigns_by_id_or_name(poll_api):
    for name in ("Summer Loyalty", LOYALTY):
        body = {"parameters": {"fields": ["id", "campaign_id", "voucher_id", "points"]}}
        rows = await download_rows(
            poll_api, (await poll_api.post(f"/v1/loyalties/{name}/points-expiration/export", json=body)).json
        )
        assert rows and {r["campaign_id"] for r in rows} == {campaign_id(name)}
    assert campaign_id("Summer Loyalty").startswith("camp_") and campaign_id(LOYALTY) == LOYALTY


# --------------------------------------------------- apps with fixture vouchers
@pytest.fixture
async def shop(make_api):
    return (await make_api(lifecycle="poll", fixtures=str(FIXTURES))).as_app("demo-shop", "demo-token")


@pytest.mark.parametrize(
    "path, missing",
    [
        ("/v1/vouchers/NO-SUCH-CODE/transactions/export", "NO-SUCH-CODE"),
        ("/v1/loyalties/members/NO-SUCH-CARD/transactions/export", "NO-SUCH-CARD"),
        (f"/v1/loyalties/No Such Campaign/members/{CARD}/transactions/export", "No Such Campaign"),
        ("/v1/loyalties/camp_missing/transactions/export", "camp_missing"),
        ("/v1/campaigns/camp_missing/transactions/export", "camp_missing"),
        ("/v1/loyalties/camp_missing/points-expiration/export", "camp_missing"),
        ("/v1/vouchers/ÇÖDÉ ✓/transactions/export", "ÇÖDÉ ✓"),  # a code of any shape: not found, not a 400
        ("/v1/loyalties/members/" + "C" * 300 + "/transactions/export", "C" * 300),
    ],
)
async def test_unknown_cards_and_campaigns_of_a_fixture_app_are_not_found(shop, path, missing):
    reply = await shop.post(path, json={})
    assert reply.status == 404 and reply.json["key"] == "not_found" and missing[:100] in reply.json["details"]
    assert reply.json["resource_id"] == missing and reply.json["resource_type"] in ("voucher", "campaign")
    assert (await shop.get("/v1/exports")).json["total"] == 0


async def test_known_cards_and_campaigns_of_a_fixture_app_are_found_by_code_id_or_name(shop):
    for path in (
        "/v1/vouchers/GIFT-100/transactions/export",
        f"/v1/loyalties/members/{CARD}/transactions/export",
        f"/v1/loyalties/members/{voucher_id(CARD)}/transactions/export",
        "/v1/loyalties/Demo Loyalty Program/transactions/export",
        "/v1/campaigns/Gift Cards 2024/transactions/export",
    ):
        assert (await shop.post(path, json={})).status == 200, path


async def test_a_fixture_apps_voucher_export_lists_exactly_its_vouchers(shop):
    body = {"exported_object": "voucher", "parameters": {"fields": ["code", "voucher_type", "campaign"]}}
    rows = await download_rows(shop, (await shop.post("/v1/exports", json=body)).json)
    assert {(r["code"], r["voucher_type"], r["campaign"]) for r in rows} == {
        ("LOYAL-ALICE", "LOYALTY_CARD", "Demo Loyalty Program"),
        ("LOYAL-BOB", "LOYALTY_CARD", "Demo Loyalty Program"),
        ("GIFT-100", "GIFT_VOUCHER", "Gift Cards 2024"),
    }


async def test_prefer_steers_every_transaction_export(poll_api):
    for path in CALLS:
        reply = await poll_api.post(path, json={}, headers={"Prefer": "rows=3, outcome=error, lifecycle=instant"})
        assert reply.status == 200, (path, reply.body)
        assert (await poll_api.get(f"/v1/exports/{reply.json['id']}")).json["status"] == "ERROR", path
