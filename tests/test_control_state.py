"""`--state FILE`: exports survive a restart, and a SIGKILL loses nothing a
client was answered about. The crash test runs the real command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from mockserver.app import Settings
from mockserver.cli import main
from tests.control_support import CREDENTIALS, http, server

ORDER = {"exported_object": "order", "parameters": {"fields": ["id", "status"]}}


def test_exports_survive_a_restart(spec, tmp_path):
    state = str(tmp_path / "state.db")
    with server(spec, state=state, lifecycle="poll") as first:
        created = http("POST", first.url + "/v1/exports", ORDER, CREDENTIALS).json
        assert (
            http("GET", f"{first.url}/v1/exports/{created['id']}", headers=CREDENTIALS).json["status"] == "IN_PROGRESS"
        )
    with server(spec, state=state, lifecycle="poll") as second:
        again = http("GET", f"{second.url}/v1/exports/{created['id']}", headers=CREDENTIALS).json
        assert again["status"] == "DONE" and again["parameters"] == created["parameters"]
        # the same seed restarts the id sequence: new ids must not take stored ones
        newer = http("POST", second.url + "/v1/exports", ORDER, CREDENTIALS).json
        assert newer["id"] != created["id"]
        assert http("GET", second.url + "/v1/exports", headers=CREDENTIALS).json["total"] == 2
        # credentials bound before the restart still hold
        wrong = http("GET", second.url + "/v1/exports", headers={**CREDENTIALS, "X-App-Token": "other"})
        assert wrong.status == 401


def start(args: list[str], cwd) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    line = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if not match:
        process.kill()
        raise AssertionError(f"server did not start: {line!r} {process.stderr.read()}")
    return process, match.group(1)


@pytest.mark.slow
def test_a_sigkill_loses_nothing_acknowledged_and_the_config_file_is_read(tmp_path):
    # mockserver.yaml in the working directory is read without being named
    (tmp_path / "mockserver.yaml").write_text("lifecycle: poll\nstate: state.db\nerror-rate: 0\n")
    process, url = start([], tmp_path)
    try:
        assert http("GET", url + "/__mock/health").json["store"] == "SqliteStore"
        created = [http("POST", url + "/v1/exports", ORDER, CREDENTIALS).json["id"] for _ in range(5)]
        http("GET", f"{url}/v1/exports/{created[0]}", headers=CREDENTIALS)  # moved to IN_PROGRESS
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    process, url = start(["--lifecycle", "instant"], tmp_path)  # the command line wins over the file
    try:
        health = http("GET", url + "/__mock/health").json
        assert health["lifecycle"] == "instant"
        listed = http("GET", url + "/v1/exports?limit=100", headers=CREDENTIALS).json
        assert sorted(e["id"] for e in listed["exports"]) == sorted(created)
        assert {e["id"]: e["status"] for e in listed["exports"]}[created[0]] == "IN_PROGRESS"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_config_file_with_an_unknown_key_is_refused(tmp_path, capsys):
    config = tmp_path / "mock.yaml"
    config.write_text(json.dumps({"port": 0, "colour": "blue"}))
    assert main(["serve", "--config", str(config)]) == 2
    assert "unknown key 'colour'" in capsys.readouterr().err


def test_config_file_values_are_checked_like_flags(tmp_path, capsys):
    config = tmp_path / "mock.yaml"
    config.write_text("lifecycle: sometimes\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert "invalid choice: 'sometimes'" in capsys.readouterr().err


def test_stateless_cannot_keep_state():
    with pytest.raises(ValueError, match="stateless"):
        Settings(stateless=True, state="x.db")
