"""Does one big export slow everyone else?

    PYTHONPATH=. python benchmarks/bench_stall.py [--rows 1000000] [--rate 20]

Starts `mockserver serve --lifecycle instant --rows N` on a free loopback port,
creates a voucher export ordered by `code`, and downloads it while another
client sends GET /__mock/health `--rate` times a second. Prints the download's
time and rows/s, the p50/p99/max latency of the health requests sent while it
ran (and of the same requests with no download, for comparison), and the
server's peak RSS (VmHWM). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import free_port, serve_command, wait_for  # noqa: E402  (one copy of the server helpers)

AUTH = {"X-App-Id": "bench", "X-App-Token": "bench-token"}


def vm_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def health_latencies(session: aiohttp.ClientSession, base: str, rate: float, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(base + "/__mock/health") as reply:
            await reply.read()
            assert reply.status == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))
    return latencies


async def run(base: str, rows: int, rate: float, pid: int) -> None:
    async with aiohttp.ClientSession() as session:
        stop = asyncio.Event()
        idle = asyncio.create_task(health_latencies(session, base, rate, stop))
        await asyncio.sleep(3)
        stop.set()
        idle_latencies = await idle

        body = {"exported_object": "voucher", "parameters": {"order": "code"}}
        async with session.post(base + "/v1/exports", json=body, headers=AUTH) as reply:
            created = await reply.json()
        async with session.get(f"{base}/v1/exports/{created['id']}", headers=AUTH) as reply:
            export = await reply.json()
        url = export["result"]["url"]
        rss_before = vm_kib(pid, "VmRSS")
        stop = asyncio.Event()
        during = asyncio.create_task(health_latencies(session, base, rate, stop))
        started = time.perf_counter()
        size = lines = 0
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=None)) as reply:
            async for chunk in reply.content.iter_chunked(1 << 16):
                size += len(chunk)
                lines += chunk.count(b"\n")
        took = time.perf_counter() - started
        stop.set()
        latencies = await during

    def ms(value: float) -> str:
        return f"{value * 1000:.1f} ms"

    print(f"download: {lines - 1:,} rows, {size / 2**20:.0f} MiB in {took:.1f} s ({(lines - 1) / took:,.0f} rows/s)")
    print(
        f"health with no download:   n={len(idle_latencies)}  p50 {ms(statistics.median(idle_latencies))}  "
        f"p99 {ms(percentile(idle_latencies, 0.99))}  max {ms(max(idle_latencies))}"
    )
    print(
        f"health during the download: n={len(latencies)}  p50 {ms(statistics.median(latencies))}  "
        f"p99 {ms(percentile(latencies, 0.99))}  max {ms(max(latencies))}"
    )
    peak = vm_kib(pid, "VmHWM") / 1024
    print(f"server RSS: {rss_before / 1024:.0f} MiB before the download, peak (VmHWM) {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=20, help="health requests per second")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        serve_command(port, "--lifecycle", "instant", "--rows", str(args.rows), "--app", "bench:bench-token"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(port, 60)
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        asyncio.run(run(base, args.rows, args.rate, server.pid))
    finally:
        server.terminate()  # by pid: the server this script started
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
