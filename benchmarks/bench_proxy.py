"""What does a large download cost the proxy?

    PYTHONPATH=. python benchmarks/bench_proxy.py [--rows 1000000]

Starts `mockserver serve --lifecycle instant` as the upstream and `mockserver
proxy --upstream …` in front of it, both on free loopback ports, creates an
order export of `--rows` rows and downloads its CSV through the proxy. Prints
the file's size, the time, and the proxy's RSS before the download and its
peak (VmHWM) after: a proxy that holds answers whole grows by the file's size
and more. Prints figures; asserts nothing. About 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import free_port, wait_for  # noqa: E402  (one copy of the server helpers)
from bench_stall import vm_kib  # noqa: E402

AUTH = {"X-App-Id": "bench", "X-App-Token": "bench-token", "Content-Type": "application/json"}


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body else None, headers=headers or {}
    )
    with urllib.request.urlopen(request, timeout=600) as reply:
        return json.loads(reply.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    upstream_port, proxy_port = free_port(), free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": {**os.environ}}
    upstream = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(upstream_port), "--lifecycle", "instant"], **quiet
    )
    proxy = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "proxy",
            "--upstream",
            f"http://127.0.0.1:{upstream_port}",
            "--port",
            str(proxy_port),
        ],
        **quiet,
    )
    try:
        wait_for(upstream_port, 60)
        wait_for(proxy_port, 60)
        base = f"http://127.0.0.1:{proxy_port}"
        created = call(
            "POST", base + "/v1/exports", {"exported_object": "order"}, {**AUTH, "Prefer": f"rows={args.rows}"}
        )
        url = call("GET", f"{base}/v1/exports/{created['id']}", headers=AUTH)["result"]["url"]
        url = base + url[url.index("/v1/") :]  # through the proxy, not straight to the upstream
        before = vm_kib(proxy.pid, "VmRSS")
        started = time.perf_counter()
        size = 0
        with urllib.request.urlopen(url, timeout=600) as reply:
            while chunk := reply.read(1 << 16):
                size += len(chunk)
        took = time.perf_counter() - started
        peak = vm_kib(proxy.pid, "VmHWM")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"download through the proxy: {size / 1e6:.1f} MB ({args.rows:,} rows) in {took:.1f} s")
        print(
            f"proxy RSS: {before / 1024:.0f} MiB before, peak (VmHWM) {peak / 1024:.0f} MiB "
            f"(+{(peak - before) / 1024:.0f} MiB)"
        )
    finally:
        for process in (proxy, upstream):  # by pid: the servers this script started
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
