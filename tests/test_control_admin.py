"""The /__mock/ admin API through HTTP: each endpoint, and every refusal
leaves the state as it was."""

from __future__ import annotations

import os

import pytest

from mockserver.clock import iso
from tests.conftest import START, Reply
from tests.control_support import control_api  # noqa: F401  (fixture)

ORDER = {"exported_object": "order"}


async def admin(api, method, path, **kwargs) -> Reply:
    """Admin calls carry no credentials and answer in their own shape, not the vendor's."""
    resp = await api.client.request(method, "/__mock/" + path, **kwargs)
    body = await resp.json() if resp.content_type == "application/json" else await resp.text()
    return Reply(resp.status, resp.headers, body)


async def test_health(control_api):
    api, _ = await control_api(lifecycle="poll")
    reply = await admin(api, "GET", "health")
    assert reply.status == 200
    assert reply.json == {
        "status": "ok",
        "vendors": ["voucherify"],
        "lifecycle": "poll",
        "stateless": False,
        "store": "MemoryStore",
        "now": iso(START),
        "pid": os.getpid(),
        "workers": 1,
        "trusts_new_credentials": {"voucherify": True},
    }


async def test_reset_everything_or_one_app(control_api):
    api, _ = await control_api()
    other = api.as_app("app-2", "token-2")
    await api.post("/v1/exports", json=ORDER)
    await other.post("/v1/exports", json=ORDER)
    assert (await admin(api, "POST", "reset", json={"app_id": "app-2"})).json == {"reset": "app-2"}
    assert (await api.get("/v1/exports")).json["total"] == 1
    assert (await other.get("/v1/exports")).json["total"] == 0
    assert (await admin(api, "POST", "reset", json={})).json == {"reset": "everything"}
    assert (await api.get("/v1/exports")).json["total"] == 0


async def test_reset_also_forgets_bound_credentials(control_api):
    api, _ = await control_api()
    assert (await api.get("/v1/exports")).status == 200
    assert (await api.as_app(api.app[0], "another-token").get("/v1/exports")).status == 401
    await admin(api, "POST", "reset", json={})
    assert (await api.as_app(api.app[0], "another-token").get("/v1/exports")).status == 200


async def test_clock_advance_drives_the_time_lifecycle(control_api):
    api, _ = await control_api(lifecycle="time", scheduled_seconds=10, running_seconds=20)
    export_id = (await api.post("/v1/exports", json=ORDER)).json["id"]
    statuses = []
    for seconds in (9, 1, 19, 1):
        reply = await admin(api, "POST", "clock/advance", json={"seconds": seconds})
        assert reply.status == 200
        statuses.append((await api.get(f"/v1/exports/{export_id}")).json["status"])
    assert statuses == ["SCHEDULED", "IN_PROGRESS", "IN_PROGRESS", "DONE"]
    assert reply.json["now"] == iso(START + 30)


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": "10"}, {"seconds": True}, {}, {"secs": 1}, [1], "nan"])
async def test_clock_advance_refuses_bad_bodies_and_keeps_the_time(control_api, body):
    api, _ = await control_api()
    kwargs = (
        {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, str) else {"json": body}
    )
    reply = await admin(api, "POST", "clock/advance", **kwargs)
    assert reply.status == 400 and reply.json["error"]
    assert (await admin(api, "GET", "health")).json["now"] == iso(START)


async def test_force_status_moves_forward_only(control_api):
    api, _ = await control_api(lifecycle="time")
    export_id = (await api.post("/v1/exports", json=ORDER)).json["id"]
    reply = await admin(api, "POST", f"exports/{export_id}/status", json={"status": "IN_PROGRESS"})
    assert reply.status == 200 and reply.json == {"id": export_id, "status": "IN_PROGRESS", "phase": "running"}
    back = await admin(api, "POST", f"exports/{export_id}/status", json={"status": "SCHEDULED"})
    assert back.status == 409 and "never backwards" in back.json["error"]
    assert (await admin(api, "POST", f"exports/{export_id}/status", json={"status": "DONE"})).status == 200
    export = (await api.get(f"/v1/exports/{export_id}")).json
    assert export["status"] == "DONE" and export["result"]["url"]
    assert (await admin(api, "POST", f"exports/{export_id}/status", json={"status": "ERROR"})).status == 409


async def test_force_status_can_fail_an_export(control_api):
    api, _ = await control_api(lifecycle="poll")
    export_id = (await api.post("/v1/exports", json=ORDER)).json["id"]
    assert (await admin(api, "POST", f"exports/{export_id}/status", json={"status": "ERROR"})).status == 200
    assert (await api.get(f"/v1/exports/{export_id}")).json["status"] == "ERROR"


@pytest.mark.parametrize(
    "body, status", [({"status": "FINISHED"}, 400), ({}, 400), ({"status": 3}, 400), ({"status": "DONE", "x": 1}, 400)]
)
async def test_force_status_refusals_change_nothing(control_api, body, status):
    api, _ = await control_api(lifecycle="time")
    export_id = (await api.post("/v1/exports", json=ORDER)).json["id"]
    reply = await admin(api, "POST", f"exports/{export_id}/status", json=body)
    assert reply.status == status and reply.json["error"]
    assert (await api.get(f"/v1/exports/{export_id}")).json["status"] == "SCHEDULED"


async def test_force_status_of_an_unknown_export_is_404(control_api):
    api, _ = await control_api()
    reply = await admin(api, "POST", "exports/exp_nope/status", json={"status": "DONE"})
    assert reply.status == 404 and "exp_nope" in reply.json["error"]


async def test_requests_journal_filters_by_path_app_and_method(control_api):
    api, _ = await control_api()
    other = api.as_app("app-2", "token-2")
    created = (await api.post("/v1/exports", json=ORDER, headers={"X-Trace": "t1"})).json
    await api.get(f"/v1/exports/{created['id']}")
    await other.get("/v1/exports")
    await admin(api, "GET", "health")  # admin calls are not journalled
    everything = (await admin(api, "GET", "requests")).json
    assert everything["count"] == 3
    posted = (await admin(api, "GET", "requests", params={"path": "/v1/exports", "method": "post"})).json
    [entry] = posted["requests"]
    assert entry["body"] == ORDER and entry["headers"]["X-Trace"] == "t1" and entry["app_id"] == "app-1"
    assert entry["response"]["status"] == 200 and entry["response"]["body"]["id"] == created["id"]
    by_app = (await admin(api, "GET", "requests", params={"app_id": "app-2"})).json
    assert [e["path"] for e in by_app["requests"]] == ["/v1/exports"]
    prefix = (await admin(api, "GET", "requests", params={"path": "/v1/exports/*"})).json
    assert prefix["count"] == 1
    assert (await admin(api, "GET", "requests", params={"limit": "1"})).json["requests"][0]["app_id"] == "app-2"


async def test_requests_journal_files_a_bearer_request_under_its_app(control_api):
    api, _ = await control_api()
    await api.as_app("app-9", "key-9").get("/v1/exports")  # binds the key to app-9
    reply = await api.client.get("/v1/exports", headers={"Authorization": "Bearer key-9"})
    assert reply.status == 200
    _, entry = (await admin(api, "GET", "requests", params={"app_id": "app-9"})).json["requests"]
    assert entry["app_id"] == "app-9" and "X-App-Id" not in entry["headers"]


async def test_requests_journal_records_errors_and_is_bounded(control_api):
    api, _ = await control_api(journal_size=3)
    for _ in range(4):
        await api.get("/v1/exports/exp_missing")
    entries = (await admin(api, "GET", "requests")).json["requests"]
    assert len(entries) == 3 and {e["response"]["status"] for e in entries} == {404}
    assert (await admin(api, "DELETE", "requests")).status == 204
    assert (await admin(api, "GET", "requests")).json["count"] == 0


@pytest.mark.parametrize("query", [{"colour": "red"}, {"limit": "0"}, {"limit": "x"}])
async def test_requests_journal_refuses_unknown_filters(control_api, query):
    api, _ = await control_api()
    reply = await admin(api, "GET", "requests", params=query)
    assert reply.status == 400 and reply.json["error"]


async def test_openapi_serves_the_spec(control_api, spec):
    api, _ = await control_api()
    reply = await admin(api, "GET", "openapi")
    assert reply.status == 200 and reply.json["paths"].keys() == spec.document["paths"].keys()
    assert (await admin(api, "GET", "openapi", params={"vendor": "nope"})).status == 404


async def test_unknown_admin_paths_and_methods_get_clear_json(control_api):
    api, _ = await control_api()
    missing = await admin(api, "GET", "nothing-here")
    assert missing.status == 404 and "GET /__mock/health" in missing.json["endpoints"]
    wrong = await admin(api, "GET", "reset")
    assert wrong.status == 405 and "not allowed" in wrong.json["error"]


async def test_malformed_admin_json_is_a_clear_400(control_api):
    api, _ = await control_api()
    await api.post("/v1/exports", json=ORDER)
    reply = await admin(api, "POST", "reset", data="{not json", headers={"Content-Type": "application/json"})
    assert reply.status == 400 and "Malformed JSON" in reply.json["error"]
    assert (await api.get("/v1/exports")).json["total"] == 1
