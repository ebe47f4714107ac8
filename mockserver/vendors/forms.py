"""Form bodies with bracketed names (`a[b][c]=v`), decoded to nested dicts and lists.

Every value stays text (the contract says what text it must be); anything
malformed is refused as `Invalid`, naming the parameter, before the contract
check starts. What differs between APIs is how a list is written, so each
vendor passes its `ListStyle`:

- `operators`: names whose value is a list (e.g. in, not_in, between): a
  single value there is read as a JSON array or the Python list literal an SDK
  sends (`ast.literal_eval`, never eval; a flat list of strings and whole
  numbers only; a value not written as a list is a list of one item, as
  deepObject renders one), repeated values are its items, and indexed items
  (`[in][0]=a&[in][1]=b`) too.
- `indexed`: indexed items (`[columns][0]=a`) make a list anywhere.
- `empty_brackets`: repeated empty brackets (`[columns][]=a&[columns][]=b`) make a list.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ..validation import MAX_DEPTH, Invalid, json_path

MAX_FIELDS = 1000  # parameters in one body
MAX_LIST_CHARS = 20_000  # a list literal longer than this is refused unread


@dataclass(frozen=True)
class ListStyle:
    operators: tuple[str, ...] = ()
    indexed: bool = False
    empty_brackets: bool = False
    extra_chars: str = ""  # characters a bracketed part may hold besides letters, digits and _
    example: str = "a[b][c]"  # a parameter name, for the message about a malformed one

    def pattern(self) -> tuple[re.Pattern, re.Pattern]:
        chars = "A-Za-z0-9_" + re.escape(self.extra_chars)
        least = "0" if self.empty_brackets else "1"
        return (
            re.compile(rf"^([A-Za-z0-9_]{{1,64}})((?:\[[{chars}]{{{least},64}}\])*)$"),
            re.compile(rf"\[([{chars}]*)\]"),
        )


def decode_form(raw: bytes, style: ListStyle) -> dict[str, Any]:
    """The nested parameters of a form body; Invalid (400) for any malformed part."""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FIELDS, errors="strict"
        )
    except UnicodeDecodeError:
        raise Invalid("body", "", "The form body is not UTF-8", kind="malformed") from None
    except ValueError as exc:
        raise Invalid("body", "", f"The form body is malformed: {exc}", kind="malformed") from None
    name_re, part_re = style.pattern()
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    body: dict[str, Any] = {}
    for name, values in grouped.items():
        match = name_re.match(name)
        if match is None:
            raise Invalid(
                "body", "", f"{name[:80]!r} is not a parameter name such as {style.example}", kind="malformed"
            )
        parts = (match.group(1), *part_re.findall(match.group(2)))
        if len(parts) > MAX_DEPTH:  # before anything recurses over it (as JSON bodies are refused)
            raise Invalid(
                "body", json_path(parts[:1]), f"is nested more than {MAX_DEPTH} levels deep", kind="malformed"
            )
        if parts[-1] == "":
            _put(body, parts[:-1], values, style)
        elif parts[-1] in style.operators:
            _put(body, parts, values if len(values) > 1 else _literal(values[0], parts), style)
        elif len(values) > 1:
            raise Invalid("body", json_path(parts), "is given more than once", kind="malformed")
        else:
            _put(body, parts, values[0], style)
    return _listed(body, (), style)


def _put(body: dict, parts: tuple[str, ...], value: Any, style: ListStyle) -> None:
    node = body
    for depth, part in enumerate(parts[:-1]):
        if part == "":
            raise Invalid(
                "body", json_path(parts[:depth]), "cannot hold objects in an empty-bracket array", kind="malformed"
            )
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise Invalid(
                "body",
                json_path(parts[: depth + 1]),
                "is given both as a value and as a group of parameters",
                kind="malformed",
            )
        node = child
    last = parts[-1]
    if last in node:
        what = "both as a value and as a group of parameters" if isinstance(node[last], dict) else "more than once"
        raise Invalid("body", json_path(parts), f"is given {what}", kind="malformed")
    node[last] = value


def _listed(node: Any, where: tuple, style: ListStyle) -> Any:
    """Groups whose keys are all indexes (0, 1, 2 …) become lists, in index order, where the style
    lets them (anywhere, or only under a list operator)."""
    if not isinstance(node, dict):
        return node
    node = {key: _listed(value, (*where, key), style) for key, value in node.items()}
    listable = style.indexed or (where and where[-1] in style.operators)
    if node and listable and all(key.isdigit() for key in node):
        by_index = {int(key): value for key, value in node.items()}
        if sorted(by_index) != list(range(len(node))):  # a gap, or one index written twice (1 and 01)
            raise Invalid(
                "body", json_path(where), f"has indexes {sorted(node)[:10]}; they must run 0, 1, 2 …", kind="malformed"
            )
        return [by_index[index] for index in range(len(node))]
    return node


def _literal(value: str, parts: tuple[str, ...]) -> list[str]:
    """A list operator's single value: a JSON array or a Python list literal of strings and whole numbers."""
    text = value.strip()
    where = json_path(parts)
    example = "a list such as [\"a\", \"b\"] (or ['a', 'b'])"
    if not text.startswith("["):  # a list given item by item (repeated) that has one item
        return [value]
    if not text.endswith("]"):
        raise Invalid("body", where, f"must be {example}, not {value[:40]!r}")
    if len(text) > MAX_LIST_CHARS:
        raise Invalid("body", where, f"is a list over {MAX_LIST_CHARS} characters long")
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        try:
            items = python_literal(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise Invalid("body", where, f"cannot be read as {example}") from None
    if not isinstance(items, list) or not all(type(item) in (str, int) for item in items):
        raise Invalid("body", where, "must be a flat list of strings or whole numbers")
    return [str(item) for item in items]


def python_literal(text: str) -> Any:
    """`ast.literal_eval`, tried once more on CPython's spurious SystemError: before 3.11.8 and 3.12.2 one
    AST counter was shared by all threads (gh-106905), so a parse in another thread of the process (a
    test's schemathesis worker beside an in-process mock) could fail this one at random."""
    try:
        return ast.literal_eval(text)
    except SystemError:
        return ast.literal_eval(text)
