"""One contract for every store backend: what MemoryStore does, SqliteStore
and RedisStore do too (and an in-memory answer never differs from a persisted
one). The Redis backend runs against a real redis-server on loopback.

Records belong to a tenant, a (vendor, app) pair: the same app id under two
vendors names two tenants that share nothing."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3

import pytest

from mockserver.redis_store import RedisStore
from mockserver.sqlite_store import SqliteStore
from mockserver.store import INDEXES, MemoryStore, Tenant, VendorStore, sort_key

BACKENDS = ["memory", "sqlite", "redis"]
APP, OTHER = Tenant("voucherify", "app"), Tenant("voucherify", "other")
ELSEWHERE = Tenant("chargebee", "app")  # the same app id, another vendor


def open_store(kind: str, tmp_path, request):
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(tmp_path / "state.db")
    return RedisStore(request.getfixturevalue("redis_url"))


@pytest.fixture(params=BACKENDS)
async def store(request, tmp_path):
    backend = open_store(request.param, tmp_path, request)
    await backend.open()
    yield backend
    await backend.close()


RECORD = {"id": "exp_1", "phase": "scheduled", "phase_at": 1.5, "parameters": {"fields": ["id"]}, "result": None}


async def test_put_then_get(store):
    await store.put(APP, "exports", "exp_1", RECORD)
    assert await store.get(APP, "exports", "exp_1") == RECORD


async def test_missing_is_none(store):
    assert await store.get(APP, "exports", "nope") is None
    assert await store.owner("voucherify", "exports", "nope") is None
    assert await store.list(APP, "exports") == []


async def test_records_belong_to_their_app(store):
    await store.put(APP, "exports", "exp_1", RECORD)
    assert await store.get(OTHER, "exports", "exp_1") is None
    assert await store.owner("voucherify", "exports", "exp_1") == "app"
    with pytest.raises(KeyError):
        await store.put(OTHER, "exports", "exp_1", RECORD)
    assert await store.delete(OTHER, "exports", "exp_1") is False
    assert await store.get(APP, "exports", "exp_1") == RECORD


async def test_the_same_app_id_under_another_vendor_is_another_tenant(store):
    await store.put(APP, "exports", "exp_1", RECORD)
    assert await store.get(ELSEWHERE, "exports", "exp_1") is None
    assert await store.list(ELSEWHERE, "exports") == [] and await store.count(ELSEWHERE, "exports") == 0
    assert await store.owner("chargebee", "exports", "exp_1") is None
    assert await store.delete(ELSEWHERE, "exports", "exp_1") is False
    assert await store.replace(ELSEWHERE, "exports", "exp_1", {"id": "x"}) is False
    assert await store.trim(ELSEWHERE, "exports", 0) == 0
    # keys are unique within a vendor only: the other vendor may use the same key for its own record
    assert await store.add(ELSEWHERE, "exports", "exp_1", {"id": "theirs"}) is True
    assert await store.get(APP, "exports", "exp_1") == RECORD
    assert await store.get(ELSEWHERE, "exports", "exp_1") == {"id": "theirs"}
    await store.reset("app", vendor="chargebee")
    assert await store.get(APP, "exports", "exp_1") == RECORD
    assert await store.get(ELSEWHERE, "exports", "exp_1") is None


async def test_views_cannot_leave_their_vendor(store):
    voucherify, chargebee = VendorStore(store, "voucherify"), VendorStore(store, "chargebee")
    await voucherify.tenant("K").put("exports", "exp_1", RECORD)
    assert await chargebee.owner("exports", "exp_1") is None
    assert await chargebee.tenant("K").get("exports", "exp_1") is None
    assert await voucherify.owner("exports", "exp_1") == "K"
    assert voucherify.tenant("K").owners.vendor == "voucherify"


async def test_kinds_are_separate(store):
    await store.put(APP, "exports", "k", RECORD)
    await store.put(APP, "credentials", "k", {"token": "t"})
    assert await store.get(APP, "exports", "k") == RECORD
    assert await store.list(APP, "credentials") == [{"token": "t"}]


async def test_callers_get_copies(store):
    record = {"id": "exp_1", "nested": {"a": 1}}
    await store.put(APP, "exports", "exp_1", record)
    record["nested"]["a"] = 2
    got = await store.get(APP, "exports", "exp_1")
    got["nested"]["a"] = 3
    assert await store.get(APP, "exports", "exp_1") == {"id": "exp_1", "nested": {"a": 1}}


async def test_update_replaces_and_keeps_list_order(store):
    for key in ("a", "b", "c"):
        await store.put(APP, "exports", key, {"id": key, "v": 0})
    await store.put(APP, "exports", "a", {"id": "a", "v": 1})
    assert await store.list(APP, "exports") == [{"id": "a", "v": 1}, {"id": "b", "v": 0}, {"id": "c", "v": 0}]


async def test_delete(store):
    await store.put(APP, "exports", "exp_1", RECORD)
    assert await store.delete(APP, "exports", "exp_1") is True
    assert await store.delete(APP, "exports", "exp_1") is False
    assert await store.get(APP, "exports", "exp_1") is None
    assert await store.owner("voucherify", "exports", "exp_1") is None
    await store.put(OTHER, "exports", "exp_1", RECORD)  # a freed key may be taken by another app


async def test_reset_one_app_or_everything(store):
    a, b = Tenant("voucherify", "a"), Tenant("voucherify", "b")
    await store.put(a, "exports", "1", RECORD)
    await store.put(Tenant("chargebee", "a"), "exports", "1", RECORD)
    await store.put(b, "exports", "2", RECORD)
    await store.reset("a")  # that app id under every vendor
    assert await store.list(a, "exports") == [] and await store.owner("voucherify", "exports", "1") is None
    assert await store.list(Tenant("chargebee", "a"), "exports") == []
    assert await store.get(b, "exports", "2") == RECORD
    await store.reset()
    assert await store.list(b, "exports") == [] and await store.owner("voucherify", "exports", "2") is None


async def test_apps_are_the_vendors_tenants_with_records_of_a_kind(store):
    """The dashboard lists exports across apps through this."""
    await store.put(Tenant("voucherify", "b"), "exports", "1", RECORD)
    await store.put(Tenant("voucherify", "a"), "exports", "2", RECORD)
    await store.put(Tenant("voucherify", "a"), "exports", "3", RECORD)
    await store.put(Tenant("voucherify", "c"), "orders", "1", RECORD)
    await store.put(ELSEWHERE, "exports", "1", RECORD)
    assert await store.apps("voucherify", "exports") == ["a", "b"]
    assert await VendorStore(store, "chargebee").apps("exports") == ["app"]
    await store.delete(Tenant("voucherify", "b"), "exports", "1")
    await store.reset("a")
    assert await store.apps("voucherify", "exports") == []


async def test_sqlite_store_survives_reopening(tmp_path):
    first = SqliteStore(tmp_path / "state.db")
    await first.put(APP, "exports", "exp_1", RECORD)
    await first.close()
    again = SqliteStore(tmp_path / "state.db")
    assert await again.get(APP, "exports", "exp_1") == RECORD
    assert await again.owner("voucherify", "exports", "exp_1") == "app"
    await again.close()


async def test_add_takes_only_a_free_key(store):
    assert await store.add(APP, "exports", "exp_1", RECORD) is True
    assert await store.add(APP, "exports", "exp_1", {"id": "other"}) is False
    assert await store.add(OTHER, "exports", "exp_1", {"id": "other"}) is False
    assert await store.get(APP, "exports", "exp_1") == RECORD
    assert await store.owner("voucherify", "exports", "exp_1") == "app"
    assert await store.get(OTHER, "exports", "exp_1") is None


async def test_replace_updates_only_an_existing_record_of_the_app(store):
    assert await store.replace(APP, "exports", "exp_1", RECORD) is False
    assert await store.get(APP, "exports", "exp_1") is None
    assert await store.owner("voucherify", "exports", "exp_1") is None
    await store.put(APP, "exports", "exp_1", RECORD)
    await store.put(APP, "exports", "exp_2", RECORD)
    assert await store.replace(OTHER, "exports", "exp_1", {"id": "x"}) is False
    assert await store.replace(APP, "exports", "exp_1", {"id": "exp_1", "v": 2}) is True
    assert await store.list(APP, "exports") == [{"id": "exp_1", "v": 2}, RECORD]  # the place in list order is kept
    await store.delete(APP, "exports", "exp_1")
    assert await store.replace(APP, "exports", "exp_1", RECORD) is False  # a deleted record is not brought back
    assert await store.list(APP, "exports") == [RECORD]
    assert await store.replace_many(APP, "exports", {"exp_1": RECORD, "exp_2": {"id": "exp_2", "v": 3}}) == 1
    assert await store.replace_many(OTHER, "exports", {"exp_2": {"id": "x"}}) == 0
    assert await store.list(APP, "exports") == [{"id": "exp_2", "v": 3}]


async def test_count(store):
    assert await store.count(APP, "exports") == 0
    for key in ("a", "b", "c"):
        await store.put(APP, "exports", key, {"id": key})
    await store.put(OTHER, "exports", "d", {"id": "d"})
    await store.delete(APP, "exports", "b")
    assert await store.count(APP, "exports") == 2 and await store.count(OTHER, "exports") == 1
    assert await store.count(APP, "credentials") == 0


async def test_trim_deletes_the_oldest_first(store):
    for key in ("a", "b", "c", "d"):
        await store.put(APP, "exports", key, {"id": key})
    await store.put(OTHER, "exports", "e", {"id": "e"})
    await store.put(APP, "exports", "a", {"id": "a", "v": 2})  # an update does not make a record newer
    assert await store.trim(APP, "exports", 10) == 0
    assert await store.trim(APP, "exports", 2) == 2
    assert await store.list(APP, "exports") == [{"id": "c"}, {"id": "d"}]
    assert await store.owner("voucherify", "exports", "a") is None and await store.get(APP, "exports", "b") is None
    await store.put(APP, "exports", "f", {"id": "f"})
    assert await store.trim(APP, "exports", 1) == 2 and await store.list(APP, "exports") == [{"id": "f"}]
    assert await store.list(OTHER, "exports") == [{"id": "e"}] and await store.count(APP, "exports") == 1
    await store.put(Tenant("voucherify", "x"), "exports", "a", {"id": "a"})  # trimmed keys are free again


async def test_add_keeping_n_deletes_the_oldest_once_it_has_added(store):
    for key in ("a", "b", "c"):
        assert await store.add(APP, "exports", key, {"id": key}, keep=2) is True
    await store.put(OTHER, "exports", "e", {"id": "e"})
    assert await store.list(APP, "exports") == [{"id": "b"}, {"id": "c"}]
    assert await store.add(APP, "exports", "b", {"id": "x"}, keep=1) is False  # a taken key: nothing stored or trimmed
    assert await store.list(APP, "exports") == [{"id": "b"}, {"id": "c"}]
    assert await store.add(APP, "exports", "d", {"id": "d"}, keep=1) is True
    assert await store.list(APP, "exports") == [{"id": "d"}] and await store.owner("voucherify", "exports", "b") is None
    assert await store.list(OTHER, "exports") == [{"id": "e"}]  # another app's records are its own


async def test_writes_at_once_each_get_their_own_outcome_and_keep_the_newest_n(store):
    """Creates, a taken key, another app's key and a unique clash, all at once (SQLite commits them as one
    group): each call answers as it would alone, and the app keeps exactly its newest N."""
    await store.put(OTHER, "exports", "old", {"id": "old"})  # what the other app's create trims, not "theirs":
    await store.put(OTHER, "exports", "theirs", {"id": "theirs"})  # on Redis it may run before the put below
    await store.put(APP, "exports", "taken", {"id": "taken"})
    await store.put(APP, "orders", "ord_1", {"id": "ord_1", "source_id": "s-1"})
    creates = [store.add(APP, "exports", f"e{n:02}", {"id": f"e{n:02}"}, keep=5) for n in range(12)]
    outcomes = await asyncio.gather(
        store.add(APP, "exports", "taken", {"id": "again"}, keep=5),  # a taken key: nothing stored
        *creates[:6],
        store.put(APP, "exports", "theirs", {"id": "mine"}),  # another app's key
        store.put(APP, "orders", "ord_2", {"id": "ord_2", "source_id": "s-1"}),  # s-1 is ord_1's
        store.add(OTHER, "exports", "o1", {"id": "o1"}, keep=2),
        *creates[6:],
        return_exceptions=True,
    )
    assert outcomes[0] is False and outcomes[1:7] == [True] * 6 and isinstance(outcomes[7], KeyError)
    assert isinstance(outcomes[8], KeyError) and outcomes[9:] == [True] * 7, outcomes
    kept = [r["id"] for r in await store.list(APP, "exports")]
    assert len(kept) == 5 and await store.count(APP, "exports") == 5 and set(kept) <= {f"e{n:02}" for n in range(12)}
    if not isinstance(store, RedisStore):  # Redis: requests on several connections may be stored in another order
        assert kept == ["e07", "e08", "e09", "e10", "e11"] and await store.get(APP, "exports", "e06") is None
    assert await store.list(OTHER, "exports") == [{"id": "theirs"}, {"id": "o1"}]
    assert await store.list(APP, "orders") == [{"id": "ord_1", "source_id": "s-1"}]


async def test_counters_add_up_and_survive_reset(store):
    assert await store.counter("clock-offset") == 0
    assert await store.incr("clock-offset", 1.5) == 1.5
    assert await store.incr("clock-offset", 90) == 91.5
    assert await store.incr("streams") == 1 and await store.incr("streams") == 2
    await store.put(APP, "exports", "exp_1", RECORD)
    await store.reset()
    assert await store.counter("clock-offset") == 91.5 and await store.counter("streams") == 2


async def test_unusual_values_round_trip(store):
    """Whatever a body may carry comes back as it was: an int over 64 bits, a lone surrogate (both of which
    SQLite's fast serialiser refuses), text beyond ASCII, floats."""
    record = {"id": "x", "big": 10**30, "small": -(2**70), "lone": "\ud800", "text": "zażółć ✓", "f": [0.1, 1e16, 5.0]}
    await store.put(APP, "exports", "x", record)
    await store.add(APP, "exports", "y", {**record, "id": "y"}, keep=5)
    assert await store.get(APP, "exports", "x") == record
    assert await store.get(APP, "exports", "y") == {**record, "id": "y"}
    assert type((await store.get(APP, "exports", "y"))["big"]) is int


async def test_unusual_keys_and_app_ids_round_trip(store):
    # ids come from paths and headers: colons, slashes, unicode, NUL, very long ones
    odd = ["a:b", "exports:x", "../../etc/passwd", "zażółć", "nul\x00byte", "k" * 10_000, " ", "%00"]
    for index, key in enumerate(odd):
        await store.put(Tenant("v", odd[-1 - index]), "exports", key, {"id": key, "i": index})
    for index, key in enumerate(odd):
        assert await store.get(Tenant("v", odd[-1 - index]), "exports", key) == {"id": key, "i": index}
        assert await store.owner("v", "exports", key) == odd[-1 - index]
    await store.put(Tenant("v", "a:b"), "credentials", "exports", {"token": "t"})  # "a:b" does not clash with others
    assert await store.list(Tenant("v", "a"), "b:credentials") == []
    assert await store.list(Tenant("v:a", "b"), "credentials") == []  # nor does a vendor with a colon
    assert await store.list(Tenant("v", "a:b"), "credentials") == [{"token": "t"}]
    await store.reset("a:b")
    assert await store.get(Tenant("v", "a:b"), "exports", odd[-1]) is None
    assert await store.owner("v", "exports", odd[-1]) is None
    assert await store.get(Tenant("v", odd[-1]), "exports", odd[0]) == {"id": odd[0], "i": 0}


def _race(args) -> list[bool]:
    kind, where, worker = args

    async def run() -> list[bool]:
        backend = SqliteStore(where) if kind == "sqlite" else RedisStore(where)
        try:
            return [
                await backend.add(Tenant("v", f"app-{worker}"), "exports", f"exp_{n}", {"by": worker})
                for n in range(200)
            ]
        finally:
            await backend.close()

    return asyncio.run(run())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_processes_racing_for_the_same_keys_never_both_win(kind, tmp_path, request):
    """Four processes add the same 200 keys at once: each key is won exactly once, by whoever stored it."""
    where = str(tmp_path / "race.db") if kind == "sqlite" else request.getfixturevalue("redis_url")
    if kind == "sqlite":
        await SqliteStore(where).close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        won = await asyncio.get_running_loop().run_in_executor(
            None, pool.map, _race, [(kind, where, worker) for worker in range(4)]
        )
    backend = open_store(kind, tmp_path, request) if kind == "redis" else SqliteStore(where)
    try:
        for n in range(200):
            winners = [worker for worker in range(4) if won[worker][n]]
            assert len(winners) == 1, (n, winners)
            assert await backend.owner("v", "exports", f"exp_{n}") == f"app-{winners[0]}"
            assert await backend.get(Tenant("v", f"app-{winners[0]}"), "exports", f"exp_{n}") == {"by": winners[0]}
    finally:
        await backend.close()


async def test_redis_store_keeps_to_its_prefix(redis_url):
    mine, theirs = RedisStore(redis_url), RedisStore(redis_url + "?prefix=other:")
    try:
        await mine.put(APP, "exports", "exp_1", RECORD)
        await theirs.put(APP, "exports", "exp_1", {"id": "theirs"})
        await mine.reset()
        assert await mine.get(APP, "exports", "exp_1") is None
        assert await theirs.get(APP, "exports", "exp_1") == {"id": "theirs"}
    finally:
        await mine.close()
        await theirs.close()


async def test_an_unreachable_redis_is_a_clear_error():
    from tests.redis_support import free_port

    with pytest.raises(ValueError, match="cannot reach the Redis store at redis://u:\\*\\*\\*@127.0.0.1"):
        await RedisStore(f"redis://u:secret@127.0.0.1:{free_port()}/0").open()


async def test_sqlite_calls_leave_the_event_loop_free(tmp_path):
    """A SQLite statement that waits (here: for another connection's lock) does not stop the loop."""
    import sqlite3
    import time

    store = SqliteStore(tmp_path / "state.db", busy_seconds=5)
    blocker = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        write = asyncio.create_task(store.put(APP, "exports", "exp_1", RECORD))
        ticks, started = 0, time.monotonic()
        while ticks < 5:  # the loop keeps turning while the write waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not write.done() and time.monotonic() - started < 4
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await write
    assert await store.get(APP, "exports", "exp_1") == RECORD
    await store.close()


async def test_sqlite_writes_that_arrive_together_commit_together(tmp_path):
    """Group commit: 20 creates at once are one transaction (one lock, one commit, one fsync), trimmed once,
    and no reader ever sees more than the newest N; a write that fails fails alone."""
    store = SqliteStore(tmp_path / "state.db")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    for n in range(3):
        await store.add(APP, "exports", f"old{n}", {"id": f"old{n}"}, keep=10)
    assert statements.count("COMMIT") == 3  # one at a time: a transaction each
    del statements[:]
    adds = [store.add(APP, "exports", f"e{n:02}", {"id": f"e{n:02}"}, keep=10) for n in range(20)]
    assert await asyncio.gather(*adds) == [True] * 20
    assert statements.count("COMMIT") == 1
    assert sum("OFFSET" in statement for statement in statements) == 1  # the trim, once
    assert [r["id"] for r in await store.list(APP, "exports")] == [f"e{n:02}" for n in range(10, 20)]

    def refuse(key: str) -> int:
        if key == "bad":
            raise RuntimeError("refused")
        return 0

    # a statement failing for another reason than a clash (here a trigger calling a failing function)
    await asyncio.get_running_loop().run_in_executor(store._thread, store._db.create_function, "refuse", 1, refuse)
    await asyncio.get_running_loop().run_in_executor(
        store._thread,
        store._db.execute,
        "CREATE TEMP TRIGGER refusing BEFORE INSERT ON tenant_records BEGIN SELECT refuse(NEW.key); END",
    )
    outcomes = await asyncio.gather(
        store.add(APP, "exports", "ok1", {"id": "ok1"}, keep=10),
        store.add(APP, "exports", "bad", {"id": "bad"}, keep=10),
        store.put(APP, "exports", "ok2", {"id": "ok2"}),
        return_exceptions=True,
    )
    assert outcomes[0] is True and isinstance(outcomes[1], sqlite3.OperationalError) and outcomes[2] is None
    assert [r["id"] for r in await store.list(APP, "exports")][-2:] == ["ok1", "ok2"]
    assert await store.get(APP, "exports", "bad") is None and await store.count(APP, "exports") == 11
    await store.close()


async def test_sqlite_writers_take_turns_so_a_busy_one_cannot_starve_another(tmp_path):
    """Two stores on one file, as two workers: while `busy` holds the write lock, `waiting` asks to write, and
    then `busy` asks again; `waiting` writes first. SQLite's own wait polls, sleeping up to 100 ms between
    tries, and lost to a writer that retook the lock at once: a worker's creates stalled for a second or more
    while the other's committed group after group (`benchmarks/bench_sqlite_writers.py`)."""
    import threading

    from mockserver import sqlite_store

    busy, waiting = SqliteStore(tmp_path / "state.db"), SqliteStore(tmp_path / "state.db")
    loop = asyncio.get_running_loop()
    inside, release, queued, asking = (threading.Event() for _ in range(4))

    def watch(turns: sqlite_store._Turns, event: threading.Event, *, before: bool) -> None:
        """Set `event` when the turns' owner asks for the queue (before) or holds it, waiting for its turn."""
        original = turns._set

        def observed(kind: int, byte: int) -> None:
            asks = (kind, byte) == (sqlite_store.fcntl.F_WRLCK, turns.QUEUE)
            if asks and before:
                event.set()
            original(kind, byte)
            if asks and not before:
                event.set()

        turns._set = observed

    def hold(transaction) -> None:
        transaction.put("exports", "held", {"id": "held"})
        inside.set()
        release.wait()

    watch(waiting._turns, queued, before=False)
    watch(busy._turns, asking, before=True)
    try:
        held = asyncio.ensure_future(busy.transact(APP, hold))  # busy's transactions' thread has the turn
        await loop.run_in_executor(None, inside.wait)
        waited = asyncio.ensure_future(waiting.add(APP, "exports", "waited", {"id": "waited"}, keep=10))
        await loop.run_in_executor(None, queued.wait)  # waiting's thread is next in line
        again = asyncio.ensure_future(busy.add(APP, "exports", "again", {"id": "again"}, keep=10))
        await loop.run_in_executor(None, asking.wait)  # busy's store thread asks for a turn again
        release.set()
        assert await asyncio.gather(held, waited, again) == [None, True, True]
        assert [r["id"] for r in await busy.list(APP, "exports")] == ["held", "waited", "again"]
    finally:
        release.set()
        await busy.close()
        await waiting.close()


async def test_sqlite_writes_without_turns_still_wait_for_the_lock(tmp_path, monkeypatch):
    """Where open file description locks are missing (not Linux), SQLite's own wait alone keeps writers apart."""
    from mockserver import sqlite_store

    monkeypatch.delattr(sqlite_store.fcntl, "F_OFD_SETLKW")
    first, second = SqliteStore(tmp_path / "state.db"), SqliteStore(tmp_path / "state.db")
    try:
        assert first._turns._fd is None and not (tmp_path / "state.db-turns").exists()
        adds = [
            store.add(APP, "exports", f"e{n:02}-{i}", {"id": f"e{n:02}-{i}"}, keep=5)
            for n in range(20)
            for i, store in enumerate((first, second))
        ]
        assert await asyncio.gather(*adds) == [True] * 40
        assert await second.count(APP, "exports") == 5
    finally:
        await first.close()
        await second.close()


async def test_a_sqlite_turn_that_cannot_be_taken_still_writes(tmp_path):
    """The turns' lock failing costs fairness only: SQLite's own lock keeps writers apart, the write is done."""
    from mockserver import sqlite_store

    store = SqliteStore(tmp_path / "state.db")

    def refuse(kind: int, byte: int) -> None:
        if kind != sqlite_store.fcntl.F_UNLCK:
            raise OSError("no locks here")

    store._turns._set = refuse
    try:
        assert await store.add(APP, "exports", "e1", {"id": "e1"}, keep=5)
        assert await store.get(APP, "exports", "e1") == {"id": "e1"}
    finally:
        await store.close()


async def test_pages_follow_each_index_whatever_was_written(store):
    """Random puts, updates, deletes and trims; then every page of every index (both ways) is the
    slice of all records sorted by the index's fields, ties in order of first storing, and `upto`
    gives exactly the records whose first field is a number at most the bound."""
    import random

    rng = random.Random(18)
    values = [None, 0, 1, 2, 2.5, -1, 1e12, "a", "b", "zz", True]
    first_stored: dict[str, int] = {}
    for step in range(300):
        action, key = rng.random(), f"k{rng.randrange(40)}"
        if action < 0.7:
            record = {"id": key, **{f: rng.choice(values) for f in ("created_at", "phase_rank", "due_at")}}
            await store.put(APP, "exports", key, record)
            first_stored.setdefault(key, step)
        elif action < 0.95:
            if await store.delete(APP, "exports", key):
                del first_stored[key]
        else:
            await store.trim(APP, "exports", 25)
            kept = {r["id"] for r in await store.list(APP, "exports")}
            first_stored = {k: v for k, v in first_stored.items() if k in kept}
    await store.put(ELSEWHERE, "exports", "k1", {"id": "k1", "created_at": 0})  # another tenant: never listed
    everything = await store.list(APP, "exports")
    assert await store.count(APP, "exports") == len(everything) == len(first_stored)
    for name, fields in INDEXES["exports"].items():
        ordered = sorted(everything, key=lambda r: (sort_key(r, fields), first_stored[r["id"]]))
        for reverse in (False, True):
            expected = ordered[::-1] if reverse else ordered
            for offset, limit in ((0, 10), (7, 5), (len(expected) - 2, 10), (len(expected) + 3, 5), (0, 0)):
                page = await store.page(APP, "exports", name, reverse=reverse, offset=offset, limit=limit)
                assert page == expected[offset : offset + limit], (name, reverse, offset, limit)
        for bound in (-5, 0, 2, 2.5, 1e13):
            numeric = [r for r in ordered if type(r[fields[0]]) in (int, float, bool) and r[fields[0]] <= bound]
            assert await store.upto(APP, "exports", name, bound) == numeric, (name, bound)
    with pytest.raises(KeyError):
        await store.page(APP, "exports", "nope", reverse=False, offset=0, limit=1)
    await store.reset("app")
    assert await store.page(APP, "exports", "created", reverse=False, offset=0, limit=10) == []


# -- records found by a unique field (store.UNIQUE), transactions ---------------------------------------------
async def test_a_record_is_found_by_its_unique_field_and_only_by_its_current_value(store):
    await store.put(APP, "orders", "ord_1", {"id": "ord_1", "source_id": "s-1"})
    await store.put(APP, "orders", "ord_2", {"id": "ord_2", "source_id": None})
    assert await store.find(APP, "orders", "source_id", "s-1") == {"id": "ord_1", "source_id": "s-1"}
    assert await store.find(OTHER, "orders", "source_id", "s-1") is None  # another app's value
    assert await store.find(APP, "customers", "source_id", "s-1") is None  # another kind's
    await store.put(APP, "orders", "ord_1", {"id": "ord_1", "source_id": "s-2"})
    assert await store.find(APP, "orders", "source_id", "s-1") is None
    assert (await store.find(APP, "orders", "source_id", "s-2"))["id"] == "ord_1"
    await store.put(APP, "orders", "ord_2", {"id": "ord_2", "source_id": "s-1"})  # a freed value may be taken
    assert (await store.find(APP, "orders", "source_id", "s-1"))["id"] == "ord_2"
    assert await store.delete(APP, "orders", "ord_2")
    assert await store.find(APP, "orders", "source_id", "s-1") is None
    await store.trim(APP, "orders", 0)
    assert await store.find(APP, "orders", "source_id", "s-2") is None
    await store.put(APP, "orders", "ord_3", {"id": "ord_3", "source_id": "s-3"})
    await store.reset("app")
    assert await store.find(APP, "orders", "source_id", "s-3") is None
    with pytest.raises(KeyError):
        await store.find(APP, "exports", "source_id", "s-3")  # not a field that kind is found by


async def test_no_two_records_of_an_app_share_a_unique_value(store):
    await store.put(APP, "orders", "ord_1", {"id": "ord_1", "source_id": "s"})
    with pytest.raises(KeyError):
        await store.put(APP, "orders", "ord_2", {"id": "ord_2", "source_id": "s"})
    assert await store.add(APP, "orders", "ord_2", {"id": "ord_2", "source_id": "s"}) is False
    assert await store.count(APP, "orders") == 1
    await store.put(OTHER, "orders", "ord_9", {"id": "ord_9", "source_id": "s"})  # another app's records may
    assert (await store.find(APP, "orders", "source_id", "s"))["id"] == "ord_1"


async def test_a_transaction_reads_its_own_writes_and_stores_all_or_nothing(store):
    await store.put(APP, "orders", "ord_1", {"id": "ord_1", "source_id": "s-1", "n": 1})

    def work(txn):
        order = txn.find("orders", "source_id", "s-1")
        txn.put("orders", "ord_1", {**order, "source_id": "s-9", "n": 2})
        txn.put("customers", "cust_1", {"id": "cust_1", "source_id": "c-1"})
        assert txn.find("orders", "source_id", "s-1") is None  # moved to s-9 in this transaction
        assert txn.find("orders", "source_id", "s-9")["n"] == 2 and txn.get("customers", "cust_1")
        assert txn.count("orders") == 1 and txn.count("customers") == 1
        return "done"

    def failing(txn):
        txn.put("orders", "ord_2", {"id": "ord_2", "source_id": "s-2"})
        raise ValueError("refused")

    assert await store.transact(APP, work) == "done"
    assert await store.get(APP, "orders", "ord_1") == {"id": "ord_1", "source_id": "s-9", "n": 2}
    assert (await store.find(APP, "customers", "source_id", "c-1"))["id"] == "cust_1"
    with pytest.raises(ValueError):
        await store.transact(APP, failing)
    assert await store.get(APP, "orders", "ord_2") is None and await store.count(APP, "orders") == 1
    assert await store.find(APP, "orders", "source_id", "s-2") is None


async def test_concurrent_transactions_never_interleave(store):
    """32 upserts by one unique value at once: one record, which saw every one of them."""

    def upsert(txn):
        found = txn.find("orders", "source_id", "same")
        if found is None:
            txn.put("orders", f"ord_{id(txn)}", {"id": f"ord_{id(txn)}", "source_id": "same", "seen": 1})
        else:
            txn.put("orders", found["id"], {**found, "seen": found["seen"] + 1})

    await asyncio.gather(*(store.transact(APP, upsert) for _ in range(32)))
    stored = await store.list(APP, "orders")
    assert len(stored) == 1 and stored[0]["seen"] == 32, stored


async def test_a_long_list_is_whole_and_in_order_of_first_storing(store):
    """Over store.THAW_ON_THREAD records are decoded on a thread: the same list, the same order."""
    from mockserver.store import THAW_ON_THREAD

    count = THAW_ON_THREAD + 200
    for n in range(count):
        await store.put(APP, "orders", f"ord_{n}", {"id": f"ord_{n}", "source_id": f"s-{n}"})
    await store.put(APP, "orders", "ord_0", {"id": "ord_0", "source_id": "s-0", "updated": True})
    listed = await store.list(APP, "orders")
    assert [r["id"] for r in listed] == [f"ord_{n}" for n in range(count)] and listed[0]["updated"]


async def test_a_version_stands_until_the_record_is_written(store):
    """Store.version: the same object while the record stands, another after any write, None once it is
    gone; SQLite (other processes write it): the stored text, equal while the content is; Redis keeps none
    (None: read the record)."""
    await store.put(APP, "exports", "exp_1", RECORD)
    first = store.version(APP, "exports", "exp_1")
    if isinstance(store, MemoryStore):
        assert first is not None and store.version(APP, "exports", "exp_1") is first
    elif isinstance(store, SqliteStore):
        assert first is not None and store.version(APP, "exports", "exp_1") == first
    else:
        assert first is None
    assert store.version(OTHER, "exports", "exp_1") is None  # another app's: none
    await store.replace(APP, "exports", "exp_1", {**RECORD, "phase": "running"})
    replaced = store.version(APP, "exports", "exp_1")
    await store.transact(APP, lambda t: t.put("exports", "exp_1", {**RECORD, "phase": "done"}))
    transacted = store.version(APP, "exports", "exp_1")
    await store.put(APP, "exports", "exp_1", RECORD)  # the same content again is another write
    if isinstance(store, MemoryStore):
        assert len({id(first), id(replaced), id(transacted), id(store.version(APP, "exports", "exp_1"))}) == 4
        assert None not in (replaced, transacted)
    elif isinstance(store, SqliteStore):  # the same content again: the same text, so the same answer
        assert len({first, replaced, transacted}) == 3 and store.version(APP, "exports", "exp_1") == first
    await store.delete(APP, "exports", "exp_1")
    assert store.version(APP, "exports", "exp_1") is None
