"""`--fixtures DIR`: the example data set loads, and a bad file stops start-up
with a message naming the file and the property, storing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver.app import Settings, create_app
from mockserver.errors import FixtureError
from mockserver.store import MemoryStore, VendorStore
from mockserver.vendors.voucherify import Voucherify

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Loaded:
    """What start-up stored from the fixtures, read through one vendor's view."""

    def __init__(self, store: MemoryStore) -> None:
        self.owners = VendorStore(store, "voucherify")

    async def list(self, app: str, kind: str) -> list[dict]:
        return await self.owners.tenant(app).list(kind)

    async def get(self, app: str, kind: str, key: str) -> dict | None:
        return await self.owners.tenant(app).get(kind, key)


async def start(store: MemoryStore, directory, spec) -> None:
    app = create_app(Settings(fixtures=str(directory)), store=store, vendors=[Voucherify(spec=spec)])
    app.freeze()
    await app.startup()  # fixtures are stored at start-up


@pytest.fixture
def load(spec):
    async def load(directory) -> Loaded:
        store = MemoryStore()
        await start(store, directory, spec)
        return Loaded(store)

    return load


def write(folder: Path, name: str, content) -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


async def test_the_example_data_set_loads(load):
    store = await load(FIXTURES)
    kinds = ("customers", "campaigns", "vouchers", "orders")
    counts = {kind: len(await store.list("demo-shop", kind)) for kind in kinds}
    assert counts == {"customers": 3, "campaigns": 2, "vouchers": 3, "orders": 6}
    by_source = {o["source_id"]: o for o in await store.list("demo-shop", "orders")}
    assert by_source["web-1001"]["amount"] == 2 * 1250 + 8900
    assert by_source["web-1002"]["total_amount"] == 3 * 1800 - 500
    assert by_source["web-1001"]["created_at"] == "2024-03-01T10:15:00.000Z"
    alice = next(c for c in await store.list("demo-shop", "customers") if c["source_id"] == "alice@example.com")
    assert by_source["web-1001"]["customer_id"] == alice["id"] == by_source["web-1002"]["referrer_id"]


async def test_fixture_orders_are_served_and_the_token_is_pinned(aiohttp_client, spec):
    client = await aiohttp_client(create_app(Settings(fixtures=str(FIXTURES)), vendors=[Voucherify(spec=spec)]))
    good = {"X-App-Id": "demo-shop", "X-App-Token": "demo-token"}
    reply = await client.get("/v1/orders", params={"limit": 100}, headers=good)
    assert reply.status == 200 and (await reply.json())["total"] == 6
    assert (await client.get("/v1/orders/web-1003", headers=good)).status == 200
    wrong = await client.get("/v1/orders", headers={**good, "X-App-Token": "guess"})
    assert wrong.status == 401


async def test_json_files_and_the_file_name_as_app_id(load, tmp_path):
    write(tmp_path, "tiny.json", {"orders": [{"source_id": "t-1", "amount": 5}]})
    store = await load(tmp_path)
    assert [o["source_id"] for o in await store.list("tiny", "orders")] == ["t-1"]


async def test_fixture_orders_may_choose_their_ids(load, tmp_path):
    write(tmp_path, "a.yaml", "orders:\n  - {id: ord_Fixed0001, amount: 1}\n")
    assert (await (await load(tmp_path)).get("a", "orders", "ord_Fixed0001"))["amount"] == 1


@pytest.mark.parametrize(
    "content, expected",
    [
        ("orders:\n  - {status: LOST}\n", ".orders[0].status"),
        ("orders:\n  - {items: [{quantity: many}]}\n", ".orders[0].items[0].quantity"),
        ("customers:\n  - {name: No Source}\n", "source_id"),
        ("vouchers:\n  - {code: A, campaign: Nowhere}\n", ".vouchers[0].campaign"),
        ("vouchers:\n  - {code: A, customer: nobody}\n", ".vouchers[0].customer"),
        ("shops: []\n", "shops"),
        ("orders: [\n", "cannot be read"),
        ("- just\n- a list\n", "is not of type 'object'"),
    ],
)
async def test_a_bad_file_is_named_with_the_property(load, tmp_path, content, expected):
    path = write(tmp_path, "broken.yaml", content)
    with pytest.raises(FixtureError) as raised:
        await load(tmp_path)
    assert str(path) in str(raised.value) and expected in str(raised.value)


async def test_a_bad_file_stores_nothing_from_any_file(spec, tmp_path):
    write(tmp_path, "a-good.yaml", {"orders": [{"amount": 1}]})
    write(tmp_path, "b-bad.yaml", {"orders": [{"amount": 1}, {"id": "ord_x", "status": "SHIPPED"}]})
    store = MemoryStore()
    with pytest.raises(FixtureError, match="status"):
        await start(store, tmp_path, spec)
    assert await Loaded(store).list("a-good", "orders") == [] and await Loaded(store).list("b-bad", "orders") == []


async def test_two_files_for_one_app_are_refused(load, tmp_path):
    write(tmp_path, "one.yaml", {"app_id": "shop"})
    write(tmp_path, "two.json", {"app_id": "shop"})
    with pytest.raises(FixtureError, match="already defined"):
        await load(tmp_path)


async def test_missing_or_empty_folders_are_refused(load, tmp_path):
    with pytest.raises(FixtureError, match="not a directory"):
        await load(tmp_path / "nope")
    with pytest.raises(FixtureError, match="has no"):
        await load(tmp_path)


def test_the_cli_reports_a_bad_folder_and_exits_2(tmp_path, capsys):
    from mockserver import cli

    write(tmp_path, "bad.yaml", "orders:\n  - {amount: -1}\n")
    assert cli.main(["serve", "--port", "0", "--fixtures", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and ".orders[0].amount" in err
