"""`x-mock.idempotency` in full (docs/openapi-vendors.md), on Acme Reports (tests/specs/acme/) with its
overlay's idempotency made Stripe-like: every POST takes a key, a retry replays the first answer as it
was sent, another request under a key is refused, keys expire and a tenant keeps a bounded number."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mockserver import registry
from mockserver.app import Settings, create_app
from mockserver.vendors.openapi.annotations import AnnotationError, read_api
from tests.test_openapi_vendors import ACME, KEY, Acme

ANSWER = """idempotency:
          header: Idempotency-Key
          replayed-header: Replayed
          original-request-header: Original-Request
          operations: post
          replay: answer
          mismatch: refuse
          window: 3600
          max-length: 20
          max-keys: 2
          errors:
            invalid: {key: bad_key, message: "{header} is 1 to {max_length} characters"}
            other-request: {key: key_reused, message: "'{idempotency_key}' was sent with other parameters"}"""


async def _acme(aiohttp_client, tmp_path: Path, clock, idempotency: str) -> Acme:
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    overlay = folder / "mock.overlay.yaml"
    overlay.write_text(overlay.read_text().replace("idempotency-header: Idempotency-Key", idempotency))
    served = registry.folder(str(folder))()
    client = await aiohttp_client(create_app(Settings(lifecycle="poll", rows=5), vendors=[served], clock=clock))
    return Acme(client, served)


async def test_replay_answer_sends_the_first_answer_again_and_refuses_another_request(aiohttp_client, tmp_path, clock):
    acme = await _acme(aiohttp_client, tmp_path, clock, ANSWER)
    key = {"Idempotency-Key": "k-1"}
    sent = {**key, "X-Acme-Key": KEY}
    first = await acme.client.post("/reports/v2/exports", json={"dataset": "orders"}, headers=sent)
    made = await first.json()
    assert first.status == 201 and "Replayed" not in first.headers and "Original-Request" not in first.headers
    polled = await acme.call("GET", f"/exports/{made['id']}", status=200)
    assert polled["state"] != made["state"]  # the export moved on …
    replays = [await acme.client.post("/reports/v2/exports", json={"dataset": "orders"}, headers=sent) for _ in "ab"]
    for again in replays:  # … the replay is the first answer, as it was
        assert again.status == 201 and await again.json() == made and again.headers["Replayed"] == "true"
    original = {again.headers["Original-Request"] for again in replays}
    assert len(original) == 1 and original.pop().startswith("req_")  # the first request's id, each time
    other = await acme.call("POST", "/exports", json={"dataset": "customers"}, headers=key, status=400)
    assert other["error"] == {"code": "key_reused", "message": "'k-1' was sent with other parameters"}
    # every POST takes a key: the cancel with the create's key is another operation
    elsewhere = await acme.client.post(f"/reports/v2/exports/{made['id']}/cancel", headers=sent)  # 400: undocumented
    refused = (await elsewhere.json())["error"]
    assert elsewhere.status == 400 and refused["code"] == "idempotency_error" and "'k-1'" in refused["message"]
    bad = await acme.call(
        "POST", "/exports", json={"dataset": "orders"}, headers={"Idempotency-Key": "k" * 21}, status=400
    )
    assert bad["error"] == {"code": "bad_key", "message": "Idempotency-Key is 1 to 20 characters"}


async def test_replay_answer_keys_expire_and_a_tenant_keeps_max_keys(aiohttp_client, tmp_path, clock):
    acme = await _acme(aiohttp_client, tmp_path, clock, ANSWER)

    async def create(key: str) -> str:
        made = await acme.call(
            "POST", "/exports", json={"dataset": "orders"}, headers={"Idempotency-Key": key}, status=201
        )
        return made["id"]

    first = await create("hour")
    clock.advance(3599)
    assert await create("hour") == first
    clock.advance(1)
    assert await create("hour") != first  # expired: a new export
    made = [await create(f"k{n}") for n in range(3)]
    assert await create("k2") == made[2] and await create("k0") != made[0]  # two kept: the oldest went


async def test_replay_export_with_mismatch_refuse(aiohttp_client, tmp_path, clock):
    """`replay: export` (the export as it is now) refuses another body under a key with `mismatch: refuse`."""
    rules = "idempotency: {header: Idempotency-Key, mismatch: refuse}"
    acme = await _acme(aiohttp_client, tmp_path, clock, rules)
    key = {"Idempotency-Key": "same"}
    made = await acme.call("POST", "/exports", json={"dataset": "orders"}, headers=key, status=201)
    polled = await acme.call("GET", f"/exports/{made['id']}", status=200)
    again = await acme.call("POST", "/exports", json={"dataset": "orders"}, headers=key, status=201)
    assert again["id"] == made["id"] and again["state"] == polled["state"] != made["state"]
    other = await acme.call("POST", "/exports", json={"dataset": "customers"}, headers=key, status=400)
    assert other["error"]["code"] == "idempotency_error" and "'same'" in other["error"]["message"]


@pytest.mark.parametrize(
    "idempotency, says",
    [
        ({"header": "K", "per": "request", "mismatch": "refuse"}, "mismatch: refuse needs per: key"),
        ({"header": "K", "replay": "later"}, "x-mock.idempotency.replay must be export or answer"),
        ({"header": "K", "errors": {"in-use": {"key": "busy"}}}, "errors.in-use needs `key` and `message`"),
        ({"header": "K", "errors": {"gone": {"key": "x", "message": "y"}}}, "unknown key 'gone'"),
        ({"header": "K", "max-keys": 0}, "x-mock.idempotency.max-keys must be a whole number"),
    ],
)
def test_bad_idempotency_annotations_are_refused_by_name(idempotency, says):
    with pytest.raises(AnnotationError, match=says.replace("`", ".")):
        read_api({"x-mock": {"idempotency": idempotency}})
