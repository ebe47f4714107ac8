"""The daily test loop's own configuration (docs/performance.md, "Test loop")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pytest_bytecode import PREFIX, route_bytecode

ROOT = Path(__file__).resolve().parent.parent


def test_bytecode_goes_to_one_directory_when_the_environment_forbids_it_beside_the_sources(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    assert route_bytecode(tmp_path) is True
    assert sys.pycache_prefix == str(tmp_path) and sys.dont_write_bytecode is False


@pytest.mark.parametrize("dont_write, prefix", [(False, None), (True, "/somewhere/chosen")])
def test_bytecode_settings_the_user_made_are_left_alone(monkeypatch, tmp_path, dont_write, prefix):
    monkeypatch.setattr(sys, "dont_write_bytecode", dont_write)
    monkeypatch.setattr(sys, "pycache_prefix", prefix)
    assert route_bytecode(tmp_path) is False
    assert (sys.dont_write_bytecode, sys.pycache_prefix) == (dont_write, prefix)


@pytest.mark.slow
def test_a_run_under_pythondontwritebytecode_caches_the_rewritten_tests_under_pytest_cache():
    """pyproject's addopts loads the plugin in time for the plugins' packages and the test modules."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    target = ROOT / "tests" / "test_style.py"
    cached = PREFIX / target.parent.relative_to(target.anchor)
    for old in cached.glob("test_style.*-pytest-*.pyc"):
        old.unlink()  # written by an earlier run: this run must write its own
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "-p", "no:cacheprovider", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(cached.glob("test_style.*-pytest-*.pyc")), sorted(p.name for p in cached.glob("*"))


GROUPED = """
import os

import pytest


@pytest.mark.parametrize("i", range(12))
@pytest.mark.xdist_group("shared-cost")
def test_grouped(i):
    with open(os.environ["GROUPS_OUT"], "a") as out:
        out.write("grouped " + os.environ["PYTEST_XDIST_WORKER"] + "\\n")


@pytest.mark.parametrize("i", range(12))
def test_free(i):
    with open(os.environ["GROUPS_OUT"], "a") as out:
        out.write("free " + os.environ["PYTEST_XDIST_WORKER"] + "\\n")
"""


@pytest.mark.slow
def test_an_xdist_group_runs_on_one_worker(tmp_path):
    """`--dist loadgroup` with pyproject's plugin keeps a group's tests on one worker (under pytest 9.2 and
    pytest-xdist 3.8 alone, the twelve grouped tests were split over both workers, 7 and 5)."""
    (tmp_path / "test_groups.py").write_text(GROUPED)
    out = tmp_path / "workers.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GROUPS_OUT": str(out)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.pytest_groups"]
    done = subprocess.run(
        [*argv, "-n", "2", "--dist", "loadgroup", "test_groups.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.split() for line in out.read_text().splitlines()]
    assert len(lines) == 24
    assert len({worker for kind, worker in lines if kind == "grouped"}) == 1, lines
