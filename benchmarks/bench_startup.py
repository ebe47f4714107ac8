"""Start-up: how long a user waits for `mockserver --help`, each command's `--help` and `serve`'s first answer.

    PYTHONPATH=. python benchmarks/bench_startup.py [--runs 5] [--root DIR]

For the top level and each command: the wall time of `mockserver [COMMAND] --help` (the fastest and
the median of `--runs` runs) and which heavy libraries it imported (read from `python -X importtime`
in one more run: the data engine's polars, numpy and faker, aiohttp, schemathesis). Then what
`import mockserver.app` costs (self-reported by -X importtime), and `serve` (every bundled vendor,
default settings) from spawning the process to its first answered request, as bench_http.py's start-up
row measures it. `--root` measures another checkout (e.g. an old commit in a worktree) with this script.
Prints figures; asserts nothing. The CPU other processes used meanwhile is printed, since a shared
machine stretches every figure here.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import APP_ID, APP_TOKEN, Target, free_port, machine_busy_seconds, start, stop  # noqa: E402

COMMANDS = ("", "serve", "contract", "proxy", "generate", "bundle")
HEAVY = ("polars", "numpy", "faker", "aiohttp", "schemathesis")


def imported(root: Path, argv: list[str]) -> tuple[dict[str, int], str]:
    """Module → cumulative import µs (python -X importtime), and the process's stderr."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], cwd=root, env=_env(root), capture_output=True, text=True
    )
    modules = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)", line)
        if found:
            modules[found.group(2)] = int(found.group(1))
    return modules, done.stderr


def wall(root: Path, argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, *argv], cwd=root, env=_env(root), capture_output=True, check=True)
        times.append(time.perf_counter() - began)
    return times


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    args = parser.parse_args()
    root = args.root.resolve()
    began, busy = time.monotonic(), machine_busy_seconds()
    print(f"{'command':28s} {'fastest':>8s} {'median':>8s}  heavy imports")
    for command in COMMANDS:
        argv = ["-m", "mockserver", *([command] if command else []), "--help"]
        times = wall(root, argv, args.runs)
        modules, _ = imported(root, argv)
        heavy = ", ".join(name for name in HEAVY if name in modules) or "none"
        label = f"mockserver {command} --help".replace("  ", " ")
        print(f"{label:28s} {min(times):7.2f}s {statistics.median(times):7.2f}s  {heavy}")
    modules, _ = imported(root, ["-c", "import mockserver.app"])
    parts = ", ".join(f"{name} {modules[name] / 1000:.0f} ms" for name in HEAVY if name in modules)
    print(f"import mockserver.app: {modules['mockserver.app'] / 1000:.0f} ms ({parts or 'no heavy library'})")
    startups = []
    for _ in range(args.runs):
        port = free_port()
        target = Target(
            "mockserver",
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--app", f"{APP_ID}:{APP_TOKEN}"],
            port,
            cwd=root,
            env=_env(root),
        )
        try:
            startups.append(start(target))
        finally:
            stop(target)
    print(
        f"serve, spawn to first answer (GET /v1/exports): fastest {min(startups):.2f} s, "
        f"median {statistics.median(startups):.2f} s"
    )
    other = max(0.0, machine_busy_seconds() - busy) / (time.monotonic() - began)
    print(f"(all processes on the machine used {other:.1f} cores meanwhile, this script's children included)")


if __name__ == "__main__":
    main()
