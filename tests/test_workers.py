"""Scale-out through real HTTP: `serve --workers N` (N processes on one port,
one shared store) and replicas on one Redis (`--state redis://…`) serve a
single consistent view — an export made through one process is visible,
consistent and advancing through every other — and stop cleanly."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.control_support import http

ROOT = Path(__file__).resolve().parent.parent
ORDER = {"exported_object": "order", "parameters": {"fields": ["id", "status"]}}
APP = {"X-App-Id": "scale-app", "X-App-Token": "scale-token"}
OTHER = {"X-App-Id": "scale-other", "X-App-Token": "other-token"}


class Served:
    """A `mockserver serve` process started (and stopped) by its pid."""

    def __init__(self, *args: str, cwd=None) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
            cwd=cwd or ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            self.stop()
            raise AssertionError(f"server did not start: {line!r} {self.stderr}")  # stop() read stderr
        self.url = match.group(1)

    def pids(self, requests: int = 60) -> set[int]:
        """The pids that answered `requests` health checks, each on a new connection."""
        return {http("GET", self.url + "/__mock/health").json["pid"] for _ in range(requests)}

    def signal(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=20)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.stdout.closed:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr = self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def download(url: str) -> list[dict]:
    answer = http("GET", url)
    assert answer.status == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


# phases far longer than the test: only the admin clock moves exports, however slowly a loaded machine runs
PHASES = ("--scheduled-seconds", "60", "--running-seconds", "60")


def one_view(urls: list[str], rounds: int = 3) -> None:
    """Exports made through any of `urls` look the same through all of them, at every step."""
    created = [http("POST", urls[n % len(urls)] + "/v1/exports", ORDER, APP).json for n in range(12)]
    assert len({e["id"] for e in created}) == 12, "ids must be unique across processes"
    assert http("POST", urls[0] + "/v1/exports", ORDER, OTHER).status == 200
    for _ in range(rounds):  # new connections: the kernel spreads them over the workers
        for url in urls:
            listed = http("GET", url + "/v1/exports?limit=100", headers=APP).json
            assert sorted(e["id"] for e in listed["exports"]) == sorted(e["id"] for e in created)
            assert {e["status"] for e in listed["exports"]} == {"SCHEDULED"}
            for export in created[:4]:
                again = http("GET", f"{url}/v1/exports/{export['id']}", headers=APP).json
                assert again == export
                assert http("GET", f"{url}/v1/exports/{export['id']}", headers=OTHER).status == 404
    # the mock clock is shared: moving it through one process moves every export everywhere
    assert http("POST", urls[-1] + "/__mock/clock/advance", {"seconds": 90}).status == 200
    for url in urls:
        for export in created[:4]:
            assert http("GET", f"{url}/v1/exports/{export['id']}", headers=APP).json["status"] == "IN_PROGRESS"
    http("POST", urls[0] + "/__mock/clock/advance", {"seconds": 60})
    finished = [
        http("GET", f"{urls[n % len(urls)]}/v1/exports/{e['id']}", headers=APP).json for n, e in enumerate(created)
    ]
    assert {e["status"] for e in finished} == {"DONE"}
    # a download link made by one process opens through any other
    token_url = finished[0]["result"]["url"]
    path = token_url[token_url.index("/v1/") :]
    first = download(urls[-1] + path)
    assert first and first == download(urls[0] + path) and list(first[0]) == ["ID", "Status"]
    # a delete through one process is seen by all, and is not undone by a lifecycle step elsewhere
    assert http("DELETE", f"{urls[0]}/v1/exports/{created[0]['id']}", headers=APP).status == 204
    for url in urls:
        for _ in range(rounds):
            assert http("GET", f"{url}/v1/exports/{created[0]['id']}", headers=APP).status == 404
        assert http("GET", url + "/v1/exports?limit=100", headers=APP).json["total"] == 11
    # credentials bound on first use through one process hold in every other
    for url in urls:
        assert http("GET", url + "/v1/exports", headers={**APP, "X-App-Token": "guess"}).status == 401


@pytest.mark.slow
def test_workers_share_one_port_and_one_view_and_stop_together(tmp_path):
    with Served("--workers", "3", *PHASES) as served:
        pids = served.pids()
        assert len(pids) == 3, f"connections should reach every worker, reached {pids}"
        assert served.process.pid not in pids
        one_view([served.url])
        health = http("GET", served.url + "/__mock/health").json
        assert health["workers"] == 3 and health["store"] == "SqliteStore"
        temporary = re.search(r"temporary SQLite store, (\S+) \(deleted", served.process.stderr.readline())
        assert temporary, "the log says where the shared state is"
        state = Path(temporary.group(1))
        assert state.exists()
        assert served.signal(signal.SIGTERM) == 0
    assert all(gone(pid) for pid in pids), "SIGTERM to the parent stops every worker"
    assert not state.parent.exists(), "the temporary store is deleted"
    assert "Traceback" not in served.stderr


@pytest.mark.slow
def test_sigint_stops_every_worker_and_a_dead_worker_is_replaced(tmp_path):
    state = tmp_path / "state.db"
    with Served("--workers", "2", "--state", str(state), "--lifecycle", "poll") as served:
        pids = served.pids()
        assert len(pids) == 2
        created = http("POST", served.url + "/v1/exports", ORDER, APP).json
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        assert gone(victim)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the parent starts a new worker on the same port
            now = served.pids(20)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and victim not in now, now
        assert http("GET", f"{served.url}/v1/exports/{created['id']}", headers=APP).json["id"] == created["id"]
        assert served.signal(signal.SIGINT) == 0
    assert all(gone(pid) for pid in now)
    assert "starting another" in served.stderr
    # what the workers stored is in --state: a single process finds it after a restart
    with Served("--state", str(state), "--lifecycle", "poll") as again:
        assert http("GET", f"{again.url}/v1/exports/{created['id']}", headers=APP).json["id"] == created["id"]


@pytest.mark.slow
def test_workers_do_not_outlive_a_killed_parent():
    served = Served("--workers", "2")
    pids = served.pids()
    state = Path(re.search(r"temporary SQLite store, (\S+) \(deleted", served.process.stderr.readline()).group(1))
    served.process.send_signal(signal.SIGKILL)
    served.process.wait(timeout=10)
    try:
        assert all(gone(pid, within=10) for pid in pids), "orphaned workers stop by themselves"
        assert not state.parent.exists(), "and delete the temporary store"
    finally:
        for pid in pids:  # only ever the pids this test started
            if not gone(pid, within=0):
                os.kill(pid, signal.SIGKILL)
        served.stop()


@pytest.mark.slow
def test_workers_store_fixtures_once_and_pin_their_tokens():
    with Served("--workers", "2", "--fixtures", str(ROOT / "fixtures")) as served:
        demo = {"X-App-Id": "demo-shop", "X-App-Token": "demo-token"}
        for _ in range(10):
            assert http("GET", served.url + "/v1/orders?limit=100", headers=demo).json["total"] == 6
            assert http("GET", served.url + "/v1/orders", headers={**demo, "X-App-Token": "guess"}).status == 401


@pytest.mark.slow
def test_two_replicas_on_one_redis_serve_one_view(redis_url):
    common = ["--state", redis_url, *PHASES]
    with Served(*common) as first, Served(*common, "--workers", "2") as second:
        assert {http("GET", url + "/__mock/health").json["store"] for url in (first.url, second.url)} == {"RedisStore"}
        one_view([first.url, second.url])
        # a reset through one replica empties the store for all of them
        assert http("POST", second.url + "/__mock/reset", {}).status == 200
        assert http("GET", first.url + "/v1/exports", headers=APP).json["total"] == 0


@pytest.mark.slow
def test_an_unreachable_redis_stops_the_server_with_a_clear_message():
    from tests.redis_support import free_port

    process = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--state", f"redis://127.0.0.1:{free_port()}/0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.returncode == 2
    assert "cannot reach the Redis store at redis://127.0.0.1:" in process.stderr
    assert "Traceback" not in process.stderr


async def test_the_shared_clocks_read_does_not_wait_for_the_stores_thread(tmp_path, monkeypatch):
    # read before every request: on the event loop, not queued behind a long store call on the store's thread
    import sqlite3
    import threading

    from mockserver.sqlite_store import SqliteStore

    store = SqliteStore(tmp_path / "s.db")
    gate = threading.Event()
    try:
        await store.incr("clock-offset", 2.5)
        store._thread.submit(gate.wait)  # the store's thread busy (a long list, an import)
        assert await asyncio.wait_for(store.counter("clock-offset"), 10) == 2.5
        assert await store.counter("none yet") == 0
        gate.set()

        class Busy:  # the file busy all the same (a WAL recovery): the store's thread reads it, and waits
            def execute(self, *args):
                raise sqlite3.OperationalError("database is locked")

            def close(self):
                pass

        monkeypatch.setattr(store, "_glances", Busy())
        assert await store.counter("clock-offset") == 2.5
    finally:
        gate.set()
        await store.close()


async def test_a_records_read_by_key_does_not_wait_for_the_stores_thread(tmp_path, monkeypatch):
    # every GET of an export reads it: on the event loop, as the clock's offset, not queued behind the thread
    import sqlite3
    import threading

    from mockserver.sqlite_store import SqliteStore
    from mockserver.store import Tenant

    store, tenant = SqliteStore(tmp_path / "s.db"), Tenant("voucherify", "app")
    gate = threading.Event()
    try:
        await store.put(tenant, "exports", "exp_1", {"id": "exp_1"})
        store._thread.submit(gate.wait)  # the store's thread busy (a long list, an import)
        assert await asyncio.wait_for(store.get(tenant, "exports", "exp_1"), 10) == {"id": "exp_1"}
        assert await asyncio.wait_for(store.get(tenant, "exports", "nope"), 10) is None
        assert await asyncio.wait_for(store.get(Tenant("voucherify", "other"), "exports", "exp_1"), 10) is None
        gate.set()

        class Busy:  # the file busy all the same: the store's thread reads it
            def execute(self, *args):
                raise sqlite3.OperationalError("database is locked")

            def close(self):
                pass

        monkeypatch.setattr(store, "_glances", Busy())
        assert await store.get(tenant, "exports", "exp_1") == {"id": "exp_1"}
    finally:
        gate.set()
        await store.close()


async def test_the_shared_clock_moves_for_every_process_and_is_read_once_per_request(tmp_path):
    from mockserver.clock import SharedClock
    from mockserver.sqlite_store import SqliteStore

    first, second = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")  # two processes' connections
    try:
        here, there = SharedClock(first), SharedClock(second)
        before = there.now()
        assert await here.step(100) - before >= 100
        await there.sync()  # what the next request through the other process does first
        assert 100 <= there.now() - before < 105
        reads = []
        counter = second.counter

        async def counted(name):
            reads.append(name)
            return await counter(name)

        second.counter = counted

        async def request() -> list[float]:
            await there.sync()
            return [there.now() for _ in range(5)]

        one = await request()
        await here.step(50)  # between the requests, through the other process
        two = await request()
        assert len(reads) == 2, "one read of the store per request"
        assert two[0] - one[-1] >= 50
    finally:
        await first.close()
        await second.close()
