"""Rows per second and peak RSS for 1,000,000 order rows with every order field, against csv.writer yardsticks.

    python benchmarks/bench_csv.py [--rows N] [--skip-http] [--skip-sorted] [--skip-process]

writerows: the yardstick, measured in the same run: `csv.writer.writerows`
of 1,000 prebuilt rows of the 13 order fields (the first 1,000 rows the mock
generates, parsed back into lists of strings), repeated rows ÷ 1,000 times into
/dev/null. Every ratio in the output is to this one.
csv.writer: the older, weaker yardstick, printed beside it: one `writerow` call per
row of constant 20-character cells, into a StringIO emptied every 64 KiB.
process: `mockserver generate order --rows 200000` to /dev/null as a whole
process, start-up included (default fields), against the writerows yardstick.
Every child runs as an installed package does, from bytecode caches (an untimed
one-row `generate` first writes them, whatever PYTHONDONTWRITEBYTECODE says).
offline: `mockserver generate order` in a subprocess writing to /dev/null;
peak RSS is the child's ru_maxrss.
sorted: the same for vouchers ordered by `code` (a key that does not follow
the row index; see ordering.py's ranked strategy).
http: `mockserver serve` in a subprocess on 127.0.0.1 (instant lifecycle);
create an order export with all fields, read result.url, stream the download;
peak RSS is the server's VmHWM. Each rate is also given per CPU second (the
child's user and system time; the server's during the download) against the
yardstick's: on a shared machine the clock ratio swings with the other jobs.
Prints figures; asserts nothing.
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
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import free_port, peak_rss_mib, serve_command, wait_for  # noqa: E402  (one copy of the server helpers)

from mockserver.data import load_model  # noqa: E402
from mockserver.spec import load_spec  # noqa: E402

FIELDS = list(load_model(load_spec("voucherify")).objects["order"].fields)
# the children keep compiled bytecode as an installed package does: with PYTHONDONTWRITEBYTECODE (set on some
# machines) every `generate` would compile mockserver's modules from source again, a start-up no user has
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONPATH": str(ROOT)}


class Yardstick(NamedTuple):
    rate: float  # rows per second
    cpu_rate: float  # rows per CPU second (of this single-threaded loop)


def writerows_yardstick(rows: int) -> Yardstick:
    """Rows per second of csv.writer.writerows over 1,000 prebuilt order rows, to /dev/null (the yardstick)."""
    from mockserver.data import ExportQuery, iter_csv
    from mockserver.registry import available

    model = load_model(load_spec("voucherify"), available()["voucherify"].data_recipes)
    text = b"".join(
        iter_csv(model, ExportQuery("order", tuple(FIELDS), rows=1000), seed=0, app_id="bench", now=time.time())
    ).decode()
    prebuilt = list(csv.reader(io.StringIO(text)))[1:]
    repeats = max(1, rows // len(prebuilt))
    with open(os.devnull, "w", newline="") as sink:
        writerows = csv.writer(sink).writerows
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            writerows(prebuilt)
        rate = repeats * len(prebuilt) / (time.perf_counter() - start)
        cpu_rate = repeats * len(prebuilt) / (time.process_time() - cpu)
    print(
        f"{'writerows':10s} {repeats * len(prebuilt):>9,} prebuilt rows, {len(FIELDS)} fields:      "
        f"{rate:>9,.0f} rows/s, {cpu_rate:,.0f} per CPU second (load average {os.getloadavg()[0]:.1f})"
    )
    return Yardstick(rate, cpu_rate)


def writer_loop(rows: int) -> float:
    """Rows per second of a constant-row csv.writer loop (the older, weaker yardstick)."""
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


def offline(rows: int, yardstick: Yardstick, obj: str = "order", order: str | None = None) -> None:
    command = [sys.executable, "-m", "mockserver", "generate", obj, "--rows", str(rows), "-o", os.devnull]
    command += ["--fields", ",".join(FIELDS)] if obj == "order" else []
    command += [f"--order={order}"] if order else []
    elapsed, cpu, peak_mib = run_generate(command)
    report("offline" if order is None else f"by {order}", rows, elapsed, cpu, peak_mib, yardstick, what=obj)


def run_generate(command: list[str]) -> tuple[float, float, float]:
    """Seconds a `mockserver generate` child took, start to exit, its CPU seconds and its peak RSS in MiB."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env=ENV, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"generate failed with status {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def whole_process(rows: int, yardstick: Yardstick) -> None:
    """`mockserver generate order --rows N` to /dev/null, start-up included."""
    command = [sys.executable, "-m", "mockserver", "generate", "order", "--rows", str(rows), "-o", os.devnull]
    elapsed, cpu, peak_mib = run_generate(command)
    print(
        f"{'process':10s} {rows:>9,} order rows, defaults: {elapsed:6.2f} s, {rows / elapsed:>9,.0f} rows/s "
        f"({rows / elapsed / yardstick.rate:.2f}× writerows; CPU {cpu:.2f} s, "
        f"{rows / cpu / yardstick.cpu_rate:.2f}× per CPU second), peak RSS {peak_mib:.0f} MiB, start-up included"
    )


def http_download(rows: int, yardstick: Yardstick) -> None:
    port = free_port()
    server = subprocess.Popen(
        serve_command(port, "--rows", str(rows), "--lifecycle", "instant"),
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        headers = {"X-App-Id": "bench", "X-App-Token": "bench-token", "Content-Type": "application/json"}
        body = json.dumps({"exported_object": "order", "parameters": {"fields": FIELDS}})
        export = request(port, "POST", "/v1/exports", body, headers)
        done = request(port, "GET", f"/v1/exports/{export['id']}", None, headers)
        url = urllib.parse.urlsplit(done["result"]["url"])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        start, cpu = time.perf_counter(), cpu_seconds(server.pid)
        connection.request("GET", f"{url.path}?{url.query}", headers=headers)
        response = connection.getresponse()
        lines = size = 0
        while chunk := response.read(256 * 1024):
            lines += chunk.count(b"\n")
            size += len(chunk)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(server.pid) - cpu
        if response.status != 200 or lines != rows + 1:
            raise SystemExit(f"download: status {response.status}, {lines} lines")
        report("http", rows, elapsed, cpu, peak_rss_mib(server.pid), yardstick, size)
    finally:
        server.terminate()
        server.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(port: int, method: str, path: str, body: str | None, headers: dict) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    if response.status != 200:
        raise SystemExit(f"{method} {path}: {response.status} {payload[:300]!r}")
    return json.loads(payload)


def report(
    mode: str,
    rows: int,
    seconds: float,
    cpu: float,
    rss_mib: float,
    yardstick: Yardstick,
    size: int | None = None,
    what: str = "order",
) -> None:
    """A line of figures: the rate against the yardstick's, by the clock and per CPU second (on a loaded
    machine the clock ratio swings with the other jobs; the CPU one much less)."""
    extra = f", {size / 2**20:.0f} MiB" if size else ""
    fields = f"{len(FIELDS)} fields" if what == "order" else "defaults"
    print(
        f"{mode:10s} {rows:>9,} {what} rows, {fields}: {seconds:6.2f} s, {rows / seconds:>9,.0f} rows/s "
        f"({rows / seconds / yardstick.rate:.2f}× writerows; CPU {cpu:.2f} s, "
        f"{rows / cpu / yardstick.cpu_rate:.2f}× per CPU second), peak RSS {rss_mib:.0f} MiB{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-sorted", action="store_true")
    parser.add_argument("--skip-process", action="store_true")
    args = parser.parse_args()
    run_generate([sys.executable, "-m", "mockserver", "generate", "order", "--rows", "1", "-o", os.devnull])
    yardstick = writerows_yardstick(args.rows)
    weak = writer_loop(args.rows)
    print(f"{'':10s} (the one-writerow-a-row yardstick is {weak / yardstick.rate:.2f}× the writerows one)")
    offline(args.rows, yardstick)
    if not args.skip_http:
        http_download(args.rows, yardstick)
    if not args.skip_sorted:
        offline(args.rows, yardstick, "voucher", "code")
    if not args.skip_process:
        whole_process(200_000, yardstick)


if __name__ == "__main__":
    main()
