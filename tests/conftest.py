"""Shared fixtures: an in-process API client that checks every response
against the spec, and a real listening server for HTTP-level tests."""

from __future__ import annotations

import atexit
import csv
import fcntl
import gc
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mockserver import tuning
from mockserver.app import Settings, create_app
from mockserver.clock import Clock
from mockserver.respond import PRODUCING
from mockserver.spec import load_spec
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
APP = ("app-1", "token-1")


# At exit the interpreter runs full collections over every module's objects as it clears them: 1.3-2 s of
# CPU in a worker that loaded the SDKs, schemathesis and the data engine, 0.1 s with the heap frozen first.
# Registered here, so it runs after pytest is done (its own last collection included) and before the
# atexit handlers registered earlier; what they and the module teardown free by reference counting is
# still freed. (docs/performance.md, "Test loop")
atexit.register(gc.freeze)
# A young collection every 10,000 allocations, not 700: the tests make millions of short-lived objects
# (hypothesis' cases, apps, requests), and the collections they set off, full ones over a worker's heap
# among them, took 10-18 % of a worker's CPU (docs/performance.md, "Test loop", seventh pass).
tuning.collect_less()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts): a worker per core and one more. The suite waits as well as computes
    (servers and CLIs starting in child processes, exports that take real seconds): a third worker on two
    cores ran the quick loop in 147 s against 164 s at load 6-8 (docs/performance.md, "Test loop").
    PYTEST_XDIST_AUTO_NUM_WORKERS still decides where it is set (None: xdist's own hook reads it)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1


@pytest.fixture(scope="session")
def spec():
    return load_spec("voucherify")


@pytest.fixture
def clock():
    return Clock(start=START, frozen=True)


@dataclass
class Reply:
    status: int
    headers: Any
    body: Any  # parsed JSON, text, or None

    @property
    def json(self) -> Any:
        return self.body


class Api:
    """A test client that speaks as one app and validates every answer."""

    def __init__(self, client, spec, app=APP):
        self.client = client
        self.spec = spec
        self.app = app

    def as_app(self, app_id: str, token: str) -> Api:
        return Api(self.client, self.spec, (app_id, token))

    async def request(self, method: str, path: str, *, auth: bool = True, headers=None, check=True, **kwargs) -> Reply:
        sent = dict(headers or {})
        if auth:
            sent.setdefault("X-App-Id", self.app[0])
            sent.setdefault("X-App-Token", self.app[1])
        resp = await self.client.request(method, path, headers=sent, **kwargs)
        raw = await resp.read()
        media = resp.content_type if raw else None
        body: Any = None
        if media == "application/json":
            body = json.loads(raw)
        elif raw:
            body = raw.decode("utf-8")
        operation = self.spec.match(method, path.split("?")[0])
        if check and operation is not None and method != "HEAD":
            self.spec.check_response(operation, resp.status, media, body)
        if resp.status >= 400 and media == "application/json":
            assert_error_shape(body, resp.status)
        return Reply(resp.status, resp.headers, body)

    async def get(self, path, **kw):
        return await self.request("GET", path, **kw)

    async def post(self, path, **kw):
        return await self.request("POST", path, **kw)

    async def delete(self, path, **kw):
        return await self.request("DELETE", path, **kw)


def producing() -> set[threading.Thread]:
    """The producer threads making a download's chunks now. A test compares two of these sets to find its own
    download's producer: producers run on kept threads, and an earlier test's may still be busy or letting go."""
    return {thread for thread in threading.enumerate() if thread.name == PRODUCING}


def wait_until_idle(threads: set[threading.Thread], seconds: float) -> bool:
    """Whether every one of `threads` stopped producing (went back to waiting, or ended) within `seconds`."""
    deadline = time.monotonic() + seconds
    while any(t.is_alive() and t.name == PRODUCING for t in threads):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def assert_error_shape(body: dict, status: int) -> None:
    assert set(body) >= {"code", "key", "message", "details", "request_id"}, body
    assert body["code"] == status
    assert body["request_id"].startswith("v-")


async def download_rows(api: Api, export: dict, steps: int = 4) -> list[dict]:
    """Poll an export (lifecycle `poll`) to DONE and return its CSV rows as dicts."""
    for _ in range(steps):
        export = (await api.get(f"/v1/exports/{export['id']}")).json
        if export["status"] == "DONE":
            break
    reply = await api.get("/v1/exports/" + export["result"]["url"].split("/v1/exports/")[1], auth=False)
    assert reply.status == 200
    return keyed_rows(reply.body, export["parameters"]["fields"])


def keyed_rows(text: str, fields: list[str]) -> list[dict]:
    """A Voucherify CSV's rows as dicts keyed by the export's fields: the file heads its columns with
    the vendor's labels (`ID`, `Voucher Type`), one per field, in the order of `fields`."""
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(header) == len(fields), (header, fields)
    return [dict(zip(fields, row)) for row in rows]


@pytest.fixture
def make_api(aiohttp_client, spec, clock):
    """An in-process Voucherify mock on the session's spec (loading the spec is most of a test's time)."""

    async def make(**options) -> Api:
        own = {name: options.pop(name) for name in ("apps", "max_orders") if name in options}  # Voucherify's options
        settings = Settings(**options)
        app = create_app(settings, clock=clock, vendors=[Voucherify(spec=spec, **own)])
        return Api(await aiohttp_client(app), spec)

    return make


@pytest.fixture
async def api(make_api):
    return await make_api()


@pytest.fixture
def live_server():
    """A real server on a free loopback port, lifecycle `poll` so tests need no sleeping."""
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        yield server


@pytest.fixture
def csv_readers(monkeypatch) -> list[str]:
    """The modules that call csv.reader while the test runs, the server's threads included: the mock writes
    files from the engine's rows and never reads its own CSV back (a test asserts no `mockserver` name)."""
    callers: list[str] = []
    original = csv.reader

    def reader(*args, **kwargs):
        callers.append(sys._getframe(1).f_globals["__name__"])
        return original(*args, **kwargs)

    monkeypatch.setattr(csv, "reader", reader)
    return callers


JS_DIR = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def npm_sdk() -> Path:
    """tests/js with the pinned SDKs of its package.json installed (@voucherify/sdk, chargebee, stripe;
    `npm ci` on first use, or when one is missing). `npm ci` empties node_modules first, so pytest-xdist
    workers take a file lock: one installs, the others wait."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed (apt-get install nodejs npm): the official JavaScript SDKs are not tested")
    wanted = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    with open(JS_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((JS_DIR / "node_modules" / name / "package.json").is_file() for name in wanted):
            npm = shutil.which("npm")
            assert npm, "npm is needed to install the Node SDKs (tests/js/package-lock.json)"
            installed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True, timeout=600
            )
            assert installed.returncode == 0, installed.stderr
    return JS_DIR


# a real redis-server for the Redis store tests (session-wide; skipped only when it is not installed)
from tests.redis_support import redis_server, redis_url  # noqa: E402,F401
