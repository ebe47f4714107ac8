"""Writers of several processes sharing one SQLite store, as `mockserver serve --workers N` shares its file:
each process runs C creates at a time (a create keeping the app's newest 1,000, as `POST /v1/exports`
does) for D seconds. Prints, per process, the creates done, their latency (p50, p99, max) and the
longest stretch in which that process committed nothing while another did: a writer starved of
SQLite's lock shows as a long stall and a p99 far above the other's.

    PYTHONPATH=. python benchmarks/bench_sqlite_writers.py --processes 2 --concurrency 16 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

from mockserver.sqlite_store import SqliteStore
from mockserver.store import Tenant

TENANT = Tenant("voucherify", "bench")
RECORD = {"object": "export", "status": "SCHEDULED", "exported_object": "order", "parameters": {"fields": ["id"]}}


async def _write(path: str, index: int, concurrency: int, start: float, seconds: float) -> dict:
    store = SqliteStore(path, durable=False)
    latencies: list[float] = []
    commits: list[float] = []  # when each create returned (monotonic; comparable across processes)
    stop = start + seconds

    async def creator(lane: int) -> None:
        number = 0
        while time.monotonic() < stop:
            began = time.monotonic()
            await store.add(TENANT, "exports", f"p{index}-{lane}-{number}", RECORD, keep=1000)
            ended = time.monotonic()
            latencies.append(ended - began)
            commits.append(ended)
            number += 1

    while time.monotonic() < start:
        await asyncio.sleep(start - time.monotonic())
    cpu = time.process_time()
    await asyncio.gather(*(creator(lane) for lane in range(concurrency)))
    cpu = time.process_time() - cpu
    await store.close()
    return {"latencies": latencies, "commits": commits, "cpu": cpu}


def _process(path: str, index: int, concurrency: int, start: float, seconds: float, results) -> None:
    results.put((index, asyncio.run(_write(path, index, concurrency, start, seconds))))


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="creates at a time in each process (16)")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="mockserver-bench-") as folder:
        path = str(Path(folder) / "state.db")
        SqliteStore(path, durable=False)  # the tables, once
        results = context.Queue()
        start = time.monotonic() + 1.0
        children = [
            context.Process(target=_process, args=(path, index, args.concurrency, start, args.seconds, results))
            for index in range(args.processes)
        ]
        for child in children:
            child.start()
        outcome = dict(results.get() for _ in children)
        for child in children:
            child.join()
    print(
        f"{args.processes} processes x {args.concurrency} creates at a time, {args.seconds:g} s, load average "
        + " ".join(f"{value:.1f}" for value in os.getloadavg())
    )
    everyone = sorted(moment for result in outcome.values() for moment in result["commits"])
    total = 0
    for index, result in sorted(outcome.items()):
        latencies, commits = result["latencies"], sorted(result["commits"])
        total += len(latencies)
        # the longest time this process went without a create returning while the others' did
        edges = [start, *commits, min(start + args.seconds, everyone[-1] if everyone else start)]
        stall = max(b - a for a, b in zip(edges, edges[1:]))
        print(
            f"  process {index}: {len(latencies):6d} creates ({len(latencies) / args.seconds:6.0f}/s)  "
            f"p50 {_quantile(latencies, 0.5) * 1000:7.1f} ms  p99 {_quantile(latencies, 0.99) * 1000:7.1f} ms  "
            f"max {max(latencies, default=0) * 1000:7.1f} ms  longest stall {stall * 1000:7.1f} ms  "
            f"CPU {result['cpu'] / max(1, len(latencies)) * 1e6:5.0f} µs/create"
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"  all: {total / args.seconds:.0f} creates/s; peak RSS {peak} MiB")


if __name__ == "__main__":
    main()
