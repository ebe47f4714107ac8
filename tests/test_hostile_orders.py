"""Orders stay correct and cheap under hostile use.

- Concurrent creates with one `source_id` store one order (and one customer), as the real API's
  upsert does, in every store: a state file, two workers sharing one SQLite file, two workers on one
  Redis. Each request answers that same order.
- An order request reads only the records it needs (by id or `source_id`), never all of the app's.
- Each app keeps at most `--max-orders` orders and as many customers; one more is refused with
  Voucherify's 402, and nothing of the refused request is stored.
The speed of imports and the event loop's wait meanwhile are benchmarks/bench_orders.py's."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import pytest

from mockserver.app import create_app
from mockserver.options import Settings
from mockserver.store import MemoryStore
from mockserver.vendors.voucherify import Voucherify
from tests.conftest import Api
from tests.control_support import http
from tests.test_workers import Served

APP = {"X-App-Id": "hostile-orders", "X-App-Token": "hostile-token"}
RACERS = 32


def customers(url: str) -> list[dict]:
    """The app's stored customers, as an export of them lists them."""
    export = http(
        "POST", url + "/v1/exports", {"exported_object": "customer", "parameters": {"fields": ["id", "source_id"]}}, APP
    )
    assert export.status == 200, export.text
    done = http("GET", f"{url}/v1/exports/{export.json['id']}", headers=APP).json
    assert done["status"] == "DONE", done
    link = done["result"]["url"]
    return list(csv.DictReader(io.StringIO(http("GET", url + link[link.index("/v1/") :]).text)))


@pytest.mark.slow
@pytest.mark.parametrize("store", ["file", "sqlite-workers", "redis-workers"])
def test_concurrent_creates_with_one_source_id_store_one_order(store, tmp_path, request):
    args = ["--lifecycle", "instant"]
    if store == "file":
        args += ["--state", str(tmp_path / "state.db")]
    elif store == "sqlite-workers":
        args += ["--workers", "2", "--state", str(tmp_path / "state.db")]
    else:
        args += ["--workers", "2", "--state", request.getfixturevalue("redis_url")]
    body = {"source_id": "the-same", "amount": 100, "customer": {"source_id": "one-customer", "name": "Ann"}}
    with Served(*args) as server:
        assert http("GET", server.url + "/v1/orders", headers=APP).status == 200  # binds the app's token
        with ThreadPoolExecutor(RACERS) as pool:
            answers = list(pool.map(lambda _: http("POST", server.url + "/v1/orders", body, APP), range(RACERS)))
        assert {answer.status for answer in answers} == {200}, [a.text for a in answers if a.status != 200][:3]
        listed = http("GET", server.url + "/v1/orders?limit=100", headers=APP).json
        assert listed["total"] == 1, [o["id"] for o in listed["orders"]]
        order = listed["orders"][0]
        assert {answer.json["id"] for answer in answers} == {order["id"]}  # every request upserted that one
        assert len({answer.json["customer_id"] for answer in answers}) == 1
        assert [list(c.values())[1] for c in customers(server.url)] == ["one-customer"]
        assert http("GET", f"{server.url}/v1/orders/the-same", headers=APP).json["id"] == order["id"]


class CountingStore(MemoryStore):
    """A memory store that counts the records `list` hands out."""

    listed = 0

    async def list(self, tenant, kind):
        records = await super().list(tenant, kind)
        self.listed += len(records)
        return records


async def test_an_order_request_reads_only_the_records_it_needs(aiohttp_client, spec):
    store = CountingStore()
    api = Api(await aiohttp_client(create_app(Settings(), store=store, vendors=[Voucherify(spec=spec)])), spec)
    imported = [{"source_id": f"o-{n}", "amount": n, "customer": {"source_id": f"c-{n}"}} for n in range(500)]
    assert (await api.post("/v1/orders/import", json=imported)).status == 200
    store.listed = 0
    created = await api.post("/v1/orders", json={"source_id": "o-7", "amount": 1, "customer": {"source_id": "c-9"}})
    assert created.status == 200 and created.json["amount"] == 1
    assert (await api.get("/v1/orders/o-7")).json["id"] == created.json["id"]
    assert (await api.request("PUT", f"/v1/orders/{created.json['id']}", json={"status": "PAID"})).status == 200
    again = await api.post("/v1/orders/import", json=imported[:10])
    assert again.status == 200
    assert store.listed == 0  # found by id and source_id: not one of the 500 orders and customers listed
    assert (await api.get("/v1/orders?limit=1")).json["total"] == 500


async def test_each_app_keeps_at_most_max_orders_and_one_more_is_a_402_that_stores_nothing(make_api):
    api = await make_api(max_orders=3)
    for n in range(2):
        assert (
            await api.post("/v1/orders", json={"source_id": f"o-{n}", "customer": {"source_id": "c"}})
        ).status == 200
    over = await api.post("/v1/orders/import", json=[{"source_id": "o-2"}, {"source_id": "o-3"}])
    assert over.status == 402, over.body
    assert over.json["key"] == "limit_exceeded" and "--max-orders" in over.json["details"]
    assert over.json["details"].startswith("Order [1]")  # the order that would be one too many
    assert (await api.get("/v1/orders")).json["total"] == 2  # the refused import stored nothing, o-2 neither
    third = await api.post("/v1/orders", json={"source_id": "o-2"})
    assert third.status == 200
    assert (await api.post("/v1/orders", json={"amount": 5})).status == 402
    assert (await api.post("/v1/orders", json={"source_id": "o-0", "amount": 9})).status == 200  # an upsert still is
    # customers are capped alike: "c" is one; an update naming new customers is refused past three
    kept = None
    for n in range(3):
        reply = await api.request("PUT", f"/v1/orders/{third.json['id']}", json={"customer": {"source_id": f"n-{n}"}})
        assert reply.status == (200 if n < 2 else 402), reply.body
        kept = reply.json["customer_id"] if reply.status == 200 else kept
    assert (await api.get(f"/v1/orders/{third.json['id']}")).json["customer_id"] == kept
    assert (await api.as_app("another", "t").post("/v1/orders", json={"amount": 1})).status == 200  # per app


def test_max_orders_is_a_config_key_too(tmp_path):
    (tmp_path / "mockserver.yaml").write_text("max-orders: 1\n")
    with Served(cwd=tmp_path) as server:
        assert http("POST", server.url + "/v1/orders", {"amount": 1}, APP).status == 200
        refused = http("POST", server.url + "/v1/orders", {"amount": 2}, APP)
        assert refused.status == 402 and refused.json["code"] == 402, refused.text
