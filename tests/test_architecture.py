"""The walls between the shared engine and the vendors: no code outside
mockserver/vendors/ names a vendor — no import, identifier or string constant
matching a vendor's name or its credential header. Comments and docstrings may
use one as an example. A vendor is one package (mockserver/vendors/<name>/)
and one schema folder, found through the registry.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from mockserver import registry
from mockserver.vendors.base import Vendor

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver"
NAMED = re.compile(r"voucherify|chargebee|stripe|x-app-id", re.IGNORECASE)


def shared_modules() -> list[Path]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "vendors" and len(relative.parts) > 2:  # a vendor's own package
            continue
        found.append(path)
    return found


def docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def vendor_names_in(source: str) -> list[tuple[int, str]]:
    """(line, token) of each identifier or string constant naming a vendor; comments and docstrings aside."""
    skip = docstring_lines(ast.parse(source))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.NAME, tokenize.STRING) or token.start[0] in skip:
            continue
        if NAMED.search(token.string):
            found.append((token.start[0], token.string))
    return found


@pytest.mark.parametrize("path", shared_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_shared_module_names_no_vendor(path):
    assert vendor_names_in(path.read_text(encoding="utf-8")) == []


def test_the_scanner_sees_code_and_not_prose():
    source = '''"""Voucherify's docstring is prose."""
import chargebee  # a comment about Stripe is prose too
HEADER = "X-App-Id"
def f():
    """Chargebee in a docstring."""
    return stripe_key
'''
    assert [name for _, name in vendor_names_in(source)] == ["chargebee", '"X-App-Id"', "stripe_key"]


def test_the_bundled_vendors_come_from_the_registry():
    found = registry.available()
    assert {"voucherify", "chargebee"} <= set(found)
    assert list(found) == sorted(found)
    for name, vendor in found.items():
        assert issubclass(vendor, Vendor) and vendor.name == name


def test_a_vendor_package_and_schema_folder_are_all_a_vendor_is():
    """Every registered vendor mounts where its schema says and answers every operation."""
    from mockserver.app import Settings

    for vendor in registry.build(Settings()):
        assert vendor.prefixes, vendor.name
        assert set(vendor.handlers()) == {op.operation_id for op in vendor.spec.operations}
        assert vendor.spec.document.get("x-mock-mount"), f"{vendor.name}: declare x-mock-mount in openapi.yaml"
