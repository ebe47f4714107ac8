"""Generating, sorting and zipping an export run off the event loop
item 3): while a 100,000-row voucher export ordered by `code` downloads, the
loop keeps turning and other requests are answered. Measured as the loop's
longest stall seen by a ticker coroutine, as a share of the download's
duration, so a loaded machine (which slows both alike) does not fail it: on
the old code the sort alone was one stall of most of the download (~19 s of
it on an idle machine); off the loop, the longest is a few per cent.

The heap is settled first, as `mockserver serve` settles its own once it
listens (tuning.settle_heap): otherwise a full garbage collection, which the
producer's allocations trigger and which holds the GIL while it walks every
object in the process, walks the test runner's heap too. After a few thousand
tests in one xdist worker that was one stall of 1.3 s (CI, loaded), a process
no server ever is; the producer's own objects cost ~0.1 s."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from mockserver.app import Settings, create_app
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.voucherify import Voucherify
from tests.chargebee_support import basic
from tests.conftest import producing, wait_until_idle

AUTH = {"X-App-Id": "big", "X-App-Token": "t"}
ROWS = 100_000
pytestmark = pytest.mark.slow  # 100,000 sorted rows take seconds to make
STALL_SHARE = 0.2  # the longest stall, as a share of the whole download (old code: most of it)


@pytest.fixture(autouse=True)
def settled_heap():
    """What the process made before this test is out of the collector's sight, as in a serving process."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


async def _watch(download) -> tuple[float, float, int]:
    """Run `download()` beside a ticker: (longest stall, seconds the download took, its bytes)."""
    done = asyncio.Event()
    longest = 0.0

    async def ticker() -> None:
        nonlocal longest
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            longest = max(longest, now - last - 0.005)
            last = now

    async def download_then_stop() -> int:
        try:
            return await download()
        finally:
            done.set()

    tick = asyncio.create_task(ticker())
    started = time.monotonic()
    size = await download_then_stop()
    took = time.monotonic() - started
    await tick
    return longest, took, size


async def test_a_big_sorted_csv_download_leaves_the_loop_free(aiohttp_client, spec):
    client = await aiohttp_client(create_app(Settings(lifecycle="instant", rows=ROWS), vendors=[Voucherify(spec=spec)]))
    created = await client.post(
        "/v1/exports", headers=AUTH, json={"exported_object": "voucher", "parameters": {"order": "code"}}
    )
    assert created.status == 200, await created.text()
    export = await (await client.get(f"/v1/exports/{(await created.json())['id']}", headers=AUTH)).json()
    url = "/v1/exports/" + export["result"]["url"].split("/v1/exports/")[1]
    answered_during = []
    finished = asyncio.Event()

    async def health_checks() -> None:
        while not finished.is_set():
            reply = await client.get("/__mock/health")
            assert reply.status == 200
            if not finished.is_set():
                answered_during.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def download() -> int:
        checks = asyncio.create_task(health_checks())
        try:
            reply = await client.get(url)
            assert reply.status == 200
            size, lines = 0, 0
            async for chunk in reply.content.iter_chunked(1 << 16):
                size += len(chunk)
                lines += chunk.count(b"\n")
            assert lines == ROWS + 1
            return size
        finally:
            finished.set()
            await checks

    longest, took, size = await _watch(download)
    assert size > ROWS
    assert longest < STALL_SHARE * took, f"the event loop stalled {longest:.2f} s of a {took:.1f} s download"
    assert len(answered_during) >= 3, "health checks were answered while the download was in progress"


async def test_a_big_chargebee_zip_leaves_the_loop_free(aiohttp_client):
    client = await aiohttp_client(create_app(Settings(lifecycle="instant", rows=ROWS // 2), vendors=[Chargebee()]))
    auth = {"Authorization": basic("big")}
    export = (await (await client.post("/api/v2/exports/customers", headers=auth)).json())["export"]
    export = (await (await client.get(f"/api/v2/exports/{export['id']}", headers=auth)).json())["export"]
    path = export["download"]["download_url"].split("/api/v2/", 1)[1]

    async def download() -> int:
        reply = await client.get("/api/v2/" + path)
        assert reply.status == 200
        return len(await reply.read())

    longest, took, size = await _watch(download)
    assert size > 0
    assert longest < STALL_SHARE * took, f"the event loop stalled {longest:.2f} s of a {took:.1f} s download"


async def test_a_client_that_goes_away_stops_the_producer(aiohttp_client, spec):
    client = await aiohttp_client(create_app(Settings(lifecycle="instant", rows=ROWS), vendors=[Voucherify(spec=spec)]))
    created = await (await client.post("/v1/exports", headers=AUTH, json={"exported_object": "voucher"})).json()
    export = await (await client.get(f"/v1/exports/{created['id']}", headers=AUTH)).json()
    url = "/v1/exports/" + export["result"]["url"].split("/v1/exports/")[1]
    before = producing()
    reply = await client.get(url)
    await reply.content.readexactly(1000)  # the download has started
    ours = producing() - before
    assert len(ours) == 1
    reply.close()  # and the client goes away
    assert await asyncio.to_thread(wait_until_idle, ours, 20), "the producer of a download nobody reads any more stops"
