"""Start-up does only what the first answer needs: `serve` answers
without the data engine's libraries, which load with the first file made, and builds an operation's
request validator at its first request. The figures are benchmarks/bench_startup.py's, not timed here."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from mockserver import pipeline
from mockserver.app import SERVICES, Settings, create_app
from tests.control_support import http

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ("numpy", "polars", "faker")
UNSERVED = ("mockserver.contract.dialect", "mockserver.proxy", "mockserver.sqlite_store")  # other commands' parts
AUTH = {"X-App-Id": "startup-app", "X-App-Token": "startup-token"}


def imported(log: Path) -> set[str]:
    """The modules a `python -X importtime` process has imported so far (its stderr, in a file)."""
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$", log.read_text(), re.M))


def test_serve_answers_without_the_data_engine_which_loads_once_an_export_is_created(tmp_path):
    """The engine loads in a background thread when the first export is created (data.warm), so the file
    asked for moments later does not wait for it; no download is needed for it to load."""
    log = tmp_path / "stderr"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "mockserver", "serve", "--port", "0", "--lifecycle", "instant"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
    try:
        url = re.search(r"listening on (http://\S+)", process.stdout.readline()).group(1)
        assert http("GET", url + "/v1/exports", headers=AUTH).status == 200
        assert not set(ENGINE) & imported(log), "the first answers loaded the data engine's libraries"
        assert not set(UNSERVED) & imported(log), "serving loaded the contract kit, the proxy or a --state store"

        body = {"exported_object": "order", "parameters": {"fields": ["id", "status"]}}
        export = http("POST", url + "/v1/exports", body, headers=AUTH).json
        deadline = time.monotonic() + 60
        while not set(ENGINE) <= imported(log) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert set(ENGINE) <= imported(log), "creating an export did not load the data engine"
        while export["status"] != "DONE" and time.monotonic() < deadline:
            export = http("GET", f"{url}/v1/exports/{export['id']}", headers=AUTH).json
        csv = http("GET", export["result"]["url"])
        assert csv.status == 200 and csv.text.splitlines()[0] == "ID,Status", csv.text[:200]
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


async def test_an_operations_validator_is_built_at_its_first_request(aiohttp_client, monkeypatch):
    """The commands' own servers (lazy): an operation's steps are built when a request first asks for it."""
    built = []
    of = pipeline.RequestValidator.of
    monkeypatch.setattr(pipeline.RequestValidator, "of", lambda op: built.append(op.operation_id) or of(op))
    client = await aiohttp_client(create_app(Settings(), lazy=True))
    assert built == []  # four vendors' operations, none compiled before a request asks for it
    first = await asyncio.gather(*(client.get("/v1/exports", headers=AUTH) for _ in range(4)))  # arriving together
    answer = await client.get("/v1/exports", headers=AUTH)
    assert [a.status for a in first] + [answer.status] == [200] * 5
    assert built == ["list-exports"]  # once (on a thread, off the event loop), for the operation asked for


def test_the_command_line_leaves_the_garbage_collector_on_for_its_caller(tmp_path):
    """Start-up runs without garbage collection (tuning.starting); whatever the command does, a caller
    that runs the command line in its own process gets the collector back on."""
    import gc

    from mockserver import cli

    assert cli.main(["generate", "order", "--rows", "1", "-o", str(tmp_path / "order.csv")]) == 0
    assert gc.isenabled()
    assert cli.main(["serve", "--port", "-1"]) == 2  # refused while parsing
    assert gc.isenabled()


def test_a_mock_inside_another_program_builds_everything_before_it_serves(monkeypatch):
    """In-process (ServerThread, the pytest plugin) create_app builds every operation's steps and imports the
    engine in the caller's thread. Built later on the server's threads, they met the caller's: hypothesis
    found numpy half initialised (`partially initialized module 'numpy'`), and on CPython 3.11.7 a compile
    beside hypothesis' own failed the contract run ("AST constructor recursion depth mismatch")."""
    built = []
    of = pipeline.RequestValidator.of
    monkeypatch.setattr(pipeline.RequestValidator, "of", lambda op: built.append(op.operation_id) or of(op))
    app = create_app(Settings())
    operations = {op.operation_id for vendor in app[SERVICES].vendors for op in vendor.spec.operations}
    assert set(built) == operations
    probe = (
        "import sys\n"
        "from mockserver.app import Settings, create_app\n"
        "assert 'polars' not in sys.modules\n"
        "create_app(Settings())\n"
        "assert {'numpy', 'polars', 'faker'} <= set(sys.modules), 'the engine was not loaded by create_app'\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
