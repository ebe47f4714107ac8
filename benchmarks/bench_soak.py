"""Soak and faults: many clients for a minute, a worker killed in the
middle, and the whole server killed at random moments. Prints figures; asserts
nothing.

    PYTHONPATH=. python benchmarks/bench_soak.py [--clients 200] [--seconds 60] [--kills 50]

1. Soak: `mockserver serve --workers 2 --state FILE --lifecycle instant` and
   `--clients` concurrent clients over 8 app ids, each looping create → get
   (instant: the first get finds it done) → download → delete for `--seconds`.
   Every tenth journey keeps its export (no delete), so something stays to be
   lost. Halfway, one worker is killed with SIGKILL; the supervisor must start
   another. Afterwards every app's exports are listed and compared with what
   the clients were told: lost (kept but not listed), duplicated (listed twice)
   and resurrected (deleted but listed). RSS of each process is sampled every
   5 s; `PRAGMA integrity_check` runs on the file at the end.
2. Kills: `--kills` times, a single-process server on a fresh --state file,
   clients creating exports, SIGKILL at a random moment (0.2–2 s in), then
   `PRAGMA integrity_check` and a check that every export whose create was
   answered is in the file.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

APPS = 8  # apps at once: each has its own world (vendors/<name>/data/world.py caches them)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def start_server(state: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--port",
        str(port),
        "--state",
        str(state),
        "--lifecycle",
        "instant",
        "--rows",
        "20",
    ]
    if workers > 1:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def auth(app: int) -> dict[str, str]:
    return {"X-App-Id": f"soak-{app}", "X-App-Token": f"token-{app}"}


class Tally:
    def __init__(self) -> None:
        self.statuses: collections.Counter = collections.Counter()
        self.errors: collections.Counter = collections.Counter()
        self.journeys = 0
        self.kept: dict[str, int] = {}  # export id → app
        self.deleted: set[str] = set()


async def journey(session: aiohttp.ClientSession, base: str, app: int, keep: bool, tally: Tally) -> None:
    headers = auth(app)
    async with session.post(base + "/v1/exports", json={"exported_object": "voucher"}, headers=headers) as reply:
        tally.statuses[reply.status] += 1
        if reply.status != 200:
            return
        export_id = (await reply.json())["id"]
    if keep:
        tally.kept[export_id] = app
    async with session.get(f"{base}/v1/exports/{export_id}", headers=headers) as reply:
        tally.statuses[reply.status] += 1
        export = await reply.json()
    if export.get("result"):
        async with session.get(export["result"]["url"]) as reply:
            tally.statuses[reply.status] += 1
            await reply.read()
    if not keep:
        async with session.delete(f"{base}/v1/exports/{export_id}", headers=headers) as reply:
            tally.statuses[reply.status] += 1
            if reply.status == 204:
                tally.deleted.add(export_id)
    tally.journeys += 1


async def client(index: int, base: str, until: float, tally: Tally, session: aiohttp.ClientSession) -> None:
    count = 0
    while time.monotonic() < until:
        count += 1
        try:
            await journey(session, base, index % APPS, count % 10 == 1, tally)
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
            tally.errors[type(exc).__name__] += 1


async def listed(base: str) -> collections.Counter:
    seen: collections.Counter = collections.Counter()
    async with aiohttp.ClientSession() as session:
        for app in range(APPS):
            page = 1
            while True:
                async with session.get(
                    f"{base}/v1/exports", params={"limit": 100, "page": page}, headers=auth(app)
                ) as reply:
                    body = await reply.json()
                seen.update(e["id"] for e in body["exports"])
                if len(body["exports"]) < 100:
                    break
                page += 1
    return seen


async def soak(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="mockserver-soak-"))
    state = folder / "state.db"
    server, port = start_server(state, 2)
    base = f"http://127.0.0.1:{port}"
    tally = Tally()
    samples: list[tuple[float, dict[int, float]]] = []
    try:
        await asyncio.sleep(1)
        workers = children(server.pid)
        started = time.monotonic()
        until = started + args.seconds
        connector = aiohttp.TCPConnector(limit=args.clients, force_close=False)
        killed: dict = {}

        async def sampler() -> None:
            while time.monotonic() < until:
                pids = [server.pid, *children(server.pid)]
                samples.append((time.monotonic() - started, {pid: rss_mib(pid) for pid in pids}))
                await asyncio.sleep(5)

        async def killer() -> None:
            await asyncio.sleep(args.seconds / 2)
            victim = children(server.pid)[0]
            os.kill(victim, signal.SIGKILL)  # one of the workers this script's server started
            killed.update(victim=victim, at=time.monotonic())
            while time.monotonic() < until:
                now = children(server.pid)
                if len(now) == 2 and victim not in now:
                    killed.update(replaced=time.monotonic() - killed["at"], new=[p for p in now if p not in workers])
                    return
                await asyncio.sleep(0.05)

        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
            await asyncio.gather(
                sampler(), killer(), *(client(i, base, until, tally, session) for i in range(args.clients))
            )
        took = time.monotonic() - started
        seen = await listed(base)
        integrity = sqlite3.connect(state).execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        server.send_signal(signal.SIGTERM)  # the supervisor this script started
        server.wait(timeout=30)
    lost = [e for e in tally.kept if seen[e] == 0]
    duplicated = [e for e, n in seen.items() if n > 1]
    resurrected = [e for e in tally.deleted if seen[e]]
    fives = sum(n for status, n in tally.statuses.items() if status >= 500)
    requests = sum(tally.statuses.values())
    print(f"soak: {args.clients} clients, {took:.0f} s, --workers 2 --state FILE --lifecycle instant")
    print(
        f"  journeys {tally.journeys:,} ({tally.journeys / took:,.0f}/s), requests {requests:,} "
        f"({requests / took:,.0f}/s)"
    )
    print(
        f"  statuses {dict(sorted(tally.statuses.items()))}; 5xx {fives}; connection errors {dict(tally.errors) or 0}"
    )
    print(
        f"  kept {len(tally.kept):,} exports: lost {len(lost)}, duplicated {len(duplicated)}, "
        f"resurrected after delete {len(resurrected)}; PRAGMA integrity_check: {integrity}"
    )
    print(
        f"  worker pid {killed.get('victim')} SIGKILLed at {args.seconds / 2:.0f} s: "
        f"replaced after {killed.get('replaced', float('nan')):.1f} s by {killed.get('new')}"
    )
    print("  RSS MiB over time (supervisor, workers):")
    for at, sizes in samples:
        print(f"    {at:5.0f} s  " + "  ".join(f"{pid}:{mib:.0f}" for pid, mib in sizes.items()))


async def kill_once(state: Path, rng: random.Random) -> tuple[str, int, int]:
    server, port = start_server(state, 1)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[tuple[int, str]] = []

    async def creator(app: int) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.post(
                        base + "/v1/exports", json={"exported_object": "order"}, headers=auth(app)
                    ) as reply:
                        if reply.status == 200:
                            acknowledged.append((app, (await reply.json())["id"]))
                except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError):
                    return

    tasks = [asyncio.create_task(creator(app)) for app in range(8)]
    await asyncio.sleep(rng.uniform(0.2, 2.0))
    os.killpg(server.pid, signal.SIGKILL)  # the process group of the server this script started
    server.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    db = sqlite3.connect(state)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        stored = {key for (key,) in db.execute("SELECT key FROM tenant_records WHERE kind = 'exports'")}
    finally:
        db.close()
    missing = sum(1 for _, export_id in acknowledged if export_id not in stored)
    return integrity, len(acknowledged), missing


async def kills(args) -> None:
    rng = random.Random(14)
    folder = Path(tempfile.mkdtemp(prefix="mockserver-kill-"))
    results = []
    for run in range(args.kills):
        results.append(await kill_once(folder / f"state-{run}.db", rng))
    bad = [r for r in results if r[0] != "ok"]
    print(f"kills: {len(results)} SIGKILLs of `serve --state FILE` at random moments (0.2–2 s into a create load)")
    print(f"  PRAGMA integrity_check not ok: {len(bad)} of {len(results)}")
    print(
        f"  creates answered before the kills: {sum(r[1] for r in results):,}; "
        f"missing from the file afterwards: {sum(r[2] for r in results)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--skip-kills", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.skip_soak:
        asyncio.run(soak(args))
    if not args.skip_kills:
        asyncio.run(kills(args))


if __name__ == "__main__":
    main()
