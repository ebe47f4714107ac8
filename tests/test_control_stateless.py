"""`--stateless`: Prism-style answers from the spec's examples; nothing is stored."""

from __future__ import annotations

from tests.control_support import control_api  # noqa: F401  (fixture)


async def test_every_operation_answers_from_the_spec_and_nothing_is_stored(control_api):
    api, app = await control_api(stateless=True)
    created = await api.post("/v1/exports", json={"exported_object": "order"})
    assert created.status == 200 and created.json["status"] == "SCHEDULED"
    assert created.json["id"] == "exp_FFfp9o7daWuJqJCKp5xqqli4"
    got = await api.get("/v1/exports/exp_anything")
    assert got.status == 200 and got.json["id"] == created.json["id"]
    assert (await api.delete("/v1/exports/exp_anything")).status == 204
    assert (await api.post("/v1/orders/export", json={})).status == 200
    health = await api.client.get("/__mock/health")
    assert (await health.json())["store"] == "NullStore"


async def test_stateless_still_validates_and_honours_prefer_code(control_api):
    api, _ = await control_api(stateless=True)
    assert (await api.post("/v1/exports", json={"exported_object": "nope"})).status == 400
    assert (await api.get("/v1/exports", auth=False)).status == 401
    assert (await api.get("/v1/exports/exp_x", headers={"Prefer": "code=404"})).status == 404


async def test_stateless_refuses_export_knobs(control_api):
    api, _ = await control_api(stateless=True)
    reply = await api.post("/v1/exports", json={"exported_object": "order"}, headers={"Prefer": "rows=3"})
    assert reply.status == 400 and "--stateless" in reply.json["details"]


async def test_stateless_download_answers_text(control_api):
    api, _ = await control_api(stateless=True)
    reply = await api.get("/v1/exports/exp_x?token=abc", auth=False, headers={"Accept": "text/plain"})
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
