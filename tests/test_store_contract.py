"""One contract for every store backend: what MemoryStore does, SqliteStore
does too (and an in-memory answer never differs from a persisted one)."""

from __future__ import annotations

import pytest

from mockserver.sqlite_store import SqliteStore
from mockserver.store import MemoryStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    if request.param == "memory":
        yield MemoryStore()
    else:
        backend = SqliteStore(tmp_path / "state.db")
        yield backend
        backend.close()


RECORD = {"id": "exp_1", "phase": "scheduled", "phase_at": 1.5, "parameters": {"fields": ["id"]}, "result": None}


def test_put_then_get(store):
    store.put("app", "exports", "exp_1", RECORD)
    assert store.get("app", "exports", "exp_1") == RECORD


def test_missing_is_none(store):
    assert store.get("app", "exports", "nope") is None
    assert store.owner("exports", "nope") is None
    assert store.list("app", "exports") == []


def test_records_belong_to_their_app(store):
    store.put("app", "exports", "exp_1", RECORD)
    assert store.get("other", "exports", "exp_1") is None
    assert store.owner("exports", "exp_1") == "app"
    with pytest.raises(KeyError):
        store.put("other", "exports", "exp_1", RECORD)
    assert store.delete("other", "exports", "exp_1") is False
    assert store.get("app", "exports", "exp_1") == RECORD


def test_kinds_are_separate(store):
    store.put("app", "exports", "k", RECORD)
    store.put("app", "credentials", "k", {"token": "t"})
    assert store.get("app", "exports", "k") == RECORD
    assert store.list("app", "credentials") == [{"token": "t"}]


def test_callers_get_copies(store):
    record = {"id": "exp_1", "nested": {"a": 1}}
    store.put("app", "exports", "exp_1", record)
    record["nested"]["a"] = 2
    got = store.get("app", "exports", "exp_1")
    got["nested"]["a"] = 3
    assert store.get("app", "exports", "exp_1") == {"id": "exp_1", "nested": {"a": 1}}


def test_update_replaces_and_keeps_list_order(store):
    for key in ("a", "b", "c"):
        store.put("app", "exports", key, {"id": key, "v": 0})
    store.put("app", "exports", "a", {"id": "a", "v": 1})
    assert store.list("app", "exports") == [{"id": "a", "v": 1}, {"id": "b", "v": 0}, {"id": "c", "v": 0}]


def test_delete(store):
    store.put("app", "exports", "exp_1", RECORD)
    assert store.delete("app", "exports", "exp_1") is True
    assert store.delete("app", "exports", "exp_1") is False
    assert store.get("app", "exports", "exp_1") is None
    assert store.owner("exports", "exp_1") is None
    store.put("other", "exports", "exp_1", RECORD)  # a freed key may be taken by another app


def test_reset_one_app_or_everything(store):
    store.put("a", "exports", "1", RECORD)
    store.put("b", "exports", "2", RECORD)
    store.reset("a")
    assert store.list("a", "exports") == [] and store.owner("exports", "1") is None
    assert store.get("b", "exports", "2") == RECORD
    store.reset()
    assert store.list("b", "exports") == [] and store.owner("exports", "2") is None


def test_sqlite_store_survives_reopening(tmp_path):
    first = SqliteStore(tmp_path / "state.db")
    first.put("app", "exports", "exp_1", RECORD)
    first.close()
    again = SqliteStore(tmp_path / "state.db")
    assert again.get("app", "exports", "exp_1") == RECORD
    assert again.owner("exports", "exp_1") == "app"
    again.close()
