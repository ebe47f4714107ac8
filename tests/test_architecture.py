"""The walls between the shared engine and the vendors: no code outside
mockserver/vendors/ names a vendor — no import, identifier or string constant
matching a vendor's name or its credential header. Comments and docstrings may
use one as an example. A vendor is one package (mockserver/vendors/<name>/)
and one schema folder, found through the registry. And the modules import
one another without a cycle, counting imports placed inside functions (a lazy
import may defer loading, not hide a layer imported upwards).
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


# ---------------------------------------------------------------- imports form no cycle
def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, dict[str, int]]:
    """module → {module of the same package it imports: line}, every import counted (module level or
    inside a function) but those under `if TYPE_CHECKING:`, which only name a type."""
    modules = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                if target in modules and target != name:
                    graph[name].setdefault(target, node.lineno)
    return graph


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Each cycle as the modules on it (strongly connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_the_modules_import_one_another_without_a_cycle():
    graph = import_graph(PACKAGE)
    cycles = import_cycles(graph)
    described = [
        [f"{m} (line {graph[m][t]}) imports {t}" for m in cycle for t in graph[m] if t in cycle] for cycle in cycles
    ]
    assert not cycles, described


def test_a_cycle_hidden_in_a_function_is_found_and_a_typing_import_is_not(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("def late():\n    from .high import thing\n    return thing\n")
    (package / "high.py").write_text("from . import low\nthing = low\n")
    (package / "typed.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .high import thing\n"
    )
    (package / "user.py").write_text("from .typed import TYPE_CHECKING\n")
    graph = import_graph(package)
    assert graph["pkg.high"] == {"pkg.low": 1} and graph["pkg.low"] == {"pkg.high": 2}
    assert graph["pkg.typed"] == {}
    assert import_cycles(graph) == [["pkg.high", "pkg.low"]]
