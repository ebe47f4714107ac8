"""The data engine knows no vendor: vendors declare their recipes and worlds in their own package."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from dataclasses import replace
from pathlib import Path

import pytest

from mockserver.cli import main
from mockserver.data.batches import recipe_of
from mockserver.data.model import ObjectModel, Recipes

DATA = Path(__file__).resolve().parent.parent / "mockserver" / "data"
VENDOR_WORDS = re.compile(r"voucherify|chargebee|stripe|x-app-id", re.IGNORECASE)
CODE_TEXT = {tokenize.NAME, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}  # 3.12+ f-strings


def code_tokens(source: str):
    """Names and string constants, without comments and docstrings (a string statement on its own)."""
    previous = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and previous in (
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            previous = token.type
            continue  # a docstring
        if token.type in CODE_TEXT:
            yield token
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type


def test_no_vendor_is_named_in_the_data_engine():
    named = [
        f"{path.name}:{token.start[0]}: {token.string}"
        for path in sorted(DATA.glob("*.py"))
        for token in code_tokens(path.read_text(encoding="utf-8"))
        if VENDOR_WORDS.search(token.string)
    ]
    assert named == []


def test_the_check_sees_a_vendor_name_in_code_but_not_in_a_docstring():
    source = '"""About voucherify."""\n# chargebee\nASSETS = "https://dl.voucherify.io"\nimport stripe\n'
    assert [t.string for t in code_tokens(source) if VENDOR_WORDS.search(t.string)] == [
        '"https://dl.voucherify.io"',
        "stripe",
    ]


def test_importing_the_engine_and_a_vendor_loads_no_recipe_and_no_engine_library():
    """Recipes are declared on the vendor (Vendor.data_recipes), not registered by an import; numpy,
    polars and faker load with the first rows made, so the server and --help start without them."""
    code = (
        "import sys, mockserver.data, mockserver.commands.generate, mockserver.vendors.voucherify as v;"
        "print(sorted({'numpy', 'polars', 'faker', v.Voucherify.data_recipes.module} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_undeclared_recipe_says_where_it_comes_from():
    model = ObjectModel("nobody_declared_this", {}, (), (), (), {}, False)
    with pytest.raises(LookupError, match="its vendor declares none"):
        recipe_of(model)


def test_a_row_schema_no_recipe_makes_fails_at_start_up():
    """Voucherify's rows with a declaration that lacks `order`: refused when the app is built, in one
    line naming the vendor and the object, not at the first export of orders."""
    from mockserver.app import create_app
    from mockserver.options import Settings
    from mockserver.vendors.voucherify import Voucherify

    declared = Voucherify.data_recipes
    lacking = type("Lacking", (Voucherify,), {"data_recipes": replace(declared, objects=declared.objects - {"order"})})
    with pytest.raises(ValueError, match=r"voucherify: no recipe makes the rows of order: declare one"):
        create_app(Settings(), vendors=[lacking()])
    create_app(Settings(), vendors=[Voucherify()])  # the declaration as shipped


def test_a_declaration_that_disagrees_with_its_module_is_refused_when_loaded():
    from mockserver.vendors.voucherify import Voucherify

    declared = Voucherify.data_recipes
    extra = Recipes(declared.module, declared.objects | {"nothing_makes_this"})
    with pytest.raises(ValueError, match="declared as .*nothing_makes_this"):
        extra.load()
    assert set(declared.load()) == declared.objects


def test_generate_finds_the_spec_that_exports_the_object(capsys):
    assert main(["generate", "orders", "--rows", "2"]) == 0  # only one bundled spec has `orders`
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("id,document_number,")


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["generate", "orders"]])
def test_a_folder_whose_rows_nothing_makes_is_refused_in_one_line(tmp_path, command):
    """`x-recipe` naming a recipe a folder of data cannot declare: serve and generate refuse it before
    serving or writing anything, in one line that says what would make the rows."""
    import shutil

    folder = tmp_path / "acme"
    shutil.copytree(Path(__file__).resolve().parent / "specs" / "acme", folder)
    overlay = folder / "mock.overlay.yaml"
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("x-recipe: schema", "x-recipe: handmade"))
    done = subprocess.run(  # a process of its own: a server that started anyway would be stopped by the timeout
        [sys.executable, "-m", "mockserver", *command, "--spec", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and "acme: no recipe makes the rows of orders, customers" in done.stderr
