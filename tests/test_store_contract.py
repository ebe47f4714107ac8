"""One contract for every store backend: what MemoryStore does, SqliteStore
and RedisStore do too (and an in-memory answer never differs from a persisted
one). The Redis backend runs against a real redis-server on loopback."""

from __future__ import annotations

import multiprocessing

import pytest

from mockserver.redis_store import RedisStore
from mockserver.sqlite_store import SqliteStore
from mockserver.store import MemoryStore

BACKENDS = ["memory", "sqlite", "redis"]


def open_store(kind: str, tmp_path, request):
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(tmp_path / "state.db")
    return RedisStore(request.getfixturevalue("redis_url"))


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    backend = open_store(request.param, tmp_path, request)
    yield backend
    if hasattr(backend, "close"):
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


def test_add_takes_only_a_free_key(store):
    assert store.add("app", "exports", "exp_1", RECORD) is True
    assert store.add("app", "exports", "exp_1", {"id": "other"}) is False
    assert store.add("other", "exports", "exp_1", {"id": "other"}) is False
    assert store.get("app", "exports", "exp_1") == RECORD and store.owner("exports", "exp_1") == "app"
    assert store.get("other", "exports", "exp_1") is None


def test_replace_updates_only_an_existing_record_of_the_app(store):
    assert store.replace("app", "exports", "exp_1", RECORD) is False
    assert store.get("app", "exports", "exp_1") is None and store.owner("exports", "exp_1") is None
    store.put("app", "exports", "exp_1", RECORD)
    store.put("app", "exports", "exp_2", RECORD)
    assert store.replace("other", "exports", "exp_1", {"id": "x"}) is False
    assert store.replace("app", "exports", "exp_1", {"id": "exp_1", "v": 2}) is True
    assert store.list("app", "exports") == [{"id": "exp_1", "v": 2}, RECORD]  # the place in list order is kept
    store.delete("app", "exports", "exp_1")
    assert store.replace("app", "exports", "exp_1", RECORD) is False  # a deleted record is not brought back
    assert store.list("app", "exports") == [RECORD]


def test_count(store):
    assert store.count("app", "exports") == 0
    for key in ("a", "b", "c"):
        store.put("app", "exports", key, {"id": key})
    store.put("other", "exports", "d", {"id": "d"})
    store.delete("app", "exports", "b")
    assert store.count("app", "exports") == 2 and store.count("other", "exports") == 1
    assert store.count("app", "credentials") == 0


def test_trim_deletes_the_oldest_first(store):
    for key in ("a", "b", "c", "d"):
        store.put("app", "exports", key, {"id": key})
    store.put("other", "exports", "e", {"id": "e"})
    store.put("app", "exports", "a", {"id": "a", "v": 2})  # an update does not make a record newer
    assert store.trim("app", "exports", 10) == 0
    assert store.trim("app", "exports", 2) == 2
    assert store.list("app", "exports") == [{"id": "c"}, {"id": "d"}]
    assert store.owner("exports", "a") is None and store.get("app", "exports", "b") is None
    store.put("app", "exports", "f", {"id": "f"})
    assert store.trim("app", "exports", 1) == 2 and store.list("app", "exports") == [{"id": "f"}]
    assert store.list("other", "exports") == [{"id": "e"}] and store.count("app", "exports") == 1
    store.put("x", "exports", "a", {"id": "a"})  # trimmed keys are free again


def test_counters_add_up_and_survive_reset(store):
    assert store.counter("clock-offset") == 0
    assert store.incr("clock-offset", 1.5) == 1.5
    assert store.incr("clock-offset", 90) == 91.5
    assert store.incr("streams") == 1 and store.incr("streams") == 2
    store.put("app", "exports", "exp_1", RECORD)
    store.reset()
    assert store.counter("clock-offset") == 91.5 and store.counter("streams") == 2


def test_unusual_keys_and_app_ids_round_trip(store):
    # ids come from paths and headers: colons, slashes, unicode, NUL, very long ones
    odd = ["a:b", "exports:x", "../../etc/passwd", "zażółć", "nul\x00byte", "k" * 10_000, " ", "%00"]
    for index, key in enumerate(odd):
        store.put(odd[-1 - index], "exports", key, {"id": key, "i": index})
    for index, key in enumerate(odd):
        assert store.get(odd[-1 - index], "exports", key) == {"id": key, "i": index}
        assert store.owner("exports", key) == odd[-1 - index]
    store.put("a:b", "credentials", "exports", {"token": "t"})  # app "a:b" does not clash with others
    assert store.list("a", "b:credentials") == [] and store.list("a:b", "credentials") == [{"token": "t"}]
    store.reset("a:b")
    assert store.get("a:b", "exports", odd[-1]) is None and store.owner("exports", odd[-1]) is None
    assert store.get(odd[-1], "exports", odd[0]) == {"id": odd[0], "i": 0}


def _race(args) -> list[bool]:
    kind, where, worker = args
    backend = SqliteStore(where) if kind == "sqlite" else RedisStore(where)
    try:
        return [backend.add(f"app-{worker}", "exports", f"exp_{n}", {"by": worker}) for n in range(200)]
    finally:
        backend.close()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_processes_racing_for_the_same_keys_never_both_win(kind, tmp_path, request):
    """Four processes add the same 200 keys at once: each key is won exactly once, by whoever stored it."""
    where = str(tmp_path / "race.db") if kind == "sqlite" else request.getfixturevalue("redis_url")
    if kind == "sqlite":
        SqliteStore(where).close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        won = pool.map(_race, [(kind, where, worker) for worker in range(4)])
    backend = open_store(kind, tmp_path, request) if kind == "redis" else SqliteStore(where)
    try:
        for n in range(200):
            winners = [worker for worker in range(4) if won[worker][n]]
            assert len(winners) == 1, (n, winners)
            assert backend.owner("exports", f"exp_{n}") == f"app-{winners[0]}"
            assert backend.get(f"app-{winners[0]}", "exports", f"exp_{n}") == {"by": winners[0]}
    finally:
        backend.close()


def test_redis_store_keeps_to_its_prefix(redis_url):
    mine, theirs = RedisStore(redis_url), RedisStore(redis_url + "?prefix=other:")
    try:
        mine.put("app", "exports", "exp_1", RECORD)
        theirs.put("app", "exports", "exp_1", {"id": "theirs"})
        mine.reset()
        assert mine.get("app", "exports", "exp_1") is None
        assert theirs.get("app", "exports", "exp_1") == {"id": "theirs"}
    finally:
        mine.close()
        theirs.close()


def test_an_unreachable_redis_is_a_clear_error():
    from tests.redis_support import free_port

    with pytest.raises(ValueError, match="cannot reach the Redis store at redis://u:\\*\\*\\*@127.0.0.1"):
        RedisStore(f"redis://u:secret@127.0.0.1:{free_port()}/0")
