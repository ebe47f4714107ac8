"""Chargebee's form bodies: bracketed names and list values, decoded to nested dicts.

    order[status][in]=['queued', 'complete']&total[gte]=1000
    → {"order": {"status": {"in": ["queued", "complete"]}}, "total": {"gte": "1000"}}

Every value stays text (the contract says what text it must be). The list
operators (in, not_in, between) take a list written as a JSON array or as
the Python repr the official SDK sends (read with `ast.literal_eval` — never
eval — and only a flat list of strings and whole numbers is accepted); or
item by item, as OpenAPI's deepObject style renders one: indexed
(`order[status][in][0]=queued&order[status][in][1]=complete`) or repeated
(`total[between]=100&total[between]=900`; so a value that is not written as a list is a list of
one item, as deepObject renders one). Anything else is refused as `Invalid`, naming the
parameter, before the contract check even starts.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from ...validation import Invalid, json_path

LIST_OPERATORS = ("in", "not_in", "between")
MAX_FIELDS = 1000  # parameters in one body
MAX_LIST_CHARS = 20_000  # a list value longer than this is refused unread
_NAME = re.compile(r"^([A-Za-z0-9_]{1,64})((?:\[[A-Za-z0-9_]{1,64}\])*)$")  # short parts: an index is a small int
_PART = re.compile(r"\[([A-Za-z0-9_]+)\]")


def decode_form(raw: bytes) -> dict[str, Any]:
    """The nested parameters of a form body; Invalid (400) for any malformed part."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FIELDS,
                          errors="strict")
    except UnicodeDecodeError:
        raise Invalid("body", "", "The form body is not UTF-8", kind="malformed") from None
    except ValueError as exc:
        raise Invalid("body", "", f"The form body is malformed: {exc}", kind="malformed") from None
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    body: dict[str, Any] = {}
    indexed: dict[tuple[str, ...], dict[int, str]] = {}  # order[status][in][0]=… → list items by index
    for name, values in grouped.items():
        parts = _parts(name)
        listed = parts[-1] in LIST_OPERATORS
        if len(values) > 1 and not listed:
            raise Invalid("body", json_path(parts), "is given more than once", kind="malformed")
        if len(parts) > 1 and parts[-1].isdigit() and parts[-2] in LIST_OPERATORS:
            indexed.setdefault(parts[:-1], {})[int(parts[-1])] = values[0]
        elif listed:
            _put(body, parts, _list(values[0], parts) if len(values) == 1 else values)
        else:
            _put(body, parts, values[0])
    for parts, items in indexed.items():
        if sorted(items) != list(range(len(items))):
            raise Invalid("body", json_path(parts), f"has indexes {sorted(items)[:10]}; they must run 0, 1, 2 …",
                          kind="malformed")
        _put(body, parts, [items[index] for index in range(len(items))])
    return body


def _parts(name: str) -> tuple[str, ...]:
    match = _NAME.match(name)
    if match is None:
        raise Invalid("body", "", f"{name!r} is not a parameter name such as order[status][in]", kind="malformed")
    return (match.group(1), *_PART.findall(match.group(2)))


def _put(body: dict, parts: tuple[str, ...], value: Any) -> None:
    node = body
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise Invalid("body", json_path(parts[:depth + 1]), "is given both as a value and as a group of parameters",
                          kind="malformed")
        node = child
    last = parts[-1]
    if last in node:
        what = "both as a value and as a group of parameters" if isinstance(node[last], dict) else "more than once"
        raise Invalid("body", json_path(parts), f"is given {what}", kind="malformed")
    node[last] = value


def _list(value: str, parts: tuple[str, ...]) -> list[str]:
    """A list value: a JSON array or a Python list literal of strings and whole numbers."""
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
            items = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise Invalid("body", where, f"cannot be read as {example}") from None
    if not isinstance(items, list) or not all(type(item) in (str, int) for item in items):
        raise Invalid("body", where, "must be a flat list of strings or whole numbers")
    return [str(item) for item in items]
