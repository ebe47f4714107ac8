"""The daily test loop's own configuration (docs/performance.md, "Test loop")."""

from __future__ import annotations

import ast
import gc
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver import tuning
from tests.pytest_bytecode import PREFIX, route_bytecode

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """pytest in a child process with this interpreter, no cache written: what a fresh run does."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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


def test_auto_starts_a_worker_per_core_and_one_more(pytestconfig, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig) == cores + 1
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")  # the user's choice stands
    assert pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig) == 5


def test_a_test_process_freezes_its_heap_before_the_interpreter_clears_it():
    """tests/conftest.py registers gc.freeze at exit: a handler registered before the conftest's import runs
    after it and finds the heap frozen (the interpreter's last collections then skip it)."""
    probe = "import atexit, gc; atexit.register(lambda: print(gc.get_freeze_count() > 0)); import tests.conftest"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr


def test_the_run_loads_no_plugin_that_no_test_uses(request):
    """pyproject's addopts blocks the plugins of anyio, schemathesis and faker (start-up CPU in every process:
    trio; schemathesis and hypothesis; a Faker per session) and no test asks for what they give: anyio's
    marker, schemathesis' `@schema.parametrize` tests (their `case` fixture), faker's `faker` fixtures."""
    blocked = {"anyio", "schemathesis", "faker"}
    assert {name for name in blocked if request.config.pluginmanager.is_blocked(name)} == blocked
    given = {"anyio_backend", "case", "faker", "faker_locale", "faker_seed", "faker_session_locale"}
    for item in request.session.items:
        parameters = set(item.callspec.params) if hasattr(item, "callspec") else set()
        assert not given & (set(getattr(item, "fixturenames", ())) - parameters), item.nodeid
        assert item.get_closest_marker("anyio") is None, item.nodeid


@pytest.mark.slow
def test_a_run_under_pythondontwritebytecode_caches_the_rewritten_tests_under_pytest_cache():
    """pyproject's addopts loads the plugin in time for the plugins' packages and the test modules."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    target = ROOT / "tests" / "test_style.py"
    cached = PREFIX / target.parent.relative_to(target.anchor)
    for old in cached.glob("test_style.*-pytest-*.pyc"):
        old.unlink()  # written by an earlier run: this run must write its own
    done = run_pytest("--collect-only", "-n", "0", str(target), cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(cached.glob("test_style.*-pytest-*.pyc")), sorted(p.name for p in cached.glob("*"))


def test_a_test_process_collects_young_garbage_every_10000_allocations():
    """tests/conftest.py raises the collector's first threshold (tuning.collect_less) in every test process."""
    assert gc.get_threshold()[0] == tuning.YOUNG_COLLECTION_EVERY


def test_children_of_the_test_run_import_hypothesis_without_its_entry_points():
    """tests/pytest_startup.py: no trio imported with hypothesis, in this process's children as in itself."""
    probe = "import sys, hypothesis; print('trio' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr


GROUPED = """
import ast
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
    """`--dist loadgroup` keeps a group's tests on one worker with the pytest the test extra allows (under
    pytest 9.2 and pytest-xdist 3.8, the twelve grouped tests were split over both workers, 7 and 5)."""
    (tmp_path / "test_groups.py").write_text(GROUPED)
    out = tmp_path / "workers.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GROUPS_OUT": str(out)}
    # outside the tree, so without pyproject's addopts: the plugins no test uses are left out here too (each
    # of the three processes started them, 0.9 s of CPU; xdist's dispatch does not depend on them)
    unused = ("-p", "no:schemathesis", "-p", "no:faker", "-p", "no:anyio")
    done = run_pytest(*unused, "-n", "2", "--dist", "loadgroup", "test_groups.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.split() for line in out.read_text().splitlines()]
    assert len(lines) == 24
    assert len({worker for kind, worker in lines if kind == "grouped"}) == 1, lines


GROUPED_SDKS = ("voucherify", "chargebee")  # the SDKs whose import is worth a group (tests/lazy_sdk.py)


def _sdk_named(node: ast.AST) -> str | None:
    """The grouped SDK that `sdk("x")` or `pytest.importorskip("x…")` imports, if `node` is such a call."""
    if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    name = str(node.args[0].value).split(".")[0]
    return name if called in ("sdk", "importorskip") and name in GROUPED_SDKS else None


def _one_worker_marks(nodes: list[ast.expr]) -> set[str]:
    marks = set()
    for node in nodes:
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "one_worker" and call.args:
                marks.add(call.args[0].value)
    return marks


def sdk_tests_without_their_group(source: str) -> list[str]:
    """Test functions of a module that import a grouped SDK (directly, through a module-level name bound to
    `sdk("x")`, or through a module-level helper that does) without `one_worker("x")` on them or the module."""
    tree = ast.parse(source)
    lazy = {}  # module-level name → SDK
    module_marks: set[str] = set()
    functions = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if _sdk_named(node.value):
                lazy[node.targets[0].id] = _sdk_named(node.value)
            if node.targets[0].id == "pytestmark":
                module_marks |= _one_worker_marks([node.value])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions[node.name] = node
    uses: dict[str, set[str]] = {}
    for name, function in functions.items():
        found = set()
        for node in ast.walk(function):
            if _sdk_named(node):
                found.add(_sdk_named(node))
            elif isinstance(node, ast.Name) and node.id in lazy:
                found.add(lazy[node.id])
        uses[name] = found
    changed = True
    while changed:  # through the module's helpers, to any depth
        changed = False
        for name, function in functions.items():
            called = {n.func.id for n in ast.walk(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            more = set().union(*(uses.get(other, set()) for other in called)) - uses[name]
            if more:
                uses[name] |= more
                changed = True
    return [
        f"{name} uses {', '.join(sorted(needed))}"
        for name, function in functions.items()
        if name.startswith("test_")
        and (needed := uses[name] - module_marks - _one_worker_marks(function.decorator_list))
    ]


# the text of every call `_sdk_named` finds (a string literal naming a grouped SDK, first in `sdk(` or
# `importorskip(`): only the modules that hold one are parsed, not all 80 (0.65 s of CPU, most of the check)
_NAMES = "|".join(map(re.escape, GROUPED_SDKS))
MAY_IMPORT = re.compile(rf"""\b(?:sdk|importorskip)\(\s*["'](?:{_NAMES})\b""")


def test_every_test_that_imports_a_grouped_sdk_runs_in_its_group():
    """A test that imports the voucherify or chargebee SDK outside its group pays the import again on the
    other worker (test_tls's SDK test did: 5.9 s of CPU)."""
    sources = {path.name: path.read_text(encoding="utf-8") for path in sorted((ROOT / "tests").glob("test_*.py"))}
    missing = {
        name: found
        for name, source in sources.items()
        if MAY_IMPORT.search(source) and (found := sdk_tests_without_their_group(source))
    }
    assert not missing, missing


def test_the_group_check_follows_names_and_helpers():
    source = """
import pytest
from tests.lazy_sdk import one_worker, sdk
voucherify = sdk("voucherify")
def client(url):
    return voucherify.ApiClient(url)
def build(url):
    return client(url)
def test_through_helpers(): build("u")
@one_worker("voucherify")
def test_marked(): build("u")
def test_plain(): pass
def test_direct(): pytest.importorskip("chargebee.models")
"""
    assert sdk_tests_without_their_group(source) == [
        "test_through_helpers uses voucherify",
        "test_direct uses chargebee",
    ]
    marked = source.replace(
        'voucherify = sdk("voucherify")', 'voucherify = sdk("voucherify")\npytestmark = one_worker("voucherify")'
    )
    assert sdk_tests_without_their_group(marked) == ["test_direct uses chargebee"]


@pytest.mark.slow
def test_a_pytester_run_leaves_the_overlays_jsonpath_importable_for_the_tests_after_it():
    """A `pytester` in-process run first, then tests that read a folder with an overlay, in one process: they
    errored ("PyO3 modules ... may only be initialized once") when the run had imported jsonpath first."""
    done = run_pytest(
        "-n",
        "0",
        "tests/test_contract_kit.py::test_the_mockserver_fixture_takes_a_marker_and_indirect_parameters",
        "tests/test_hubspot_sdk.py",
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
