"""An export is a typed record (ExportRecord) in the code and a JSON-like dict in every store: the one
conversion between them (`stored()`, `of()`) keeps every field, a vendor's own keys and the records a
persistent store kept before the record was typed. Each test runs on each backend (the Redis one against a
real redis-server on loopback)."""

from __future__ import annotations

import json

import pytest

from mockserver.clock import Clock
from mockserver.exports import ExportRecord, ExportService, Query
from mockserver.ids import Ids
from mockserver.lifecycle import Lifecycle
from mockserver.redis_store import RedisStore
from mockserver.sqlite_store import SqliteStore
from mockserver.store import MemoryStore, VendorStore
from mockserver.vendors.voucherify.async_actions import AsyncAction

START = 1_700_000_000.0

# an export as the store kept it before records were typed (a TypedDict then): index keys, a query with the
# vendor's words beside the engine's, and a vendor's own key (Chargebee's cancel sets `canceled`)
OLD = {
    "id": "exp_old",
    "app_id": "app",
    "vendor": "voucherify",
    "exported_object": "order",
    "parameters": {"fields": ["id", "amount"], "order": "-created_at"},
    "query": {
        "object": "order",
        "name": None,
        "format": "CSV",
        "file": ["csv", "none", None, None, None],
        "fields": ["id", "amount"],
        "order": "-created_at",
        "filters": {"status": {"conditions": {"$is": "PAID"}}},
        "scope": None,
    },
    "rows": 7,
    "mode": "poll",
    "outcome": "done",
    "phase": "running",
    "phase_at": START + 1,
    "created_at": START,
    "token": "tok_old",
    "canceled": False,
    "phase_rank": 1,
    "due_at": None,
}


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request, tmp_path):
    if request.param == "memory":
        backend = MemoryStore()
    elif request.param == "sqlite":
        backend = SqliteStore(tmp_path / "state.db")
    else:
        backend = RedisStore(request.getfixturevalue("redis_url"))
    await backend.open()
    yield backend
    await backend.close()


def service_on(store, mode: str = "time") -> tuple[ExportService, Clock]:
    clock = Clock(START, frozen=True)
    service = ExportService(
        store=store,
        clock=clock,
        lifecycle=Lifecycle(mode, 1.0, 2.0),
        ids=Ids(0),
        models={},
        seed=0,
        rows=10,
        locale="en_US",
    )
    return service, clock


async def test_a_record_comes_back_from_the_store_as_it_went_in(store):
    service, clock = service_on(store)
    tenant = VendorStore(store, "voucherify").tenant("app")
    query = Query(fields=("id", "amount"), order="-created_at", scope={"campaign_id": "c1"}, extra={"format": "CSV"})
    made = await service.create(tenant, "order", parameters={"fields": ["id", "amount"]}, query=query, rows=5)
    assert isinstance(made, ExportRecord) and made.query == query and made.phase == "scheduled"
    assert await service.get(tenant, made.id) == made  # not due yet: nothing moved
    clock.advance(1.5)
    running = await service.get(tenant, made.id)
    assert (running.phase, running.phase_at) == ("running", START + 1.0)
    assert (await service.list(tenant)) == [running] and (await service.in_process(tenant)) == [running]
    # a vendor's own key, written with a move, is kept beside the record's fields
    forced = await service.force(tenant, made.id, "failed", {"canceled": True})
    read = await service.get(tenant, made.id)
    assert read == forced and read.extra == {"canceled": True} and read.phase == "failed"
    stored = await tenant.get("exports", made.id)
    assert stored["canceled"] is True and stored["query"] == query.stored() and stored["due_at"] is None
    assert json.loads(json.dumps(stored)) == stored  # what every backend keeps as JSON
    assert ExportRecord.of(stored) == read and ExportRecord.of(read.stored()) == read


async def test_an_export_stored_before_records_were_typed_still_reads_and_keeps_its_keys(store):
    service, _ = service_on(store)
    tenant = VendorStore(store, "voucherify").tenant("app")
    await tenant.put("exports", OLD["id"], dict(OLD))
    record = await service.get(tenant, "exp_old", polled=False)
    assert (record.id, record.phase, record.mode, record.rows, record.token) == (
        "exp_old",
        "running",
        "poll",
        7,
        "tok_old",
    )
    assert record.query.fields == ("id", "amount") and record.query.filters == OLD["query"]["filters"]
    assert record.query.extra == {"object": "order", "name": None, "format": "CSV", "file": OLD["query"]["file"]}
    assert record.extra == {"canceled": False}  # the vendor's key; the index keys are derived, not kept
    page, total = await service.listing(tenant, order="status", reverse=False, start=0, stop=10)
    assert page == [record] and total == 1
    # a poll moves it on (poll mode) and writes it back: every key it had is still there
    moved = await service.get(tenant, "exp_old")
    assert moved.phase == "done"
    again = await tenant.get("exports", "exp_old")
    assert again == {**OLD, "phase": "done", "phase_at": START, "phase_rank": 2}


async def test_an_async_action_stored_before_it_was_typed_still_reads(store):
    """Voucherify's async actions moved through the lifecycle as dicts with no mode or outcome."""
    tenant = VendorStore(store, "voucherify").tenant("app")
    old = {
        "id": "aa_1",
        "type": "ORDERS_IMPORT",
        "request_id": "v-1",
        "result": {"done_count": 1},
        "phase": "scheduled",
        "phase_at": START,
        "created_at": START,
    }
    await tenant.put("async_actions", "aa_1", old)
    action = AsyncAction.of(await tenant.get("async_actions", "aa_1"))
    assert (action.mode, action.outcome, action.result) == (None, "done", {"done_count": 1})
    assert Lifecycle("poll").advance(action, START + 5, polled=True) and action.phase == "running"
    await tenant.replace("async_actions", "aa_1", action.stored())
    assert AsyncAction.of(await tenant.get("async_actions", "aa_1")) == action
