"""Lists that do not slow down with history.

    PYTHONPATH=. python benchmarks/bench_list.py [--duration 5] [--connections 8] [--state memory|sqlite|redis URL]

For 10, 1,000 and 10,000 stored exports of one app, req/s and p50/p99 of
GET /v1/exports (a page of 10, newest first; and `order=status`) against
`mockserver serve --lifecycle time` (exports stay SCHEDULED/IN_PROGRESS for
3 s, so the lifecycle's catching-up runs too), side by side with the bare
aiohttp handler (`--serve-bare`, in this file: credentials, a dict of the
exports in order of creation, the newest page sliced off its end, json.dumps).
Load from `wrk` (else bench_http's Python generator). Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import (  # noqa: E402
    APP_ID,
    APP_TOKEN,
    VALID,
    Scenario,
    Target,
    free_port,
    http,
    run_python_generator,
    run_wrk,
    serve_command,
    start,
    stop,
)

SIZES = (10, 1_000, 10_000)


def fill(port: int, count: int) -> None:
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: http(port, "POST", "/v1/exports", VALID)[0], range(count)))
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} creates failed (first status {bad[0]})")


def serve_bare(port: int) -> None:
    import itertools
    import json

    from aiohttp import web

    store: dict[str, dict] = {}
    ids = itertools.count()

    def authorised(request: web.Request) -> bool:
        return request.headers.get("X-App-Id") == APP_ID and request.headers.get("X-App-Token") == APP_TOKEN

    async def create(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"code": 401}, status=401)
        body = await request.json()
        record = {
            "id": f"exp_{next(ids)}",
            "object": "export",
            "created_at": time.time(),
            "status": "SCHEDULED",
            "channel": "API",
            "exported_object": body["exported_object"],
            "parameters": body["parameters"],
            "result": None,
            "user_id": None,
        }
        store[record["id"]] = record
        return web.json_response(record)

    async def listing(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"code": 401}, status=401)
        limit, page = int(request.query.get("limit", "10")), int(request.query.get("page", "1"))
        keys = list(reversed(store))[(page - 1) * limit : page * limit]  # newest first
        return web.Response(
            text=json.dumps(
                {"object": "list", "data_ref": "exports", "exports": [store[k] for k in keys], "total": len(store)}
            ),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_post("/v1/exports", create)
    app.router.add_get("/v1/exports", listing)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--state", default="memory", help="memory, sqlite or a redis:// URL")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        return serve_bare(args.serve_bare)
    wrk = shutil.which("wrk")
    folder = Path(tempfile.mkdtemp(prefix="mockserver-bench-list-"))
    rows = []
    catch_up: dict[int, float] = {}
    for size in SIZES:
        port = free_port()
        command = serve_command(
            port, "--lifecycle", "time", "--app", f"{APP_ID}:{APP_TOKEN}", "--max-exports", str(max(SIZES))
        )
        if args.state == "sqlite":
            command += ["--state", str(folder / f"state-{size}.db")]
        elif args.state != "memory":
            command += ["--state", args.state + ("&" if "?" in args.state else "?") + f"prefix=bench{size}:"]
        bare_port = free_port()
        targets = [
            Target("mockserver", command, port),
            Target("bare aiohttp", [sys.executable, __file__, "--serve-bare", str(bare_port)], bare_port),
        ]
        for target in targets:
            start(target)
            try:
                fill(target.port, size)
                if target.name == "mockserver":  # every export finished by the clock (3 s); the first list
                    time.sleep(3.5)  # moves them on, once each: its time is printed, then lists are steady
                    began = time.perf_counter()
                    http(target.port, "GET", "/v1/exports?limit=10")
                    catch_up[size] = time.perf_counter() - began
                for order in ("-created_at", "-status"):
                    if target.name == "bare aiohttp" and order == "-status":
                        continue  # the bare handler has one order
                    path = f"/v1/exports?limit=10&order={order}"
                    scenario = Scenario(f"list {order}", "GET", path, None, (200,))
                    load = (
                        run_wrk(wrk, target.port, scenario, path, args.duration, args.connections, folder)
                        if wrk
                        else run_python_generator(target.port, scenario, path, args.duration, args.connections)
                    )
                    rows.append((size, target.name, order, load))
            finally:
                stop(target)
    print(
        f"GET /v1/exports (page of 10), {args.connections} connections, {args.duration:.0f} s each, "
        f"store {args.state}, load from {'wrk' if wrk else 'the Python generator'}"
    )
    print(f"{'stored':>7}  {'server':<13} {'order':<12} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
    bare = {size: load.rps for size, name, _, load in rows if name == "bare aiohttp"}
    for size, name, order, load in rows:
        ratio = f"  ({load.rps / bare[size]:.2f}× bare)" if name == "mockserver" and bare.get(size) else ""
        print(
            f"{size:>7,}  {name:<13} {order:<12} {load.rps:>8,.0f} {load.p50_ms:>7.2f} {load.p99_ms:>7.2f} "
            f"{load.errors:>6}{ratio}"
        )
    print(
        "first list after the clock finished every export (each is moved on and saved once): "
        + ", ".join(f"{size:,} stored {seconds * 1000:.0f} ms" for size, seconds in catch_up.items())
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
