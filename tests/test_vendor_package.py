"""A vendor shipped in a package of its own gets all three commands: `serve`, `contract --spec NAME`
and `generate --spec NAME`. The package is built and installed for real (pip, into a folder put on
PYTHONPATH: importlib.metadata finds its entry point there as in any environment) and holds only an
OpenAPI document, an overlay and the two lines of docs/architecture.md's guide. Then the guide's
own path: `serve --spec DIR` and `contract --spec DIR` on the folder itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.app import SERVICES, Settings
from mockserver.cli import main
from mockserver.registry import folder
from mockserver.spec import schemas_dir
from mockserver.testing import ServerThread

ACME = Path(__file__).parent / "specs" / "acme"
PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-mock"
version = "0.1.0"

[project.entry-points."mockserver.vendors"]
acme = "acme_mock:VENDOR"

[tool.setuptools]
packages = ["acme_mock"]

[tool.setuptools.package-data]
acme_mock = ["api/*.yaml"]
"""
MODULE = """from pathlib import Path

from mockserver.vendors.openapi import folder_vendor

VENDOR = folder_vendor(Path(__file__).parent / "api", "acme")
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """The environment of a Python where the package `acme-mock` is installed."""
    source = tmp_path_factory.mktemp("acme-mock")
    (source / "pyproject.toml").write_text(PYPROJECT)
    shutil.copytree(ACME, source / "acme_mock" / "api")
    (source / "acme_mock" / "__init__.py").write_text(MODULE)
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}


def _mockserver(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_an_installed_package_vendor_gets_serve_contract_and_generate(installed):
    generated = _mockserver(installed, "generate", "orders", "--spec", "acme", "--rows", "3", "--fields", "id,amount")
    assert generated.returncode == 0, generated.stderr
    lines = generated.stdout.splitlines()
    assert lines[0] == "id,amount" and len(lines) == 4 and lines[1].startswith("ord_")
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--vendors", "acme", "--port", "0", "--lifecycle", "instant"],
        env=installed,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = server.stdout.readline()
        url = re.search(r"listening on (http://\S+)", first).group(1)
        checked = _mockserver(
            installed, "contract", "--spec", "acme", "--base-url", url + "/reports/v2", "--max-examples", "3"
        )
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr
        assert re.search(r"PASSED: 6 operations", checked.stdout), checked.stdout[-2000:]
        for ours in ("export_lifecycle", "csv_download", "error_shape", "auth_required", "tenant_isolation"):
            assert re.search(rf"ok   {ours} \(\d+ passed\)", checked.stdout), ours
            assert f"SKIPPED {ours}" not in checked.stdout, checked.stdout[:2000]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("source", [ACME, schemas_dir() / "hubspot"], ids=["acme", "hubspot"])
def test_contract_passes_on_a_folder_served_with_spec(tmp_path, capsys, source):
    """The guide's loop: `serve --spec DIR`, then `contract --spec DIR` against it (a copy elsewhere)."""
    copy = tmp_path / source.name
    shutil.copytree(source, copy)
    vendor = folder(str(copy))()
    base = "/reports/v2" if source == ACME else ""
    with ServerThread(Settings(port=0, lifecycle="instant", specs=[str(copy)])) as server:
        assert [v.name for v in server.app[SERVICES].vendors] == [vendor.name]  # that API alone
        status = main(["contract", "--spec", str(copy), "--base-url", server.url + base, "--max-examples", "3"])
    out = capsys.readouterr().out
    assert status == 0, out[-3000:]
    assert "PASSED" in out and "error_shape" in out
    for ours in ("export_lifecycle", "csv_download", "tenant_isolation"):  # run from the annotations, not SKIPPED
        assert re.search(rf"ok   {ours} \(\d+ passed\)", out) and f"SKIPPED {ours}" not in out, out[:2000]
