"""Start-up: how long a user waits for `mockserver --help`, each command's `--help` and `serve`'s first answer.

    PYTHONPATH=. python benchmarks/bench_startup.py [--runs 5] [--compare DIR]

For the top level and each command: `mockserver [COMMAND] --help`, its wall time and the CPU time the
process used (the fastest and the median of `--runs` runs), and which heavy libraries it imported (read
from `python -X importtime` in one more run: the data engine's numpy, polars and faker, aiohttp,
schemathesis). Then what `import mockserver.app` costs (as -X importtime reports it), and `serve` (every
bundled vendor, default settings) from spawning the process to its first answered request
(GET /v1/exports), as bench_http.py's start-up row measures it, with the CPU the server used until then.
On a shared machine the wall times stretch with the other processes' load; the CPU times much less, so
both are printed, and the CPU the whole machine used meanwhile.

`--compare DIR` measures another checkout too (e.g. `git archive <commit> | tar -x -C DIR`), run for run
interleaved with this one, so both see the same load. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import (  # noqa: E402  (one copy of the server helpers)
    APP_ID,
    APP_TOKEN,
    Target,
    cpu_seconds,
    free_port,
    machine_busy_seconds,
    python_env,
    start,
    stop,
)

COMMANDS = ("", "serve", "contract", "proxy", "generate", "bundle")
HEAVY = ("numpy", "polars", "faker", "aiohttp", "schemathesis")


def imported(root: Path, argv: list[str]) -> dict[str, int]:
    """Module → cumulative import µs (python -X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], cwd=root, env=python_env(root), capture_output=True, text=True
    )
    found = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| +(\S+)$", done.stderr, re.M)
    return {name: int(micros) for micros, name in found}


def run_once(root: Path, argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one `python ARGV` in `root`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run([sys.executable, *argv], cwd=root, env=python_env(root), capture_output=True, check=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def serve_once(root: Path) -> tuple[float, float]:
    """Wall seconds from spawning `serve` to its first answer, and the CPU seconds it used until then."""
    port = free_port()
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--app", f"{APP_ID}:{APP_TOKEN}"]
    target = Target("mockserver", command, port, cwd=root, env=python_env(root))
    try:
        wall = start(target)
        return wall, cpu_seconds(target.process.pid)
    finally:
        stop(target)


def figure(pairs: list[tuple[float, float]]) -> str:
    walls, cpus = [p[0] for p in pairs], [p[1] for p in pairs]
    return (
        f"wall {min(walls):5.2f} s (median {statistics.median(walls):5.2f})  "
        f"CPU {min(cpus):5.2f} s (median {statistics.median(cpus):5.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--compare", type=Path, help="another checkout, measured interleaved with this one")
    args = parser.parse_args()
    roots = {"this tree": ROOT, **({f"{args.compare}": args.compare.resolve()} if args.compare else {})}
    began, busy = time.monotonic(), machine_busy_seconds()
    for command in COMMANDS:
        argv = ["-m", "mockserver", *([command] if command else []), "--help"]
        runs: dict[str, list] = {name: [] for name in roots}
        for _ in range(args.runs):
            for name, root in roots.items():
                runs[name].append(run_once(root, argv))
        for name, root in roots.items():
            heavy = ", ".join(lib for lib in HEAVY if lib in imported(root, argv)) or "none"
            label = " ".join(["mockserver", *([command] if command else []), "--help"])
            print(f"{label:28s} {figure(runs[name])}  imports {heavy}  [{name}]", flush=True)
    for name, root in roots.items():
        modules = imported(root, ["-c", "import mockserver.app"])
        parts = ", ".join(f"{lib} {modules[lib] / 1000:.0f} ms" for lib in HEAVY if lib in modules)
        print(f"import mockserver.app: {modules['mockserver.app'] / 1000:.0f} ms, of which {parts}  [{name}]")
    served: dict[str, list] = {name: [] for name in roots}
    for _ in range(args.runs):
        for name, root in roots.items():
            served[name].append(serve_once(root))
    for name in roots:
        print(f"serve, spawn to first answer: {figure(served[name])}  [{name}]")
    other = max(0.0, machine_busy_seconds() - busy) / (time.monotonic() - began)
    print(f"(the machine's processes, this script's included, used {other:.1f} cores meanwhile)")


if __name__ == "__main__":
    main()
