"""Tenants are (vendor, app): a Chargebee API key and a Voucherify app id that
happen to be the same string share nothing, in either direction, through HTTP
The store hands each request a view of its own tenant, so
no handler can reach another vendor's records."""

from __future__ import annotations

import pytest

from mockserver.app import Settings, create_app
from tests.chargebee_support import basic

K = "shared_key_K"
VOUCHERIFY = {"X-App-Id": K, "X-App-Token": "any-token"}
CHARGEBEE = {"Authorization": basic(K)}


@pytest.fixture
async def both(aiohttp_client, spec):
    from mockserver.vendors.chargebee import Chargebee
    from mockserver.vendors.voucherify import Voucherify

    app = create_app(Settings(lifecycle="instant"), vendors=[Voucherify(spec=spec), Chargebee()])
    return await aiohttp_client(app)


async def done_chargebee_export(client) -> dict:
    reply = await client.post("/api/v2/exports/orders", headers=CHARGEBEE)
    assert reply.status == 200, await reply.text()
    export = (await reply.json())["export"]
    done = await client.get(f"/api/v2/exports/{export['id']}", headers=CHARGEBEE)
    return (await done.json())["export"]


async def done_voucherify_export(client) -> dict:
    reply = await client.post("/v1/exports", json={"exported_object": "voucher"}, headers=VOUCHERIFY)
    assert reply.status == 200, await reply.text()
    export = await reply.json()
    return await (await client.get(f"/v1/exports/{export['id']}", headers=VOUCHERIFY)).json()


async def test_a_chargebee_export_is_invisible_to_the_voucherify_app_of_the_same_name(both):
    export = await done_chargebee_export(both)
    assert export["status"] == "completed"
    assert (await both.get(f"/v1/exports/{export['id']}", headers=VOUCHERIFY)).status == 404
    listed = await (await both.get("/v1/exports", headers=VOUCHERIFY)).json()
    assert listed["total"] == 0 and listed["exports"] == []
    token = export["download"]["download_url"].split("token=")[1]
    download = await both.get(f"/v1/exports/{export['id']}", params={"token": token})
    assert download.status == 401  # the Voucherify download path does not open a Chargebee export
    assert (await both.delete(f"/v1/exports/{export['id']}", headers=VOUCHERIFY)).status == 404
    again = await both.get(f"/api/v2/exports/{export['id']}", headers=CHARGEBEE)
    assert again.status == 200 and (await again.json())["export"]["id"] == export["id"]  # not deleted


async def test_a_voucherify_export_is_invisible_to_the_chargebee_key_of_the_same_name(both):
    export = await done_voucherify_export(both)
    assert export["status"] == "DONE"
    assert (await both.get(f"/api/v2/exports/{export['id']}", headers=CHARGEBEE)).status == 404
    token = export["result"]["url"].split("token=")[1]
    download = await both.get(f"/api/v2/exports/{export['id']}/download", params={"token": token})
    assert download.status == 403  # Chargebee's refusal of a URL that opens nothing
    assert (await both.get(f"/v1/exports/{export['id']}", headers=VOUCHERIFY)).status == 200


async def test_admin_still_reaches_every_vendors_exports(both):
    chargebee, voucherify = await done_chargebee_export(both), await done_voucherify_export(both)
    assert chargebee["status"] == "completed" and voucherify["status"] == "DONE"
    reset = await both.post("/__mock/reset", json={"app_id": K})
    assert reset.status == 200
    assert (await both.get(f"/api/v2/exports/{chargebee['id']}", headers=CHARGEBEE)).status == 404
    assert (await both.get(f"/v1/exports/{voucherify['id']}", headers=VOUCHERIFY)).status == 404
