"""A small, deterministic body generator for JSON Schemas (OpenAPI 3.0 flavour,
already `$ref`-resolved by mockserver.spec).

It prefers what the schema author wrote (`example`, `default`, `enum`) and
otherwise builds the simplest value of the right type. Deterministic on
purpose: the same schema always gives the same body, so tests can rely on it.
"""

from __future__ import annotations

import re
from typing import Any

STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00.000Z",
    "date": "2024-01-01",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def generate(schema: dict[str, Any]) -> Any:
    """A value that satisfies `schema` (for the schema features our specs use)."""
    if "example" in schema:
        return schema["example"]
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    if "allOf" in schema:
        return generate(_merge(schema["allOf"]))
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return generate(schema[key][0])
    kind = _type(schema)
    if kind == "object":
        return {name: generate(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [generate(schema.get("items") or {}) for _ in range(max(schema.get("minItems", 1), 1))]
    if kind == "string":
        if "pattern" in schema:
            return matching(schema["pattern"])
        text = STRING_FORMATS.get(schema.get("format", ""), "string")
        return text.ljust(schema.get("minLength", 0), "x")
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {}


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # nullable: ["string", "null"] → the real type
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        return "object"
    return kind


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """allOf as one schema; later parts narrow earlier ones property by property."""
    merged: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for part in parts:
        if "allOf" in part:
            part = _merge(part["allOf"])
        merged.update({k: v for k, v in part.items() if k != "properties"})
        properties.update(part.get("properties") or {})
    if properties:
        merged["properties"] = properties
    return merged


def parse_regex(pattern: str):
    """The standard library's parse tree of `pattern` (opcode, argument) pairs: the one use of its private
    regex parser (`re._parser`, `sre_parse` before 3.11), which has no public counterpart.
    tests/test_control_prefer.py fails loudly if its shape changes."""
    try:
        from re import _parser as sre_parse  # Python ≥ 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[no-redef]
    return sre_parse.parse(pattern)


def matching(pattern: str) -> str:
    """The shortest simple string `pattern` accepts, e.g. `^aa_[A-Za-z0-9]+$` → `aa_A`."""
    text = "".join(_walk(parse_regex(pattern)))
    return text if re.search(pattern, text) else "string"


def _walk(parsed) -> list[str]:
    out: list[str] = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "IN":
            out.append(_first_of_class(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, item = arg
            out.extend(_walk(item) * low)
        elif name == "SUBPATTERN":
            out.extend(_walk(arg[-1]))
        elif name == "BRANCH":
            out.extend(_walk(arg[1][0]))
        elif name in ("ANY",):
            out.append("a")
        elif name == "CATEGORY":
            out.append(_category(str(arg)))
    return out


def _first_of_class(items) -> str:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return _category(str(arg))
    return "a"


def _category(name: str) -> str:
    return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " "}.get(name, "a")
