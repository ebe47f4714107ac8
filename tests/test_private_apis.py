"""Where a dependency offers no public API, our one use of its private one fails loudly here if it changes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockserver.control.generate import matching, parse_regex


def test_the_standard_library_regex_parser_keeps_its_shape():
    """control/generate.py walks `re._parser`'s tree to build a string a pattern accepts."""
    tree = list(parse_regex("a[b-c]+"))
    assert [str(op) for op, _ in tree] == ["LITERAL", "MAX_REPEAT"]
    assert tree[0][1] == ord("a")
    low, high, item = tree[1][1]
    assert (low, str(high)) == (1, "MAXREPEAT") and [str(op) for op, _ in item] == ["IN"]


@pytest.mark.parametrize(
    ("pattern", "text"),
    [("^aa_[A-Za-z0-9]+$", "aa_A"), ("^[0-9]{3}$", "000"), ("^(x|y)z$", "xz"), ("^[A-Z]{2}-\\d+$", "AA-0")],
)
def test_matching_builds_the_shortest_string(pattern, text):
    assert matching(pattern) == text


def test_no_module_reaches_into_aiohttp_internals():
    """Malformed HTTP gets aiohttp's own generic answer (as the vendors' load balancers answer it), so nothing
    swaps aiohttp's classes or overrides its private methods: an aiohttp release cannot break serving."""
    root = Path(__file__).resolve().parent.parent / "mockserver"
    private = re.compile(r"aiohttp\.web_protocol|RequestHandler|_make_server|\.__class__\s*=")
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert found == []
