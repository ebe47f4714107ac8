"""The list literal an SDK sends in a form field (`['a', 'b']`) survives CPython's spurious SystemError.

Before 3.11.8 and 3.12.2, CPython counted AST depth in one place for all threads (gh-106905); a test's
schemathesis worker parsing beside an in-process mock could make the mock's `ast.literal_eval` fail at
random, and the request got a 500."""

from __future__ import annotations

import ast

import pytest

from mockserver.vendors.forms import ListStyle, decode_form

STYLE = ListStyle(operators=("in",))


def test_a_python_list_literal_is_read_even_when_the_first_parse_fails_spuriously(monkeypatch):
    real, calls = ast.literal_eval, []

    def flaky(text):
        calls.append(text)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=189, after=241)")
        return real(text)

    monkeypatch.setattr(ast, "literal_eval", flaky)
    body = decode_form(b"status[in]=%5B%27a%27%2C+%27b%27%5D", STYLE)
    assert body == {"status": {"in": ["a", "b"]}} and len(calls) == 2


def test_a_second_failure_is_not_hidden(monkeypatch):
    def broken(text):
        raise SystemError("still broken")

    monkeypatch.setattr(ast, "literal_eval", broken)
    with pytest.raises(SystemError):
        decode_form(b"status[in]=%5B%27a%27%5D", STYLE)
