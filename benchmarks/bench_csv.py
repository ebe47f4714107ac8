"""Rows per second and peak RSS for 1,000,000 order rows with every order field, against a csv.writer loop.

    python benchmarks/bench_csv.py [--rows N] [--skip-http] [--skip-sorted]

csv.writer: the yardstick, measured in the same run: a plain `csv.writer`
loop writing the same number of constant rows (as many fields, 20-character
cells) to a StringIO emptied every 64 KiB.
offline: `mockserver generate order` in a subprocess writing to /dev/null;
peak RSS is the child's ru_maxrss.
sorted: the same for vouchers ordered by `code` (a key that does not follow
the row index; see ordering.py's ranked strategy).
http: `mockserver serve` in a subprocess on 127.0.0.1 (instant lifecycle);
create an order export with all fields, read result.url, stream the download;
peak RSS is the server's VmHWM. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import free_port, peak_rss_mib, wait_for  # noqa: E402  (one copy of the server helpers)

from mockserver.data import load_model  # noqa: E402
from mockserver.spec import load_spec  # noqa: E402

FIELDS = list(load_model(load_spec("voucherify")).objects["order"].fields)
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def writer_loop(rows: int) -> float:
    """Rows per second of a constant-row csv.writer loop (the yardstick)."""
    row = ["x" * 20] * len(FIELDS)
    out = io.StringIO()
    write = csv.writer(out).writerow
    start = time.perf_counter()
    for _ in range(rows):
        write(row)
        if out.tell() > 65536:
            out.seek(0)
            out.truncate()
    rate = rows / (time.perf_counter() - start)
    print(f"{'csv.writer':10s} {rows:>9,} constant rows, {len(FIELDS)} fields:        {rate:>9,.0f} rows/s")
    return rate


def offline(rows: int, yardstick: float, obj: str = "order", order: str | None = None) -> None:
    command = [sys.executable, "-m", "mockserver", "generate", obj, "--rows", str(rows), "-o", os.devnull]
    command += ["--fields", ",".join(FIELDS)] if obj == "order" else []
    command += [f"--order={order}"] if order else []
    start = time.perf_counter()
    child = subprocess.Popen(command, env=ENV, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"generate failed with status {status}")
    report("offline" if order is None else f"by {order}", rows, elapsed, usage.ru_maxrss / 1024, yardstick,
           what=obj)


def http_download(rows: int, yardstick: float) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--rows", str(rows), "--lifecycle", "instant"],
                              env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        headers = {"X-App-Id": "bench", "X-App-Token": "bench-token", "Content-Type": "application/json"}
        body = json.dumps({"exported_object": "order", "parameters": {"fields": FIELDS}})
        export = request(port, "POST", "/v1/exports", body, headers)
        done = request(port, "GET", f"/v1/exports/{export['id']}", None, headers)
        url = urllib.parse.urlsplit(done["result"]["url"])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        start = time.perf_counter()
        connection.request("GET", f"{url.path}?{url.query}", headers=headers)
        response = connection.getresponse()
        lines = size = 0
        while chunk := response.read(256 * 1024):
            lines += chunk.count(b"\n")
            size += len(chunk)
        elapsed = time.perf_counter() - start
        if response.status != 200 or lines != rows + 1:
            raise SystemExit(f"download: status {response.status}, {lines} lines")
        report("http", rows, elapsed, peak_rss_mib(server.pid), yardstick, size)
    finally:
        server.terminate()
        server.wait(timeout=30)


def request(port: int, method: str, path: str, body: str | None, headers: dict) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    if response.status != 200:
        raise SystemExit(f"{method} {path}: {response.status} {payload[:300]!r}")
    return json.loads(payload)








def report(mode: str, rows: int, seconds: float, rss_mib: float, yardstick: float, size: int | None = None,
           what: str = "order") -> None:
    extra = f", {size / 2**20:.0f} MiB" if size else ""
    fields = f"{len(FIELDS)} fields" if what == "order" else "defaults"
    print(f"{mode:10s} {rows:>9,} {what} rows, {fields}: {seconds:6.2f} s, {rows / seconds:>9,.0f} rows/s "
          f"({rows / seconds / yardstick:.2f}× csv.writer), peak RSS {rss_mib:.0f} MiB{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-sorted", action="store_true")
    args = parser.parse_args()
    yardstick = writer_loop(args.rows)
    offline(args.rows, yardstick)
    if not args.skip_http:
        http_download(args.rows, yardstick)
    if not args.skip_sorted:
        offline(args.rows, yardstick, "voucher", "code")


if __name__ == "__main__":
    main()
