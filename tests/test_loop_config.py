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
