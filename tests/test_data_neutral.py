"""The data engine knows no vendor: vendors register their recipes and worlds from their own package."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from mockserver.cli import main
from mockserver.data.blocks import RECIPES, Recipe, recipe_of, register
from mockserver.data.model import ObjectModel

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


@pytest.mark.slow
def test_importing_the_engine_registers_no_recipe():
    code = "import mockserver.data, mockserver.data.cli, mockserver.data.blocks as b; print(sorted(b.RECIPES))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_unregistered_recipe_says_where_it_comes_from():
    model = ObjectModel("nobody_registered_this", {}, (), (), (), {}, False)
    with pytest.raises(LookupError, match="vendor's package registers it"):
        recipe_of(model)


def test_another_recipe_under_a_taken_name_is_refused():
    import mockserver.vendors.voucherify  # noqa: F401 - registers its recipes

    taken = RECIPES["order"]
    register({"order": taken})  # the same again: a no-op
    with pytest.raises(ValueError, match="'order'"):
        register({"order": Recipe(lambda block: {})})
    assert RECIPES["order"] is taken


def test_generate_finds_the_spec_that_exports_the_object(capsys):
    assert main(["generate", "orders", "--rows", "2"]) == 0  # only one bundled spec has `orders`
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("id,document_number,")
