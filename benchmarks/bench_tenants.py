"""Journeys per second over one app id and over many: does throughput depend on how many apps are active?

    python benchmarks/bench_tenants.py [--apps 1000] [--clients 20] [--seconds 15]

Starts `mockserver serve` (instant lifecycle) on 127.0.0.1 in a subprocess;
`--clients` asyncio clients loop create → get → download → delete, each
journey under the next app id of the round (one app, then `--apps` apps).
Prints journeys/s for both, their ratio and the server's peak RSS.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import free_port, peak_rss_mib, serve_command, wait_for  # noqa: E402  (one copy of the server helpers)

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
OBJECTS = ("voucher", "order", "redemption", "customer", "publication")


async def soak(port: int, apps: int, clients: int, seconds: float) -> tuple[float, int]:
    """(journeys per second, failed journeys) for `seconds` of load."""
    base = f"http://127.0.0.1:{port}"
    ids = itertools.count()
    done = failed = 0
    deadline = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done, failed
        while time.monotonic() < deadline:
            n = next(ids)
            app = f"tenant-{n % apps:05d}"
            headers = {"X-App-Id": app, "X-App-Token": f"{app}-token"}
            body = {"exported_object": OBJECTS[n % len(OBJECTS)]}
            try:
                async with session.post(f"{base}/v1/exports", json=body, headers=headers) as r:
                    export = await r.json()
                async with session.get(f"{base}/v1/exports/{export['id']}", headers=headers) as r:
                    url = (await r.json())["result"]["url"]
                async with session.get(url, headers=headers) as r:
                    await r.read()
                    ok = r.status == 200
                async with session.delete(f"{base}/v1/exports/{export['id']}", headers=headers) as r:
                    ok = ok and r.status < 300
            except (aiohttp.ClientError, KeyError, TypeError):
                ok = False
            done += ok
            failed += not ok

    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return done / (time.monotonic() - start), failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        serve_command(port, "--lifecycle", "instant"),
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        asyncio.run(soak(port, 1, args.clients, 2))  # warm-up: imports, pools, first world
        one, failed_one = asyncio.run(soak(port, 1, args.clients, args.seconds))
        many, failed_many = asyncio.run(soak(port, args.apps, args.clients, args.seconds))
        print(f"1 app:        {one:7.1f} journeys/s ({failed_one} failed)")
        print(f"{args.apps:,} apps: {many:7.1f} journeys/s ({failed_many} failed)")
        print(f"ratio {many / one:.2f}; server peak RSS {peak_rss_mib(server.pid):.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
