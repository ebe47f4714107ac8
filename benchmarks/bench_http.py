"""HTTP throughput, latency and memory of mockserver, side by side with Prism and
a bare aiohttp + jsonschema handler (the yardstick); prints one table.

    PYTHONPATH=. python benchmarks/bench_http.py [--duration 10] [--connections 32]
        [--prism PATH | --no-prism] [--no-install] [--generator auto|wrk|python]
        [--skip-csv] [--csv-rows N] [--skip-contract]

Every server runs in its own process on 127.0.0.1 and gets the same load, one
scenario after another: GET an export, list exports (10 stored), POST a create
with a valid body, POST an invalid body, and list again once the POSTs have
filled the store (1,000 exports: mockserver's default cap), each `--duration`
seconds after a short warm-up, at `--connections` keep-alive connections. The
servers take turns scenario by scenario, so other work on a shared machine
weighs on all of them alike. The load comes from `wrk` (with a Lua
script that counts unexpected statuses) when it is installed, else from a small
asyncio HTTP/1.1 client in a separate process. The generator's own CPU use is
printed, so a result limited by the generator, not the server, shows as such.

- mockserver: `python -m mockserver serve --lifecycle instant --app bench:bench-token`
- Prism: `prism mock` on schemas/voucherify/openapi.yaml (the exports API). Found
  through `--prism PATH`, $PRISM, `prism` on PATH, or installed with npm into
  $XDG_CACHE_HOME/mockserver-bench/prism on first use (`--no-install` skips
  that); without it the Prism columns print n/a. Prism 5 answers the invalid
  body with 200 (its request-body validation does not fire on this schema):
  those answers count as errors.
- bare: aiohttp + jsonschema in this file (`--serve-bare`): the same routes and
  checks (credentials, JSON decode, the body's schema branch picked by
  exported_object and checked by a compiled Draft7Validator with formats, a
  dict store of at most 1,000, json.dumps), and nothing else. It reports the
  first error jsonschema finds; mockserver looks for the most telling one
  (best_match) to word its 400, which costs more on an invalid body.

Peak RSS is each server's VmHWM (children included). Start-up is the median
(and the fastest) of five starts, from spawning the process to its first
answered request. Then,
unless skipped, this script again for a valid POST at 8 connections (latency
without queueing), benchmarks/bench_list.py (a page of exports with 10, 1,000
and 10,000 stored), benchmarks/bench_tenants.py (journeys over 1 app and over
1,000), benchmarks/bench_csv.py (1,000,000 CSV rows, offline and over HTTP)
and benchmarks/bench_contract.py (a default contract run) are run and their
figures added to the table. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from peers import PRISM, mockoon_command, wiremock_command

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def python_env(root: Path, extra: str = "") -> dict[str, str]:
    """The servers' environment: `root` on the path, and compiled bytecode kept as an installed package keeps
    it (with PYTHONDONTWRITEBYTECODE, set on some machines, every start would compile again each module
    changed since its bytecode was last written, and the start-up column would measure the compiler)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(root) + (os.pathsep + extra if extra else "")}


ENV = python_env(ROOT, os.environ.get("PYTHONPATH", ""))
APP_ID, APP_TOKEN = "bench", "bench-token"
AUTH = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
JSON_HEADERS = {**AUTH, "Content-Type": "application/json"}
VALID = {
    "exported_object": "order",
    "parameters": {
        "fields": ["id", "source_id", "status", "amount"],
        "order": "-created_at",
        "filters": {"status": {"conditions": {"$in": ["PAID"]}}},
    },
}
INVALID = {"exported_object": "order", "parameters": {"fields": ["id", "nope"]}}
SEEDED = 10  # exports created before the load, so a list has a full page


@dataclass
class Scenario:
    name: str
    method: str
    path: str  # "{id}" is replaced by a seeded export's id
    body: dict | None
    expected: tuple[int, ...]  # statuses that are not errors


SCENARIOS = [
    Scenario("GET export", "GET", "/v1/exports/{id}", None, (200,)),
    Scenario("list exports", "GET", "/v1/exports", None, (200,)),
    Scenario("POST create", "POST", "/v1/exports", VALID, (200,)),
    # Prism words a request that breaks the schema as 422 (or 400, when documented)
    Scenario("POST invalid", "POST", "/v1/exports", INVALID, (400, 422)),
    # after the POSTs each server keeps 1,000 exports (mockserver's default --max-exports; bare keeps as many)
    Scenario("list of 1,000", "GET", "/v1/exports", None, (200,)),
]
KEPT = 1000
WRK_THREADS = 2  # wrk -t2 -c32: the load every server is measured under
PEER_SCENARIOS = ("GET export", "POST create")  # what WireMock and Mockoon stub
# the constant body WireMock and Mockoon answer both scenarios with (a finished export)
STUB_BODY = json.dumps(
    {
        "id": "exp_bench",
        "object": "export",
        "created_at": "2024-01-01T00:00:00.000Z",
        "status": "DONE",
        "channel": "API",
        "exported_object": "order",
        "parameters": VALID["parameters"],
        "result": {"url": "http://127.0.0.1/v1/exports/exp_bench"},
        "user_id": None,
    }
)


@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    errors: int = 0  # unexpected statuses + socket errors
    generator_cpu: float = float("nan")  # share of one core the generator used
    server_cpu: float = float("nan")  # share of one core the server used
    other_cpu: float = float("nan")  # cores' worth of CPU that other processes on the machine used meanwhile
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        """Server CPU time per request: steadier than req/s when the machine is shared."""
        return self.server_cpu * 1e6 / self.rps if self.rps else float("nan")


@dataclass
class Target:
    name: str
    command: list[str]
    port: int
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=lambda: ENV)
    startup: list[float] = field(default_factory=list)
    startup_other_cpu: float = float("nan")  # cores' worth other processes used while it started
    results: dict[str, Load] = field(default_factory=dict)
    rss_mib: float = float("nan")
    process: subprocess.Popen | None = None
    export_id: str = "exp_bench"
    problem: str = ""
    scenarios: tuple[str, ...] | None = None  # the scenarios it serves (None: all)
    stateful: bool = True  # keeps what is POSTed (seeded before the load)


# -- servers -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(port: int, *options: str) -> list[str]:
    """`mockserver serve` on the loopback port with `options`, run by this interpreter (every benchmark's mock)."""
    return [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port), *options]


def wait_for(port: int, timeout: float = 60) -> None:
    """Until something accepts connections on the loopback port (a server the script started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no server answered on port {port} within {timeout:.0f} s")


def http(port: int, method: str, path: str, body: dict | None = None, timeout: float = 5) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=JSON_HEADERS if data else AUTH
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start(target: Target, timeout: float = 60) -> float:
    """Spawn the server; seconds until it answers its first request."""
    began = time.perf_counter()
    target.process = subprocess.Popen(
        target.command,
        cwd=target.cwd,
        env=target.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = began + timeout
    while time.perf_counter() < deadline:
        if target.process.poll() is not None:
            raise RuntimeError(f"{target.name} exited with status {target.process.returncode} while starting")
        try:
            http(target.port, "GET", "/v1/exports", timeout=1)
            return time.perf_counter() - began
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{target.name} did not answer within {timeout:.0f} s")


def stop(target: Target) -> None:
    process, target.process = target.process, None
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: node children go too
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=15)


def tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*"):
            try:
                pids.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                pass
        index += 1
    return pids


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mib(pid: int) -> float:
    return sum(_status_kib(p, "VmHWM:") for p in tree(pid)) / 1024


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (every core together)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, timeout: float = 60) -> None:
    """Wait until the server has worked off what the last load left queued (Prism may lag far behind)."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_seconds(pid)
        if now - before < 0.025:  # under 10 % of a core
            return
        before = now


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            pass
    return total


# -- Prism ---------------------------------------------------------------------------
def find_prism(option: str | None, install: bool) -> tuple[str | None, str]:
    """The prism executable (--prism, $PRISM, PATH, else the benchmark's npm cache), or None and why not."""
    for candidate in (option, os.environ.get("PRISM")):
        if candidate:
            found = Path(candidate).exists() or shutil.which(candidate)
            return (candidate, "") if found else (None, f"{candidate} not found")
    return (shutil.which("prism"), "") if shutil.which("prism") else PRISM.find(install)


def merged_spec(folder: Path) -> Path:
    """Our multi-file Voucherify schema as one self-contained file (local $refs only)."""
    sys.path.insert(0, str(ROOT))
    from mockserver.spec import load_document, schemas_dir

    path = folder / "voucherify-merged.json"
    path.write_text(json.dumps(load_document(schemas_dir() / "voucherify")), encoding="utf-8")
    return path


# -- load generators ---------------------------------------------------------------------
LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
wrk.method = %(method)s
wrk.body = %(body)s
wrk.headers["X-App-Id"] = %(app)s
wrk.headers["X-App-Token"] = %(token)s
%(content_type)s
function init(args)
  expected = {}
  for code in string.gmatch(%(expected)s, "%%d+") do expected[tonumber(code)] = true end
  unexpected = 0
  last = 0
end
function response(status, headers, body)
  if not expected[status] then unexpected = unexpected + 1; last = status end
end
function done(summary, latency, requests)
  local bad, last_bad = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("unexpected")
    if t:get("last") ~= 0 then last_bad = t:get("last") end
  end
  local e = summary.errors
  io.write(string.format('WRK {"requests": %%d, "us": %%d, "p50": %%d, "p99": %%d, "unexpected": %%d, ' ..
    '"last": %%d, "socket": %%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), bad, last_bad, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def run_wrk(wrk: str, port: int, scenario: Scenario, path: str, seconds: float, connections: int, folder: Path) -> Load:
    script = folder / "scenario.lua"
    script.write_text(
        LUA
        % {
            "method": lua_string(scenario.method),
            "body": lua_string(json.dumps(scenario.body)) if scenario.body is not None else "nil",
            "app": lua_string(APP_ID),
            "token": lua_string(APP_TOKEN),
            "content_type": 'wrk.headers["Content-Type"] = "application/json"' if scenario.body is not None else "",
            "expected": lua_string(",".join(map(str, scenario.expected))),
        }
    )
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = child.communicate()
    match = re.search(r"^WRK (\{.*\})$", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk failed: {err.strip() or out.strip()}")
    data = json.loads(match.group(1))
    load = Load(
        requests=data["requests"],
        seconds=data["us"] / 1e6,
        p50_ms=data["p50"] / 1000,
        p99_ms=data["p99"] / 1000,
        errors=data["unexpected"] + data["socket"],
    )
    if data["last"]:
        load.note = f"unexpected status {data['last']}"
    return load


def run_python_generator(port: int, scenario: Scenario, path: str, seconds: float, connections: int) -> Load:
    command = [
        sys.executable,
        __file__,
        "--generate",
        json.dumps(
            {
                "port": port,
                "method": scenario.method,
                "path": path,
                "seconds": seconds,
                "connections": connections,
                "body": json.dumps(scenario.body) if scenario.body is not None else None,
                "expected": list(scenario.expected),
            }
        ),
    ]
    out = subprocess.run(command, stdout=subprocess.PIPE, check=True, text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return Load(
        requests=data["requests"],
        seconds=data["seconds"],
        p50_ms=data["p50"],
        p99_ms=data["p99"],
        errors=data["errors"],
        note=f"unexpected status {data['last']}" if data["last"] else "",
    )


def generate(spec: dict) -> None:
    """The Python load generator (a child process): keep-alive HTTP/1.1 over
    asyncio protocols, one request in flight per connection; prints JSON."""
    head = [
        f"{spec['method']} {spec['path']} HTTP/1.1",
        f"Host: 127.0.0.1:{spec['port']}",
        f"X-App-Id: {APP_ID}",
        f"X-App-Token: {APP_TOKEN}",
    ]
    body = (spec["body"] or "").encode()
    if spec["body"] is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    expected = set(spec["expected"])
    latencies: list[float] = []
    state = {"errors": 0, "last": 0}

    class Client(asyncio.Protocol):
        def __init__(self, stop_at: float, finished: asyncio.Future) -> None:
            self.stop_at, self.finished, self.buffer = stop_at, finished, b""

        def connection_made(self, transport) -> None:
            self.transport = transport
            self.send()

        def send(self) -> None:
            self.sent = time.perf_counter()
            self.transport.write(request)

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                header = self.buffer[:end].decode("latin-1")
                status = int(header[9:12])
                length = re.search(r"(?im)^content-length:\s*(\d+)", header)
                if length:
                    total = end + 4 + int(length.group(1))
                    if len(self.buffer) < total:
                        return
                else:  # chunked: wait for the terminating chunk
                    total = self.buffer.find(b"\r\n0\r\n\r\n", end) + 7
                    if total < 7:
                        return
                self.buffer = self.buffer[total:]
                now = time.perf_counter()
                latencies.append(now - self.sent)
                if status not in expected:
                    state["errors"] += 1
                    state["last"] = status
                if now >= self.stop_at:
                    self.transport.close()
                    if not self.finished.done():
                        self.finished.set_result(None)
                    return
                self.send()

        def connection_lost(self, exc) -> None:
            if not self.finished.done():
                self.finished.set_result(None)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        began = time.perf_counter()
        stop_at = began + spec["seconds"]
        waits = []
        for _ in range(spec["connections"]):
            finished = loop.create_future()
            await loop.create_connection(lambda f=finished: Client(stop_at, f), "127.0.0.1", spec["port"])
            waits.append(finished)
        await asyncio.gather(*waits)
        return time.perf_counter() - began

    elapsed = asyncio.run(main())
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")  # noqa: E731
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": elapsed,
                "p50": pick(0.50),
                "p99": pick(0.99),
                "errors": state["errors"],
                "last": state["last"],
            }
        )
    )


# -- the bare aiohttp + jsonschema yardstick -----------------------------------------------
def serve_bare(port: int, schema_file: str) -> None:
    import secrets

    from aiohttp import web
    from jsonschema import Draft7Validator, FormatChecker, ValidationError

    schema = json.loads(Path(schema_file).read_text())
    formats = FormatChecker()
    # one compiled validator per exported_object (the request body's discriminator)
    validators = {
        tag: Draft7Validator(branch, format_checker=formats)
        for tag, branch in schema["discriminator"]["mapping"].items()
    }
    store: dict[str, dict] = {}

    def error(status: int, key: str, details: str) -> web.Response:
        return web.json_response({"code": status, "key": key, "details": details}, status=status)

    def authorised(request: web.Request) -> bool:
        return bool(request.headers.get("X-App-Id") and request.headers.get("X-App-Token"))

    def render(record: dict, request: web.Request) -> dict:
        return {**record, "result": {"url": f"http://{request.host}/v1/exports/{record['id']}?token=t"}}

    async def create(request: web.Request) -> web.Response:
        if not authorised(request):
            return error(401, "unauthorized", "Send X-App-Id and X-App-Token")
        try:
            body = json.loads(await request.read())
        except ValueError as exc:
            return error(400, "invalid_payload", str(exc))
        validator = validators.get(body.get("exported_object")) if isinstance(body, dict) else None
        if validator is None:
            return error(400, "invalid_payload", "exported_object is missing or unknown")
        try:
            validator.validate(body)
        except ValidationError as exc:
            return error(400, "invalid_payload", exc.message)
        record = {
            "id": "exp_" + secrets.token_hex(12),
            "object": "export",
            "created_at": "2024-01-01T00:00:00.000Z",
            "status": "DONE",
            "channel": "API",
            "exported_object": body["exported_object"],
            "parameters": body.get("parameters") or {},
            "user_id": None,
        }
        store[record["id"]] = record
        if len(store) > KEPT:  # as mockserver's --max-exports: the oldest goes
            del store[next(iter(store))]
        return web.json_response(render(record, request))

    async def get(request: web.Request) -> web.Response:
        if not authorised(request):
            return error(401, "unauthorized", "Send X-App-Id and X-App-Token")
        record = store.get(request.match_info["export_id"])
        if record is None:
            return error(404, "not_found", "No such export")
        return web.json_response(render(record, request))

    async def listing(request: web.Request) -> web.Response:
        if not authorised(request):
            return error(401, "unauthorized", "Send X-App-Id and X-App-Token")
        limit = int(request.query.get("limit", "10"))
        records = list(store.values())[-limit:][::-1]
        return web.json_response(
            {
                "object": "list",
                "data_ref": "exports",
                "exports": [render(r, request) for r in records],
                "total": len(store),
            }
        )

    store["exp_bench"] = {
        "id": "exp_bench",
        "object": "export",
        "created_at": "2024-01-01T00:00:00.000Z",
        "status": "DONE",
        "channel": "API",
        "exported_object": "order",
        "parameters": VALID["parameters"],
        "user_id": None,
    }
    app = web.Application()
    app.router.add_post("/v1/exports", create)
    app.router.add_get("/v1/exports", listing)
    app.router.add_get("/v1/exports/{export_id}", get)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- the run -------------------------------------------------------------------------------
def seed(target: Target) -> None:
    """Create the exports the GET and list scenarios read (mockserver and bare)."""
    if not target.stateful:
        return  # answers from examples or stubs; any id will do
    for _ in range(SEEDED):
        status, body = http(target.port, "POST", "/v1/exports", VALID)
        if status != 200:
            raise RuntimeError(f"{target.name}: seeding POST answered {status}: {body[:200]!r}")
        target.export_id = json.loads(body)["id"]
        http(target.port, "GET", f"/v1/exports/{target.export_id}")  # instant lifecycle: now DONE


def drive(target: Target, scenario: Scenario, args: argparse.Namespace, wrk: str | None, folder: Path) -> None:
    path = scenario.path.replace("{id}", target.export_id)
    run = (
        (lambda seconds: run_wrk(wrk, target.port, scenario, path, seconds, args.connections, folder))
        if wrk
        else (lambda seconds: run_python_generator(target.port, scenario, path, seconds, args.connections))
    )
    if args.warmup:
        run(args.warmup)
        settle(target.process.pid)
    server_before, machine_before = cpu_seconds(target.process.pid), machine_busy_seconds()
    generator_before = os.times()
    load = run(args.duration)
    generator_after = os.times()
    server = cpu_seconds(target.process.pid) - server_before
    generator = (generator_after.children_user - generator_before.children_user) + (
        generator_after.children_system - generator_before.children_system
    )
    load.server_cpu = server / load.seconds
    load.generator_cpu = generator / load.seconds
    load.other_cpu = max(0.0, machine_busy_seconds() - machine_before - server - generator) / load.seconds
    settle(target.process.pid)
    target.results[scenario.name] = load
    print(
        f"  {target.name:12s} {scenario.name:13s} {load.rps:9,.0f} req/s  p50 {load.p50_ms:7.2f} ms  "
        f"p99 {load.p99_ms:8.2f} ms  errors {load.errors}  server CPU {load.server_cpu:4.0%} "
        f"({load.cpu_us:,.0f} µs/req)  generator CPU {load.generator_cpu:4.0%}  "
        f"other processes {load.other_cpu:4.0%} {load.note}",
        file=sys.stderr,
        flush=True,
    )


def launch(target: Target, args: argparse.Namespace) -> None:
    """Start-up median (extra starts first), then leave it running, seeded."""
    print(f"{target.name}: {' '.join(target.command)}", file=sys.stderr, flush=True)
    began, busy, children = time.monotonic(), machine_busy_seconds(), os.times()
    try:
        for _ in range(args.starts - 1):
            target.startup.append(start(target))
            stop(target)
        target.startup.append(start(target))
        ours = sum(cpu_seconds(pid) for pid in tree(target.process.pid)[1:]) + cpu_seconds(target.process.pid)
        after = os.times()
        ours += (after.children_user - children.children_user) + (after.children_system - children.children_system)
        ours += (after.user - children.user) + (after.system - children.system)  # this script's polling
        target.startup_other_cpu = max(0.0, machine_busy_seconds() - busy - ours) / (time.monotonic() - began)
        seed(target)
    except (RuntimeError, OSError) as exc:
        target.problem = str(exc)
        print(f"  {target.name}: {exc}", file=sys.stderr, flush=True)
        stop(target)


def side_benchmarks(args: argparse.Namespace) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if not args.skip_csv:
        out = _run_script("bench_csv.py", "--rows", str(args.csv_rows))
        rows.append(
            (
                "CSV yardstick: csv.writer.writerows of 1,000 prebuilt order rows (13 fields), to /dev/null",
                csv_figure(out, "writerows"),
            )
        )
        for mode, what in (
            ("offline", f"{args.csv_rows:,} order rows, mockserver generate"),
            ("http", f"{args.csv_rows:,} order rows, HTTP download"),
            ("by code", f"{args.csv_rows:,} voucher rows ordered by code, mockserver generate"),
            ("process", "mockserver generate order --rows 200000, start-up included"),
        ):
            rows.append((f"CSV: {what}", csv_figure(out, mode)))
    if not args.skip_post8:  # latency without queueing: at 32 connections on one core, p50 ≈ 32 ÷ req/s
        out = _run_script(
            "bench_http.py",
            "--only",
            "POST create",
            "--connections",
            "8",
            "--no-prism",
            "--duration",
            f"{args.duration:g}",
            "--skip-csv",
            "--skip-contract",
            "--skip-post8",
            "--skip-tenants",
            "--skip-lists",
        )
        for target in ("mockserver", "bare aiohttp"):
            match = re.search(
                rf"^\| POST create \| {target} \| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \|"
                r".*?\| ([\d.]+×)? \|$",
                out,
                re.MULTILINE,
            )
            rows.append(
                (
                    f"POST create at 8 connections, {target}",
                    f"{match.group(1)} req/s, p50 {match.group(2)} ms, p99 {match.group(3)} ms"
                    + (f", {match.group(4)} bare" if match.group(4) else "")
                    if match
                    else _no_figure(out),
                )
            )
    if not args.skip_lists:
        out = _run_script("bench_list.py", "--duration", "5")
        for stored in ("10", "1,000", "10,000"):
            match = re.search(
                rf"^\s+{stored}\s+mockserver\s+-created_at\s+([\d,]+)\s.*\(([\d.]+)× bare\)", out, re.MULTILINE
            )
            rows.append(
                (
                    f"list a page of exports, {stored} stored (8 connections)",
                    f"{match.group(1)} req/s, {match.group(2)}× bare" if match else _no_figure(out),
                )
            )
    if not args.skip_tenants:
        out = _run_script("bench_tenants.py", "--seconds", "10")
        match = re.search(r"^ratio ([\d.]+); server peak RSS (\d+) MiB", out, re.MULTILINE)
        rows.append(
            (
                "journeys/s over 1,000 apps ÷ over 1 app (20 clients)",
                f"{match.group(1)}, server peak RSS {match.group(2)} MiB" if match else _no_figure(out),
            )
        )
    if not args.skip_contract:
        out = _run_script("bench_contract.py")
        match = re.search(r"contract run: ([\d.]+) s, (\d+) operation×check pairs, (\d+) failure", out)
        rows.append(
            (
                "default contract run against the mock (time lifecycle)",
                f"{match.group(1)} s, {match.group(2)} pairs, {match.group(3)} failure(s)"
                if match
                else "n/a (" + (out.strip().splitlines() or ["no output"])[-1] + ")",
            )
        )
    return rows


def csv_figure(out: str, mode: str) -> str:
    """One bench_csv.py line (`writerows`, `offline`, `http`, `by code`, `process`) as the README's table cell."""
    if mode == "writerows":
        found = re.search(r"^writerows\s+[\d,]+ prebuilt rows, \d+ fields:\s+([\d,]+) rows/s", out, re.MULTILINE)
        return f"{found.group(1)} rows/s" if found else _no_figure(out)
    match = re.search(
        rf"^{mode}\s+[\d,]+ \w+ rows, [\w ]+:\s+([\d.]+) s,\s+([\d,]+) rows/s "
        r"\(([\d.]+×) writerows(?:; CPU ([\d.]+) s, ([\d.]+×) per CPU second)?\), peak RSS (\d+) MiB",
        out,
        re.MULTILINE,
    )
    if not match:
        return _no_figure(out)
    seconds, rate, ratio, cpu, per_cpu, rss = match.groups()
    by_cpu = f"; CPU {cpu} s, {per_cpu} per CPU second" if cpu else ""
    return f"{seconds} s, {rate} rows/s ({ratio} the yardstick{by_cpu}), peak RSS {rss} MiB"


def _no_figure(out: str) -> str:
    return "n/a (" + (out.strip().splitlines() or ["no output"])[-1] + ")"


def _run_script(name: str, *extra: str) -> str:
    print(f"running benchmarks/{name} {' '.join(extra)} …", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, str(HERE / name), *extra],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return done.stdout


def table(targets: list[Target], extra: list[tuple[str, str]], generator: str, args: argparse.Namespace) -> str:
    by_name = {t.name: t for t in targets}
    prism, bare = by_name.get("Prism"), by_name.get("bare aiohttp")

    def ratio(load: Load, other: Target | None, scenario: str) -> str:
        base = other.results.get(scenario) if other else None
        return f"{load.rps / base.rps:.2f}×" if base and base.rps else "n/a"

    lines = [
        f"HTTP, {args.connections} connections, {args.duration:g} s per scenario, load from {generator} "
        f"({os.cpu_count()} CPU cores)",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | errors | server CPU µs/req | ÷ Prism | ÷ bare |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for scenario in SCENARIOS:
        if args.only and scenario.name not in args.only:
            continue
        for target in targets:
            load = target.results.get(scenario.name)
            if load is None:
                lines.append(f"| {scenario.name} | {target.name} | n/a | n/a | n/a | n/a | n/a | | |")
                continue
            mock = target.name.startswith("mockserver")
            lines.append(
                f"| {scenario.name} | {target.name} | {load.rps:,.0f} | {load.p50_ms:.2f} | {load.p99_ms:.2f} "
                f"| {load.errors:,} | {load.cpu_us:,.0f} "
                f"| {ratio(load, prism, scenario.name) if mock else ''} "
                f"| {ratio(load, bare, scenario.name) if mock else ''} |"
            )

    def rss(target: Target) -> str:
        return f"{target.rss_mib:.0f} MiB" if target.results else "n/a"

    def startup(target: Target) -> str:
        if not target.startup:
            return "n/a"
        return (
            f"{statistics.median(target.startup):.2f} s (fastest {min(target.startup):.2f} s; other processes "
            f"{target.startup_other_cpu:.0%} of a core meanwhile)"
        )

    lines += [
        "",
        f"| server | peak RSS (VmHWM, after all scenarios) | start-up to first answer (median of {args.starts}) |",
        "|---|--:|--:|",
        *[f"| {t.name} | {rss(t)} | {startup(t)} |" for t in targets],
    ]
    loads = [load for t in targets for load in t.results.values()]
    if loads:
        lines += [
            "",
            f"load generator CPU: up to {max(x.generator_cpu for x in loads):.0%} of one core; "
            f"server CPU: up to {max(x.server_cpu for x in loads):.0%} of one core; "
            f"other processes on the machine: up to {max(x.other_cpu for x in loads):.0%} of one core "
            f"(mean {statistics.mean(x.other_cpu for x in loads):.0%})",
        ]
    problems = [f"{t.name}: {t.problem}" for t in targets if t.problem]
    problems += [
        f"{t.name}, {name}: {load.errors:,} of {load.requests:,} answers were errors ({load.note or 'socket'})"
        for t in targets
        for name, load in t.results.items()
        if load.errors
    ]
    if problems:
        lines += ["", *[f"note: {p}" for p in problems]]
    if extra:
        lines += ["", "| other | figure |", "|---|---|", *[f"| {label} | {value} |" for label, value in extra]]
    return "\n".join(lines)


# what each server does for a request: the peers differ in how much work an answer is
DOES = {
    "mockserver": "checks the credentials and the body against the schema, stores the export, runs its lifecycle",
    "Prism": "checks the body against the schema, answers from the document's examples, keeps no state",
    "WireMock": "matches method and path, answers one constant body: no validation, no state",
    "Mockoon": "matches method and path, answers one constant body: no validation, no state",
    "bare aiohttp": "checks credentials and the body's schema (jsonschema), keeps a dict",
}
README_BEGIN, README_END = "<!-- bench_http: begin -->", "<!-- bench_http: end -->"


def readme_section(
    targets: list[Target], extra: list[tuple[str, str]], generator: str, args: argparse.Namespace
) -> str:
    """The README's Performance tables, made from this run's figures (`--readme` writes them in)."""

    def cell(target: Target, scenario: str) -> str:
        load = target.results.get(scenario)
        return f"{load.rps:,.0f} / {load.p99_ms:.1f} ms" if load else "n/a"

    shown = [t for t in targets if t.results]
    lines = [
        f"One run of `benchmarks/bench_http.py` on {time.strftime('%Y-%m-%d')} ({os.cpu_count()} cores, "
        f"{args.connections} connections, load from {generator}):",
        "",
        "| server | GET an export: req/s / p99 | POST a create: req/s / p99 | peak RSS | start-up | what it does "
        "per request |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for t in shown:
        lines.append(
            f"| {t.name} | {cell(t, 'GET export')} | {cell(t, 'POST create')} | {t.rss_mib:.0f} MiB "
            f"| {statistics.median(t.startup):.2f} s | {DOES.get(t.name.split(' --')[0], '')} |"
        )
    if extra:
        lines += ["", "| other | figure |", "|---|---|", *[f"| {label} | {value} |" for label, value in extra]]
    return "\n".join(lines)


def write_readme(section: str, readme: Path = ROOT / "README.md") -> None:
    """Replace what stands between the README's markers with `section`."""
    text = readme.read_text(encoding="utf-8")
    head, found, rest = text.partition(README_BEGIN)
    _, found_end, tail = rest.partition(README_END)
    if not (found and found_end):
        raise SystemExit(f"README.md has no {README_BEGIN} … {README_END} section to write")
    readme.write_text(f"{head}{README_BEGIN}\n{section}\n{README_END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of measured load per scenario (10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of unmeasured load first (2; 0 for none)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--starts", type=int, default=5, help="starts per server for the start-up median (5)")
    parser.add_argument("--prism", metavar="PATH", help="the prism executable (default: $PRISM, PATH, cache)")
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out (its columns print n/a)")
    parser.add_argument("--no-install", action="store_true", help="never npm-install Prism, WireMock or Mockoon")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--only",
        action="append",
        metavar="SCENARIO",
        choices=[s.name for s in SCENARIOS],
        help="run only this scenario (repeatable)",
    )
    parser.add_argument(
        "--targets",
        default="mockserver,Prism,bare,WireMock,Mockoon",
        help="comma-separated subset (WireMock and Mockoon serve GET export and POST create only)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also measure `mockserver serve --workers N` (2, one per core; 1 leaves it out)",
    )
    parser.add_argument(
        "--mock-root", metavar="DIR", help="serve mockserver from this checkout (e.g. to compare with an older one)"
    )
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="DIR",
        help="also measure mockserver served from this checkout (and with --workers N), turn by turn (repeatable)",
    )
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-contract", action="store_true")
    parser.add_argument("--skip-post8", action="store_true", help="leave out POST at 8 connections")
    parser.add_argument("--skip-lists", action="store_true", help="leave out bench_list.py (10/1,000/10,000 stored)")
    parser.add_argument("--skip-tenants", action="store_true", help="leave out bench_tenants.py (1 vs 1,000 apps)")
    parser.add_argument(
        "--readme", action="store_true", help="write this run's figures into README.md's Performance section"
    )
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "SCHEMA"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return
    if args.generate:
        generate(json.loads(args.generate))
        return

    wrk = shutil.which("wrk") if args.generator in ("auto", "wrk") else None
    if args.generator == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed")
    generator = f"wrk -t{WRK_THREADS} (Lua status check)" if wrk else "the Python asyncio generator (1 process)"
    wanted = {name.strip().lower() for name in args.targets.split(",")}
    with tempfile.TemporaryDirectory(prefix="mockserver-bench-") as tmp:
        folder = Path(tmp)
        sys.path.insert(0, str(ROOT))
        from mockserver.spec import load_spec

        schema_file = folder / "create-body.json"
        schema_file.write_text(json.dumps(load_spec("voucherify").schema("ExportsCreateRequestBody")))
        targets = []
        mocks = [("mockserver", args.mock_root), *((f"mockserver ({Path(d).name})", d) for d in args.compare)]
        for name, root in mocks:
            root = Path(root).resolve() if root else ROOT
            port = free_port()
            targets.append(
                Target(
                    name,
                    serve_command(port, "--lifecycle", "instant", "--app", f"{APP_ID}:{APP_TOKEN}"),
                    port,
                    cwd=root,
                    env=python_env(root),
                )
            )
        if "prism" in wanted and not args.no_prism:
            prism, why = find_prism(args.prism, not args.no_install)
            port = free_port()
            target = Target(
                "Prism",
                [
                    prism or "prism",
                    "mock",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    str(ROOT / "schemas" / "voucherify" / "openapi.yaml"),
                ],
                port,
                cwd=folder,
            )
            target.problem = "" if prism else f"Prism not measured: {why}"
            target.stateful = False
            targets.append(target)
        for name, root in mocks if args.workers > 1 and "mockserver" in wanted else ():
            root = Path(root).resolve() if root else ROOT  # each compared checkout with --workers too
            port = free_port()
            targets.append(
                Target(
                    f"{name} --workers {args.workers}",
                    serve_command(
                        port, "--lifecycle", "instant", "--workers", str(args.workers), "--app", f"{APP_ID}:{APP_TOKEN}"
                    ),
                    port,
                    cwd=root,
                    env=python_env(root),
                )
            )
        for name, make in (("WireMock", wiremock_command), ("Mockoon", mockoon_command)):
            if name.lower() not in wanted:
                continue
            port = free_port()
            command, why = make(not args.no_install, port, folder, STUB_BODY)
            targets.append(
                Target(
                    name,
                    command,
                    port,
                    cwd=folder,
                    scenarios=PEER_SCENARIOS,
                    stateful=False,
                    problem=f"{name} not measured: {why}" if why else "",
                )
            )
        port = free_port()
        targets.append(
            Target("bare aiohttp", [sys.executable, __file__, "--serve-bare", str(port), str(schema_file)], port)
        )
        running = []
        try:
            for target in targets:
                if target.problem or target.name.split()[0].lower() not in wanted:
                    continue
                launch(target, args)
                if target.name == "Prism" and target.problem and "exited" in target.problem:
                    # Prism could not load the schema file as it is: give it one merged file
                    target.problem, target.startup = "", []
                    target.command[-1] = str(merged_spec(folder))
                    launch(target, args)
                if not target.problem:
                    running.append(target)
            # scenario by scenario, the servers one after another (idle servers cost nothing),
            # so a machine shared with other work treats them alike
            for scenario in SCENARIOS:
                if args.only and scenario.name not in args.only:
                    continue
                for target in running:
                    if target.scenarios is not None and scenario.name not in target.scenarios:
                        continue
                    try:
                        drive(target, scenario, args, wrk, folder)
                    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                        target.problem = f"{scenario.name}: {exc}"
                        print(f"  {target.name}: {exc}", file=sys.stderr, flush=True)
            for target in running:
                target.rss_mib = peak_rss_mib(target.process.pid)
        finally:
            for target in targets:
                stop(target)
        extra = side_benchmarks(args)
    print(table(targets, extra, generator, args))
    if args.readme:
        write_readme(readme_section(targets, extra, generator, args))


if __name__ == "__main__":
    main()
