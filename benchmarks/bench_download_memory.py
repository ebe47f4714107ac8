"""Where a server's memory goes for a 1,000,000-row order download: RSS by import, then by stage.

    PYTHONPATH=. python benchmarks/bench_download_memory.py [--rows N] [--runs N] [--env KEY=VALUE]
        [--compare DIR]

imports: a fresh interpreter imports what `serve` and its data engine load, one module after the
other, and prints what each adds to its RSS (a module's share of what later ones also need is counted
where it was first imported).
download: `mockserver serve` in a subprocess (instant lifecycle). Its RSS when it listens, once an
export is created (the data engine is imported then, in a background thread), and while the file of
every order field streams to this process: sampled every 10 ms, the median and the peak, split into
anonymous memory (the heap, arenas, thread stacks) and file pages (shared libraries' code read so far:
polars' grows with what the rows need), with the server's threads. Peak RSS is VmHWM, as bench_csv.py
reports it. `--env` sets a variable for the server (e.g. POLARS_MAX_THREADS=1, GLIBC_TUNABLES=...);
`--compare DIR` runs another checkout's server the same way, the two alternating.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_csv import FIELDS, cpu_seconds, request  # noqa: E402  (one copy of the helpers)
from bench_http import free_port, serve_command, wait_for  # noqa: E402

IMPORTS = ("aiohttp", "jsonschema_rs", "jsonschema", "mockserver.app", "faker", "numpy", "polars")
KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads")


def status(pid: int | str = "self") -> dict[str, float]:
    """/proc/PID/status memory lines in MiB (Threads as a count)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in KEYS:
            found[key] = int(value.split()[0]) / (1 if key == "Threads" else 1024)
    return found


IMPORTING = """
import sys
def rss():
    lines = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return [int(lines[key].split()[0]) / 1024 for key in ("VmRSS", "RssAnon", "RssFile")]
before = rss()
print(f"  {'(interpreter)':16s}        (RSS {before[0]:5.1f}, anon {before[1]:5.1f}, file {before[2]:5.1f})")
for name in sys.argv[1:]:
    __import__(name)
    now = rss()
    print(f"  {name:16s} +{now[0] - before[0]:5.1f} MiB (RSS {now[0]:5.1f}, anon {now[1]:5.1f}, file {now[2]:5.1f})")
    before = now
"""


def by_import(root: Path) -> None:
    print(f"imports, in this order ({root}):")
    command = [sys.executable, "-c", IMPORTING, *IMPORTS]
    subprocess.run(command, env={**os.environ, "PYTHONPATH": str(root)}, check=True)


def download(root: Path, rows: int, env: dict[str, str]) -> str:
    """One server, one download: a line of figures."""
    port = free_port()
    server = subprocess.Popen(
        serve_command(port, "--rows", str(rows), "--lifecycle", "instant"),
        env={**os.environ, "PYTHONPATH": str(root), **env},
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        listening = status(server.pid)
        headers = {"X-App-Id": "bench", "X-App-Token": "bench-token", "Content-Type": "application/json"}
        body = json.dumps({"exported_object": "order", "parameters": {"fields": FIELDS}})
        export = request(port, "POST", "/v1/exports", body, headers)
        done = request(port, "GET", f"/v1/exports/{export['id']}", None, headers)
        time.sleep(2)  # the engine's background import (data.warm) is done by then
        created = status(server.pid)
        url = urllib.parse.urlsplit(done["result"]["url"])
        samples, stop = [], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(status(server.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        start, cpu = time.perf_counter(), cpu_seconds(server.pid)
        connection.request("GET", f"{url.path}?{url.query}", headers=headers)
        response = connection.getresponse()
        lines = 0
        while chunk := response.read(256 * 1024):
            lines += chunk.count(b"\n")
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(server.pid) - cpu
        stop.set()
        sampler.join()
        if lines != rows + 1:
            raise SystemExit(f"download: {lines} lines")
        task = Path(f"/proc/{server.pid}/task")
        names = collections.Counter((task / t / "comm").read_text().strip() for t in os.listdir(task))
        peak = status(server.pid)["VmHWM"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    steady = {key: statistics.median(s[key] for s in samples) for key in ("VmRSS", "RssAnon", "RssFile")}
    top = max(samples, key=lambda s: s["VmRSS"])
    return (
        f"listening {listening['VmRSS']:.0f} MiB; export created (engine loaded) {created['VmRSS']:.0f} "
        f"(anon {created['RssAnon']:.0f}, file {created['RssFile']:.0f}); downloading: median "
        f"{steady['VmRSS']:.0f} (anon {steady['RssAnon']:.0f}, file {steady['RssFile']:.0f}), sampled top "
        f"{top['VmRSS']:.0f} (anon {top['RssAnon']:.0f}, file {top['RssFile']:.0f}), peak RSS {peak:.1f} MiB; "
        f"{rows / elapsed:,.0f} rows/s, server CPU {cpu:.2f} s; {sum(names.values())} threads "
        f"({', '.join(f'{name} {count}' for name, count in names.most_common())})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout, run alternately")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    trees = [ROOT] + ([args.compare.resolve()] if args.compare else [])
    for tree in trees:
        by_import(tree)
    for run in range(1, args.runs + 1):
        for tree in trees:
            label = f" {tree}" if args.compare else ""
            print(f"run {run}{label}: {download(tree, args.rows, env)} (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
