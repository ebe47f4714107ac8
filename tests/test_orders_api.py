"""The Orders API and async actions, in-process; every answer is checked
against the spec by the `api` fixture."""

from __future__ import annotations

import re

import pytest

from mockserver.clock import iso
from tests.conftest import START, download_rows

ITEMS = [
    {"source_id": "sku-1", "related_object": "sku", "quantity": 2, "price": 1500},
    {"source_id": "sku-2", "amount": 700, "discount_amount": 200},
]


async def create(api, body, status=200):
    reply = await api.post("/v1/orders", json=body)
    assert reply.status == status, reply.body
    return reply.json


async def total(api) -> int:
    return (await api.get("/v1/orders")).json["total"]


@pytest.fixture
async def poll_api(make_api):
    return await make_api(lifecycle="poll")


# ------------------------------------------------------------------- create
async def test_create_computes_amounts_from_items(api):
    order = await create(
        api,
        {"source_id": "o-1", "status": "PAID", "discount_amount": 300, "items": ITEMS, "metadata": {"channel": "web"}},
    )
    assert re.fullmatch(r"ord_[A-Za-z0-9]{24}", order["id"])
    assert order["object"] == "order" and order["status"] == "PAID"
    assert [item["amount"] for item in order["items"]] == [3000, 700]
    assert order["amount"] == 3700
    assert order["items_discount_amount"] == 200
    assert order["total_discount_amount"] == 500
    assert order["total_amount"] == 3200
    assert order["metadata"] == {"channel": "web"}
    assert order["created_at"] == iso(START) and order["updated_at"] is None


async def test_create_defaults_and_explicit_amount(api):
    order = await create(api, {"amount": 2500})
    assert order["status"] == "CREATED"
    assert order["amount"] == order["total_amount"] == 2500
    assert order["source_id"] is None and order["customer_id"] is None and order["referrer_id"] is None
    assert "customer" not in order and "referrer" not in order  # left out, never null, as the vendor does
    assert "customer" not in (await api.get(f"/v1/orders/{order['id']}")).json


async def test_no_body_creates_an_order_with_nothing_given(api):
    reply = await api.post("/v1/orders")
    assert reply.status == 200, reply.body
    assert reply.json["status"] == "CREATED" and reply.json["amount"] == 0


async def test_read_modify_write_puts_back_what_get_returned(api):
    created = await create(
        api,
        {
            "source_id": "rmw",
            "status": "CREATED",
            "metadata": {"a": 1},
            "customer": {"source_id": "carol"},
            "referrer": {"source_id": "dave"},
            "items": [
                {
                    "source_id": "sku-1",
                    "related_object": "sku",
                    "quantity": 2,
                    "price": 1500,
                    "product": {"name": "Mug"},
                }
            ],
        },
    )
    got = (await api.get(f"/v1/orders/{created['id']}")).json
    reply = await api.request("PUT", f"/v1/orders/{created['id']}", json=got)  # every property, unknown ones too
    assert reply.status == 200, reply.body
    changed = {key for key in got if got[key] != reply.json[key]}
    assert changed == {"updated_at"}, changed
    got["status"] = "PAID"
    got["colour"] = "red"  # an unknown property is ignored
    again = await api.request("PUT", f"/v1/orders/{created['id']}", json=got)
    assert again.status == 200 and again.json["status"] == "PAID" and "colour" not in again.json
    assert again.json["items"] == created["items"] and again.json["amount"] == 3000


@pytest.mark.parametrize("order_id", ["ørdér-ñ", "两个", "with space", "a" * 300, "%C3%28"])
async def test_an_order_id_of_any_shape_is_not_found(api, order_id):
    for reply in (
        await api.get(f"/v1/orders/{order_id}"),
        await api.request("PUT", f"/v1/orders/{order_id}", json={"status": "PAID"}),
    ):
        assert reply.status == 404, reply.body
        assert reply.json["key"] == "not_found" and reply.json["resource_type"] == "order"


async def test_customer_and_referrer_are_upserted_by_source_id(api):
    first = await create(
        api, {"amount": 1, "customer": {"source_id": "alice", "name": "Alice"}, "referrer": {"source_id": "bob"}}
    )
    again = await create(api, {"amount": 2, "customer": {"source_id": "alice"}})
    assert first["customer_id"].startswith("cust_") and first["customer"] == {
        "id": first["customer_id"],
        "object": "customer",
    }
    assert first["referrer_id"].startswith("cust_") and first["referrer_id"] != first["customer_id"]
    assert again["customer_id"] == first["customer_id"]
    by_id = await create(api, {"amount": 3, "customer": {"id": "cust_existing"}})
    assert by_id["customer_id"] == "cust_existing"


async def test_create_with_a_known_source_id_updates_that_order(api):
    first = await create(api, {"source_id": "o-1", "amount": 100})
    second = await create(api, {"source_id": "o-1", "status": "PAID"})
    assert second["id"] == first["id"] and second["status"] == "PAID" and second["amount"] == 100
    assert second["updated_at"] is not None
    assert await total(api) == 1


async def test_create_with_an_unknown_id_is_not_found(api):
    reply = await api.post("/v1/orders", json={"id": "ord_missing", "amount": 1})
    assert reply.status == 404 and reply.json["key"] == "not_found"
    assert await total(api) == 0


# --------------------------------------------------------------- get/update
async def test_get_by_id_or_source_id(api):
    order = await create(api, {"source_id": "web-7", "amount": 10})
    assert (await api.get(f"/v1/orders/{order['id']}")).json == order
    assert (await api.get("/v1/orders/web-7")).json == order


async def test_unknown_order_is_not_found(api):
    for reply in (
        await api.get("/v1/orders/ord_nope"),
        await api.request("PUT", "/v1/orders/ord_nope", json={"status": "PAID"}),
    ):
        assert reply.status == 404
        assert reply.json["key"] == "not_found" and "ord_nope" in reply.json["details"]
        assert reply.json["resource_id"] == "ord_nope" and reply.json["resource_type"] == "order"


async def test_orders_belong_to_their_app(api):
    order = await create(api, {"amount": 10})
    other = api.as_app("app-2", "token-2")
    assert (await other.get(f"/v1/orders/{order['id']}")).status == 404
    assert (await other.get("/v1/orders")).json["total"] == 0


async def test_update_changes_only_what_is_given_and_recomputes(api):
    order = await create(api, {"source_id": "o-1", "items": ITEMS, "metadata": {"a": 1}})
    reply = await api.request("PUT", f"/v1/orders/{order['id']}", json={"status": "CANCELED"})
    assert reply.status == 200
    updated = reply.json
    assert updated["status"] == "CANCELED" and updated["amount"] == 3700 and updated["metadata"] == {"a": 1}
    reply = await api.request("PUT", "/v1/orders/o-1", json={"items": [{"price": 100, "quantity": 3}]})
    assert reply.json["amount"] == 300 and reply.json["total_amount"] == 300
    assert (await api.get("/v1/orders/o-1")).json == reply.json


async def test_update_to_another_orders_source_id_is_refused(api):
    await create(api, {"source_id": "a", "amount": 1})
    b = await create(api, {"source_id": "b", "amount": 1})
    reply = await api.request("PUT", f"/v1/orders/{b['id']}", json={"source_id": "a"})
    assert reply.status == 409 and reply.json["key"] == "duplicate_source_id" and "source_id" in reply.json["details"]
    assert (await api.get("/v1/orders/b")).json == b
    clash = await api.post("/v1/orders", json={"id": b["id"], "source_id": "a", "amount": 5})
    assert clash.status == 409 and (await api.get("/v1/orders/b")).json == b


async def test_dates_before_the_year_1000_round_trip(api):
    order = await create(api, {"source_id": "ancient", "amount": 1, "created_at": "0702-05-26T14:32:20.809Z"})
    assert order["created_at"] == "0702-05-26T14:32:20.809Z"
    listed = await api.get("/v1/orders", params={"created_at[before]": "0800-01-01T00:00:00Z"})
    assert [o["id"] for o in listed.json["orders"]] == [order["id"]]


# -------------------------------------------------------------- bad bodies
@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "SHIPPED"}, ".status"),
        ({"amount": -5}, ".amount"),
        ({"items": [{"quantity": "two"}]}, ".items[0].quantity"),
        ({"customer": {"source_id": 7}}, ".customer.source_id"),
        ({"created_at": "yesterday"}, ".created_at"),
    ],
)
async def test_invalid_bodies_name_the_field_and_store_nothing(api, body, field):
    await create(api, {"source_id": "kept", "amount": 1})
    for method, path in (("POST", "/v1/orders"), ("PUT", "/v1/orders/kept")):
        reply = await api.request(method, path, json=body)
        assert reply.status == 400, reply.body
        assert field in reply.json["details"]
    listed = (await api.get("/v1/orders")).json
    assert listed["total"] == 1 and listed["orders"][0]["amount"] == 1 and listed["orders"][0]["updated_at"] is None


async def test_malformed_json_is_refused(api):
    reply = await api.post("/v1/orders", data=b"{", headers={"Content-Type": "application/json"})
    assert reply.status == 400 and reply.json["key"] == "invalid_payload"


# -------------------------------------------------------------------- list
async def test_list_pages_and_orders(api, clock):
    ids = []
    for n in range(5):
        ids.append((await create(api, {"source_id": f"o-{n}", "amount": n}))["id"])
        clock.advance(60)
    listed = (await api.get("/v1/orders", params={"limit": 2, "page": 1})).json
    assert listed["object"] == "list" and listed["data_ref"] == "orders" and listed["total"] == 5
    assert [o["id"] for o in listed["orders"]] == ids[:2]  # oldest first by default, "most recent appearing last"
    page3 = (await api.get("/v1/orders", params={"limit": 2, "page": 3, "order": "created_at"})).json
    assert [o["id"] for o in page3["orders"]] == ids[4:]
    await api.request("PUT", f"/v1/orders/{ids[0]}", json={"status": "PAID"})
    by_update = (await api.get("/v1/orders", params={"order": "-updated_at", "limit": 1})).json
    assert by_update["orders"][0]["id"] == ids[0]


async def test_list_filters_by_created_at(api, clock):
    early = await create(api, {"amount": 1})
    clock.advance(3600)
    late = await create(api, {"amount": 2})
    middle = iso(START + 1800)
    before = (await api.get("/v1/orders", params={"created_at[before]": middle})).json
    after = (await api.get("/v1/orders", params={"created_at[after]": middle})).json
    assert [o["id"] for o in before["orders"]] == [early["id"]] and before["total"] == 1
    assert [o["id"] for o in after["orders"]] == [late["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"page": 0},
        {"page": 101},
        {"order": "amount"},
        {"created_at[after]": ""},
        {"created_at[before]": "tomorrow"},
    ],
)
async def test_list_refuses_bad_query(api, params):
    reply = await api.get("/v1/orders", params=params)
    assert reply.status == 400 and reply.json["key"] == "invalid_query_params"


# ------------------------------------------------------------------ import
async def test_import_stores_orders_and_reports_through_an_async_action(poll_api):
    await create(poll_api, {"source_id": "imp-0", "amount": 1})
    orders = [{"source_id": f"imp-{n}", "status": "PAID", "amount": 100 * n} for n in range(3)]
    reply = await poll_api.post("/v1/orders/import", json=orders)
    assert reply.status == 200
    action_id = reply.json["async_action_id"]
    assert await total(poll_api) == 3  # imp-0 was upserted
    assert (await poll_api.get("/v1/orders/imp-0")).json["status"] == "PAID"
    seen = []
    for _ in range(4):
        action = (await poll_api.get(f"/v1/async-actions/{action_id}")).json
        seen.append(action["status"])
        if action["status"] == "DONE":
            break
    assert seen == ["IN_PROGRESS", "DONE"]
    assert action["type"] == "ORDERS_IMPORT" and action["operation_status"] == "SUCCESS"
    assert action["progress"] == 100 and action["result"]["done_count"] == 3
    other = poll_api.as_app("app-2", "token-2")
    assert (await other.get(f"/v1/async-actions/{action_id}")).status == 404


async def test_an_async_action_waits_for_the_clock_in_time_mode(api, clock):
    action_id = (await api.post("/v1/orders/import", json=[{"amount": 1}])).json["async_action_id"]
    waiting = (await api.get(f"/v1/async-actions/{action_id}")).json
    assert waiting["status"] == "ENQUEUED" and waiting["result"] is None and waiting["progress"] == 0
    clock.advance(10)
    assert (await api.get(f"/v1/async-actions/{action_id}")).json["status"] == "DONE"


async def test_import_of_more_than_2000_orders_is_refused_and_stores_nothing(api):
    reply = await api.post("/v1/orders/import", json=[{"amount": 1}] * 2001)
    assert reply.status == 400 and reply.json["key"] == "invalid_payload"
    assert reply.json["details"] == "must have at most 2000 items"  # not a 30 KB echo of the body
    assert await total(api) == 0
    ok = await api.post("/v1/orders/import", json=[{"amount": 1}] * 2000)
    assert ok.status == 200 and await total(api) == 2000


async def test_import_is_all_or_nothing(api):
    reply = await api.post(
        "/v1/orders/import", json=[{"source_id": "fine", "amount": 1}, {"id": "ord_missing", "amount": 2}]
    )
    assert reply.status == 404 and "[1]" in reply.json["details"]
    bad = await api.post("/v1/orders/import", json=[{"amount": 1}, {"status": "LOST"}])
    assert bad.status == 400 and "[1].status" in bad.json["details"]
    assert await total(api) == 0


async def test_unknown_async_action_is_not_found(api):
    reply = await api.get("/v1/async-actions/aa_nothing")
    assert reply.status == 404 and reply.json["key"] == "not_found"


# ---------------------------------------------------------- exports see them


async def test_an_orders_export_contains_exactly_the_stored_matching_orders(poll_api):
    made = [
        await create(poll_api, {"source_id": f"o-{n}", "status": status, "amount": 100 * (n + 1)})
        for n, status in enumerate(["PAID", "CREATED", "PAID", "CANCELED"])
    ]
    body = {
        "parameters": {
            "fields": ["id", "source_id", "status", "amount", "total_amount"],
            "filters": {"status": {"conditions": {"$in": ["PAID"]}}},
        }
    }
    export = (await poll_api.post("/v1/orders/export", json=body)).json
    rows = await download_rows(poll_api, export)
    assert sorted(r["id"] for r in rows) == sorted(o["id"] for o in made if o["status"] == "PAID")
    assert {r["source_id"]: r["amount"] for r in rows} == {"o-0": "100", "o-2": "300"}
    everything = await poll_api.post(
        "/v1/exports", json={"exported_object": "order", "parameters": {"fields": ["id", "customer_id"]}}
    )
    assert len(await download_rows(poll_api, everything.json)) == 4


async def test_an_app_without_orders_gets_the_synthetic_data_set(make_api):
    api = await make_api(lifecycle="poll", rows=7)
    export = (await api.post("/v1/orders/export", json={})).json
    assert len(await download_rows(api, export)) == 7
