"""Order imports that do not slow down with history, and a server that keeps answering meanwhile.

    PYTHONPATH=. python benchmarks/bench_orders.py [--orders 2000] [--imports 5] [--state FILE|redis://…]

Starts `mockserver serve` (lifecycle instant, in memory unless --state) and imports `--imports` batches
of `--orders` new orders (each with two items and a customer upserted by source_id) into one app, one
after the other, timing each import from request to answer. Meanwhile a probe, another app, sends
`GET /v1/orders/<id>` every 5 ms; each answer's wait is a measure of the server's event loop latency
(a probe of nothing but the loop and one indexed read). Prints each import's seconds, the ratio of the
last to the first (target: at most 1.5), and the probe's median and worst wait (target: at most 50 ms).
Asserts nothing. The default run takes about 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
IMPORTER = {"X-App-Id": "bench-importer", "X-App-Token": "bench-importer-key"}
PROBE = {"X-App-Id": "bench-probe", "X-App-Token": "bench-probe-key"}


def batch(number: int, size: int) -> list[dict]:
    return [
        {
            "source_id": f"b{number}-o{n}",
            "status": "PAID",
            "customer": {"source_id": f"b{number}-c{n}", "name": f"Customer {n}"},
            "items": [
                {"source_id": "sku-1", "related_object": "sku", "quantity": 2, "price": 1500},
                {"source_id": "sku-2", "amount": 700},
            ],
            "metadata": {"batch": number},
        }
        for n in range(size)
    ]


def serve(state: str | None) -> tuple[subprocess.Popen, str]:
    """The server, in a process of its own (started and stopped by its pid)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    args = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--lifecycle", "instant"]
    args += ["--state", state] if state else []
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return process, found.group(1)
    process.wait()
    raise SystemExit("the server did not start")


async def probe(session: aiohttp.ClientSession, url: str, waits: list[float], stop: asyncio.Event) -> None:
    async with session.post(url + "/v1/orders", json={"source_id": "probe", "amount": 1}, headers=PROBE) as reply:
        order_id = (await reply.json())["id"]
    while not stop.is_set():
        began = time.perf_counter()
        async with session.get(f"{url}/v1/orders/{order_id}", headers=PROBE) as reply:
            await reply.read()
            assert reply.status == 200, reply.status
        waits.append(time.perf_counter() - began)
        await asyncio.sleep(0.005)


async def run(url: str, orders: int, imports: int) -> None:
    # encoded before the probe starts: the client's own loop must not stall the probe's measurements
    bodies = [json.dumps(batch(number, orders)).encode() for number in range(imports)]
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as importer, aiohttp.ClientSession(timeout=timeout) as prober:
        waits: list[float] = []
        stop = asyncio.Event()
        probing = asyncio.create_task(probe(prober, url, waits, stop))
        await asyncio.sleep(0.2)
        idle = seen = len(waits)
        seconds = []
        for number, body in enumerate(bodies, 1):
            began = time.perf_counter()
            async with importer.post(
                url + "/v1/orders/import", data=body, headers={**IMPORTER, "Content-Type": "application/json"}
            ) as reply:
                answer = await reply.text()
                if reply.status != 200:
                    raise SystemExit(f"import {number} answered {reply.status}: {answer[:300]}")
            seconds.append(time.perf_counter() - began)
            worst = max(waits[seen:], default=0)
            seen = len(waits)
            print(
                f"import {number}: {orders:,} orders into {orders * (number - 1):,} stored: "
                f"{seconds[-1] * 1000:,.0f} ms; the probe's worst wait meanwhile {worst * 1000:,.1f} ms",
                flush=True,
            )
        stop.set()
        await probing
        during = waits[idle:]
    print(
        f"5th/1st import: {seconds[-1] / seconds[0]:.2f}x (target <= 1.5x)"
        if imports == 5
        else f"last/first import: {seconds[-1] / seconds[0]:.2f}x (target <= 1.5x)"
    )
    print(
        f"probe GETs of another app during the imports: {len(during)}, median "
        f"{statistics.median(during) * 1000:.1f} ms, worst {max(during) * 1000:.1f} ms (target <= 50 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders per import (the API takes at most 2000)")
    parser.add_argument("--imports", type=int, default=5)
    parser.add_argument("--state", help="serve with --state (a SQLite file or a redis:// URL); default in memory")
    options = parser.parse_args()
    process, url = serve(options.state)
    try:
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        asyncio.run(run(url, options.orders, options.imports))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
