"""A fast acceptor for request schemas: the valid request's shortcut past jsonschema.

`compile_acceptor(schema)` turns a resolved (Draft 7) schema into a function
that answers True only when jsonschema's Draft7Validator would find no error in
the instance. False means "not sure": the caller then runs jsonschema itself,
which finds the error (and words it) exactly as before, or finds none. So the
acceptor can only make a valid request cheaper; it never changes an answer.

It understands the keywords our request schemas use (type, enum, properties,
required, additionalProperties, items, anyOf, allOf, lengths, sizes, bounds,
pattern, uniqueItems, format) with jsonschema's own semantics, and is stricter
where those get subtle: any other validating keyword (oneOf, not, $ref, …), a
float where an integer is asked for, a non-JSON Python type, or repeated items
that are not all strings make it answer False. Keywords jsonschema ignores
(description, default, nullable, x-…) are ignored here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

Acceptor = Callable[[Any], bool]
Check = Callable[[Any, type], bool]  # (instance, its type) → holds for sure

JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None)})
VALIDATING = frozenset(Draft7Validator.VALIDATORS)  # every other key is an annotation to jsonschema
SUPPORTED = frozenset({
    "type", "enum", "properties", "required", "additionalProperties", "minProperties", "maxProperties",
    "items", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "allOf",
})
NUMBER = (int, float)
TYPES: dict[str, frozenset[type]] = {  # exact JSON types; a bool is never a number here
    "array": frozenset({list}),
    "boolean": frozenset({bool}),
    "integer": frozenset({int}),  # jsonschema also takes 1.0: not sure → False
    "null": frozenset({type(None)}),
    "number": frozenset({int, float}),
    "object": frozenset({dict}),
    "string": frozenset({str}),
}


def _unsure(value: Any) -> bool:
    return False


def _anything(value: Any) -> bool:
    return True


def compile_acceptor(schema: Any, format_checker: FormatChecker | None = None) -> Acceptor:
    """The acceptor of `schema` (see the module docstring)."""
    return _Compiler(format_checker).node(schema)


class _Compiler:
    def __init__(self, format_checker: FormatChecker | None) -> None:
        self.formats = format_checker
        self.done: dict[int, Acceptor] = {}  # resolved schemas share sub-schemas: compile each once
        self.keep: list[Any] = []  # keeps the ids above meaningful

    def node(self, schema: Any) -> Acceptor:
        if schema is True:
            return _anything
        if not isinstance(schema, dict):
            return _unsure  # False (never valid) or not a schema at all
        key = id(schema)
        if key not in self.done:
            self.keep.append(schema)
            self.done[key] = _unsure  # a recursive schema stays unsure
            self.done[key] = self._compile(schema)
        return self.done[key]

    def _compile(self, schema: dict) -> Acceptor:
        keywords = VALIDATING.intersection(schema)
        if not keywords <= SUPPORTED:
            return _unsure
        allowed = JSON_TYPES
        if "type" in keywords:
            names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            if not isinstance(names, list) or not all(isinstance(n, str) and n in TYPES for n in names):
                return _unsure
            allowed = frozenset().union(*(TYPES[name] for name in names))
            keywords = keywords - {"type"}
        made = [getattr(self, "_" + name)(schema[name], schema) for name in sorted(keywords)]
        if any(check is False for check in made):
            return _unsure
        checks = tuple(check for check in made if check is not True)
        if not checks:
            return lambda value: type(value) in allowed

        def accept(value: Any) -> bool:
            kind = type(value)
            if kind not in allowed:
                return False
            for check in checks:
                if not check(value, kind):
                    return False
            return True

        return accept

    # each keyword: a Check, True (always holds) or False (cannot say: the whole schema is unsure)
    def _enum(self, enums, schema):
        if not isinstance(enums, list):
            return False
        strings = frozenset(e for e in enums if type(e) is str)
        has_none = any(e is None for e in enums)
        bools = [e for e in enums if type(e) is bool]
        numbers = [e for e in enums if type(e) in NUMBER]

        def check(v, t):
            if t is str:
                return v in strings
            if v is None:
                return has_none
            if t is bool:
                return any(v is e for e in bools)
            if t in NUMBER:
                return any(v == e for e in numbers)
            return False  # arrays and objects: not sure

        return check

    def _properties(self, properties, schema):
        if not isinstance(properties, dict):
            return False
        subs = {name: self.node(sub) for name, sub in properties.items()}

        def check(v, t):
            if t is not dict:
                return True
            for name, item in v.items():  # the instance's properties: usually fewer than the schema's
                accept = subs.get(name)
                if accept is not None and not accept(item):
                    return False
            return True

        return check

    def _required(self, required, schema):
        if not isinstance(required, list):
            return False
        names = tuple(required)
        return lambda v, t: t is not dict or all(name in v for name in names)

    def _additionalProperties(self, extra, schema):
        known = schema.get("properties", {})
        if isinstance(extra, dict):
            accept = self.node(extra)
            return lambda v, t: t is not dict or all(accept(item) for name, item in v.items() if name not in known)
        if not extra:
            return lambda v, t: t is not dict or all(name in known for name in v)
        return True

    def _minProperties(self, limit, schema):
        return lambda v, t: t is not dict or len(v) >= limit

    def _maxProperties(self, limit, schema):
        return lambda v, t: t is not dict or len(v) <= limit

    def _items(self, items, schema):
        if isinstance(items, list):
            return False  # tuple validation
        accept = self.node(items)
        return lambda v, t: t is not list or all(accept(item) for item in v)

    def _minItems(self, limit, schema):
        return lambda v, t: t is not list or len(v) >= limit

    def _maxItems(self, limit, schema):
        return lambda v, t: t is not list or len(v) <= limit

    def _uniqueItems(self, unique, schema):
        if not unique:
            return True
        # strings compare plainly; anything else (1 vs 1.0 vs True, nested values): not sure
        return lambda v, t: t is not list or (all(type(item) is str for item in v) and len(set(v)) == len(v))

    def _minLength(self, limit, schema):
        return lambda v, t: t is not str or len(v) >= limit

    def _maxLength(self, limit, schema):
        return lambda v, t: t is not str or len(v) <= limit

    def _pattern(self, pattern, schema):
        try:
            search = re.compile(pattern).search  # what jsonschema's re.search(pattern, instance) does
        except (re.error, TypeError):
            return False
        return lambda v, t: t is not str or search(v) is not None

    def _format(self, name, schema):
        if self.formats is None:
            return True  # jsonschema checks formats only with a format checker
        conforms = self.formats.conforms
        return lambda v, t: conforms(v, name)

    def _minimum(self, bound, schema):
        return lambda v, t: t not in NUMBER or v >= bound

    def _maximum(self, bound, schema):
        return lambda v, t: t not in NUMBER or v <= bound

    def _exclusiveMinimum(self, bound, schema):
        return lambda v, t: t not in NUMBER or v > bound

    def _exclusiveMaximum(self, bound, schema):
        return lambda v, t: t not in NUMBER or v < bound

    def _anyOf(self, subs, schema):
        if not isinstance(subs, list):
            return False
        accepts = tuple(self.node(sub) for sub in subs)

        def check(v, t):
            for accept in accepts:
                if accept(v):
                    return True
            return False

        return check

    def _allOf(self, subs, schema):
        if not isinstance(subs, list):
            return False
        accepts = tuple(self.node(sub) for sub in subs)

        def check(v, t):
            for accept in accepts:
                if not accept(v):
                    return False
            return True

        return check
