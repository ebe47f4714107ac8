"""Does one invalid 1 MiB body stall everyone else?

    PYTHONPATH=. python benchmarks/bench_invalid_bodies.py [--rate 100]

Starts `mockserver serve` on a free loopback port and, for each of three bodies
the schema refuses (a 150,000-item `fields` array, a 120,000-item `$in`, an
import of 40,000 orders), POSTs it while another client sends GET
/__mock/health `--rate` times a second. Prints the refusal's status and time
and the health requests' worst latency meanwhile: the event loop's worst stall,
give or take a request's own few ms. Run it with PYTHONPATH pointing at an
older checkout to compare. Prints figures; asserts nothing. About 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import free_port, wait_for  # noqa: E402  (one copy of the server helpers)

AUTH = {"X-App-Id": "bench", "X-App-Token": "bench-token", "Content-Type": "application/json"}
BODIES = {
    "150,000 fields": ("/v1/exports", {"exported_object": "order", "parameters": {"fields": ["id"] * 150_000}}),
    "120,000 values of $in": (
        "/v1/exports",
        {
            "exported_object": "order",
            "parameters": {"filters": {"status": {"conditions": {"$in": ["PAID"] * 120_000}}}},
        },
    ),
    "import of 40,000 orders": ("/v1/orders/import", [{"source_id": f"s-{n}"} for n in range(40_000)]),
}


async def health(session: aiohttp.ClientSession, base: str, rate: float, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(base + "/__mock/health") as reply:
            await reply.read()
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))
    return latencies


async def run(base: str, rate: float) -> None:
    async with aiohttp.ClientSession() as session:
        stop = asyncio.Event()
        idle = asyncio.create_task(health(session, base, rate, stop))
        await asyncio.sleep(1)
        stop.set()
        print(f"{'no invalid body':<26} health max {max(await idle) * 1000:7.1f} ms")
        for name, (path, body) in BODIES.items():
            data = json.dumps(body).encode()
            stop = asyncio.Event()
            during = asyncio.create_task(health(session, base, rate, stop))
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            async with session.post(base + path, data=data, headers=AUTH) as reply:
                answer = await reply.read()
            took = time.perf_counter() - started
            await asyncio.sleep(0.2)
            stop.set()
            worst = max(await during)
            print(
                f"{name:<26} {len(data) / 2**10:5.0f} KiB → {reply.status} in {took * 1000:7.1f} ms;  "
                f"health max {worst * 1000:7.1f} ms   ({answer[:90].decode(errors='replace')}…)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="health requests per second")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    try:
        wait_for(port, 60)
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        asyncio.run(run(f"http://127.0.0.1:{port}", args.rate))
    finally:
        server.terminate()  # by pid: the server this script started
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
