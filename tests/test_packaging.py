"""The package ships everything it needs: every subpackage and the schemas."""

from __future__ import annotations

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (the declared minimum): the same parser, as a package
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mockserver").rglob("__init__.py")}
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"


def test_every_schema_folder_has_an_openapi_document():
    for folder in (ROOT / "schemas").iterdir():
        if folder.is_dir():
            assert (folder / "openapi.yaml").is_file(), folder
