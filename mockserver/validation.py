"""Check a request against its operation before any behaviour runs.

Validators are compiled once per operation at start-up. A failed check raises
`Invalid` with the offending location (`body`, `query`, `path`) and a JSON
path, so the vendor module can word it in the vendor's own error shape.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import jsonschema_rs
from aiohttp import web
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from .errors import ApiError
from .respond import header_text
from .spec import Operation

FORMATS = FormatChecker()
# the accept path asks jsonschema's own format checks (jsonschema-rs' date-time takes a leap second, 23:59:60)
FORMAT_FUNCTIONS = {name: partial(FORMATS.conforms, format=name) for name in FORMATS.checkers}
BODY_SECONDS = 30.0  # a request body must arrive within this, once its headers have
MAX_DEPTH = 64  # JSON nested deeper than this is refused: deep enough for any real body, shallow enough for recursion


def parse_json(text: str) -> Any:
    """Strict JSON: ValueError for malformed text, NaN/Infinity (not JSON, and
    nothing could send them back) and nesting deeper than MAX_DEPTH."""
    try:
        # json.loads(text, parse_constant=_not_json) with its decoder made once; json.loads
        # itself for a leading BOM, which only it refuses (in its own words)
        value = json.loads(text, parse_constant=_not_json) if text.startswith("\ufeff") else _DECODER.decode(text)
    except RecursionError:  # e.g. 100,000 levels of [[[…
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    # nesting is at most the number of brackets that open it: a text with few (most bodies) needs no walk
    if text.count("[") + text.count("{") > MAX_DEPTH and not _shallow(value, MAX_DEPTH):
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    return value


async def read_body(request) -> bytes:
    """The request body, or a 408 when it does not arrive within BODY_SECONDS: a
    client sending a body byte by byte (or never) holds only its own connection.

    A body its `Content-Encoding` (gzip, deflate …) cannot decode is `Invalid` (400). aiohttp
    decodes it as it arrives, and the app's client_max_size (1 MiB) counts the decoded bytes, so
    a gzip bomb is a 413 once 1 MiB of it is decoded, not a process out of memory."""
    try:
        if request.content.is_eof():  # the usual case: it came with the headers
            return await request.read()
        return await asyncio.wait_for(request.read(), BODY_SECONDS)
    except asyncio.TimeoutError:
        raise ApiError(
            408,
            "request_timeout",
            "Request Timeout",
            f"The request body did not arrive within {BODY_SECONDS:g} seconds",
        ) from None
    except web.RequestPayloadError as exc:
        if request.transport is None or request.transport.is_closing():
            raise ConnectionResetError("the client went away mid-body") from None  # nobody to answer
        reason = str(exc.__cause__ or exc).strip().splitlines()
        reason = reason[-1].strip() if reason else "it is cut short or badly framed"
        encoding = header_text(request.headers.get("Content-Encoding", "identity"), 40)
        raise Invalid(
            "body", "", f"The body cannot be read (Content-Encoding: {encoding}): {reason[:200]}", kind="malformed"
        ) from None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_not_json)


def _shallow(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest at most `limit` deep (without recursing)."""
    if not isinstance(value, (dict, list)):
        return True
    level, depth = [value], 1
    while level:
        if depth > limit:
            return False
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        depth += 1
    return True


MAX_FINDINGS = 20  # per request: a body with 10,000 typos gets 20 findings, not 10,000
_SCALARS = frozenset((str, int, float, bool, type(None)))  # what JSON decodes to besides objects and arrays
_COMPOSED = ("allOf", "anyOf", "oneOf")


class Invalid(Exception):
    """The request breaks the contract."""

    def __init__(self, location: str, path: str, message: str, *, status: int = 400, kind: str = "invalid") -> None:
        super().__init__(message)
        self.location = location
        self.path = path
        self.message = message
        self.status = status
        self.kind = kind  # invalid | malformed | media_type | missing


@dataclass(frozen=True)
class Inputs:
    """What a request carries, decoded and checked."""

    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    media_type: str | None


def json_path(parts) -> str:
    """`["parameters", "fields", 0]` -> `.parameters.fields[0]` (Voucherify's notation)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass(frozen=True)
class Finding:
    location: str  # body | query | path
    path: str  # JSON path in the location, e.g. .parameters.filters.stauts
    message: str  # says what was found and what was expected
    severity: str = "warning"

    def invalid(self) -> Invalid:
        """The finding as a contract violation (strict mode), worded by the vendor like any other."""
        parent, _, _name = self.path.rpartition(".")
        return Invalid(self.location, parent if self.message.startswith("'") else self.path, self.message)

    def text(self) -> str:
        return f"{self.location}{self.path}: {self.message}"

    def header(self) -> str:
        return header_text(self.text())

    def as_json(self) -> dict[str, str]:
        return {"severity": self.severity, "location": self.location, "path": self.path, "message": self.message}


class Declared:
    """The properties a schema declares at each level of a body (all composition branches merged).

    Worked out level by level, as bodies reach each one: Voucherify's create-export body schema has
    132,000 nodes to walk (0.8 s on the event loop at the first create), a body visits a few dozen."""

    __slots__ = ("_schemas", "_props", "_items", "_free", "_tag", "_branches", "_known")

    def __init__(self, schemas: list[Any]) -> None:
        self._schemas = schemas
        self._props: dict[str, Declared] | None = None  # None until the level is worked out
        self._known: dict[str, Declared] | None = None  # a branch's: its parent's properties and its own

    @classmethod
    def of(cls, schema: Any) -> Declared:
        return cls([schema])

    def _level(self) -> None:
        if self._props is not None:
            return
        props: dict[str, list[Any]] = {}
        items: list[Any] = []
        self._free = False  # keys here are data (a map, metadata), or nothing is declared: no findings
        self._tag: str | None = None  # a discriminator: its value picks one of `branches`
        self._branches: dict[str, Declared] = {}
        for schema in _merged(self._schemas):
            mapping = (schema.get("discriminator") or {}).get("mapping")
            if mapping:
                self._tag = schema["discriminator"]["propertyName"]
                self._branches = {tag: Declared([branch]) for tag, branch in mapping.items()}
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                self._free = True
            for name, sub in (schema.get("properties") or {}).items():
                props.setdefault(name, []).append(sub)
            if isinstance(schema.get("items"), dict):
                items.append(schema["items"])
        self._items = Declared(items) if items else None
        self._props = {name: Declared(subs) for name, subs in props.items()}

    def unknown(self, value: Any, location: str, path: tuple = (), out: list[Finding] | None = None) -> list[Finding]:
        """Findings for the properties of `value` this schema does not declare."""
        out = [] if out is None else out
        self._level()
        kind = type(value)  # exact types first: an ABC's isinstance costs several times more (14 a create body)
        if kind is dict or (kind is not list and kind not in _SCALARS and isinstance(value, Mapping)):
            node = self
            if self._tag is not None:
                tag = value.get(self._tag)
                branch = self._branches.get(tag) if isinstance(tag, str) else None
                if branch is not None:
                    branch._level()
                    node = branch
            known = node._props
            if node is not self:
                known = node._known
                if known is None:
                    known = node._known = {**self._props, **node._props}
            free = node._free or not known
            for key, item in value.items():
                if len(out) >= MAX_FINDINGS:
                    break
                child = known.get(key)
                if child is not None:
                    if type(item) not in _SCALARS and isinstance(item, (dict, list, Mapping)):  # a scalar has none
                        child.unknown(item, location, (*path, key), out)
                elif not free:
                    expected = ", ".join(sorted(known))
                    out.append(
                        Finding(
                            location,
                            json_path((*path, key)),
                            f"'{key}' was unexpected: not a property of this object "
                            f"(the vendor ignores it); expected one of: {expected}",
                        )
                    )
        elif isinstance(value, list) and self._items is not None:
            for index, item in enumerate(value):
                if len(out) >= MAX_FINDINGS:
                    break
                if type(item) not in _SCALARS and isinstance(item, (dict, list, Mapping)):
                    self._items.unknown(item, location, (*path, index), out)
        return out


def _merged(schemas: list[Any]) -> list[dict]:
    """The schemas and, recursively, their allOf/anyOf/oneOf branches: what one level of a body may hold."""
    out: list[dict] = []
    pending = list(schemas)
    while pending:
        schema = pending.pop(0)
        if isinstance(schema, dict):
            out.append(schema)
            pending[:0] = [branch for key in _COMPOSED for branch in schema.get(key) or ()]
    return out


# JSON Schema patterns are ECMA-262 regexes, where \d, \w and \s are narrower than in Python's `re`
# (Python's \s also takes \x1c-\x1f and \x85; its \d and \w any script's digits and letters)
ECMA_CLASSES = {
    "d": "0-9",
    "w": "A-Za-z0-9_",
    "s": "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff",
}
ORIGINAL_PATTERNS: dict[str, str] = {}  # translated → as the schema wrote it (for error messages)
_NOT_SCHEMAS = frozenset({"enum", "const", "default", "example", "examples"})


def ecma_regex(pattern: str) -> str:
    """`pattern` for Python's `re` with ECMA-262's meaning of \\d \\w \\s (and \\D \\W \\S outside brackets)
    and of `$` (the end of input: Python's `$` also matches before a final newline)."""
    out, index, in_class = [], 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escape = pattern[index : index + 2]
            letter = escape[1]
            if letter.lower() in ECMA_CLASSES and (letter.islower() or not in_class):
                body = ECMA_CLASSES[letter.lower()]
                out.append(body if in_class else (f"[{body}]" if letter.islower() else f"[^{body}]"))
            else:
                out.append(escape)
            index += 2
            continue
        if char == "$" and not in_class:  # ECMA's `$` is the end of input; Python's also takes a final "\n"
            out.append("\\Z")
            index += 1
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class and out[-1] not in ("[", "[^"):
            in_class = False
        out.append(char)
        index += 1
    translated = "".join(out)
    if translated != pattern:
        ORIGINAL_PATTERNS[translated] = pattern
    return translated


def with_ecma_patterns(schema: Any, memo: dict[int, Any] | None = None) -> Any:
    """A copy of `schema` whose patterns mean in Python what they mean in JSON Schema
    (shared sub-schemas stay shared)."""
    memo = {} if memo is None else memo
    if isinstance(schema, dict):
        if id(schema) not in memo:
            copy: dict[str, Any] = {}
            memo[id(schema)] = copy
            for key, value in schema.items():
                if key == "pattern" and isinstance(value, str):
                    copy[key] = ecma_regex(value)
                elif key in _NOT_SCHEMAS:
                    copy[key] = value
                else:
                    copy[key] = with_ecma_patterns(value, memo)
        return memo[id(schema)]
    if isinstance(schema, list):
        return [with_ecma_patterns(item, memo) for item in schema]
    return schema


def shared_as_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with each sub-schema it reaches more than once written once under `definitions` and
    `$ref`'d. A resolved schema shares the targets of its `$ref`s as Python objects, but jsonschema-rs
    copies every occurrence: Voucherify's create-export body is 4.5 MB written out, and compiled 250 MB."""
    seen: dict[int, int] = {}

    def count(node: Any) -> None:
        if isinstance(node, dict):
            seen[id(node)] = seen.get(id(node), 0) + 1
            if seen[id(node)] == 1:
                for key, value in node.items():
                    if key not in _NOT_SCHEMAS:
                        count(value)
        elif isinstance(node, list):
            for item in node:
                count(item)

    count(schema)
    definitions: dict[str, Any] = {}
    names: dict[int, str] = {}

    def write(node: Any, top: bool = False) -> Any:
        if isinstance(node, list):
            return [write(item) for item in node]
        if not isinstance(node, dict):
            return node
        if top or seen[id(node)] < 2:
            return {key: value if key in _NOT_SCHEMAS else write(value) for key, value in node.items()}
        if id(node) not in names:
            names[id(node)] = name = f"s{len(names)}"
            definitions[name] = write(node, top=True)
        return {"$ref": f"#/definitions/{names[id(node)]}"}

    out = write(schema, top=True)
    if definitions:
        out["definitions"] = {**out.get("definitions", {}), **definitions}
    return out


def acceptor(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """The accept path: jsonschema-rs (Rust, ECMA-262 regexes, formats asserted) says whether a value is
    valid, several times faster than jsonschema. False means "not sure": the caller runs jsonschema, which
    words the error (or, where jsonschema-rs is stricter, e.g. on an e-mail, accepts). tests/test_accept_path.py
    checks that it never accepts what jsonschema refuses on our schemas."""
    is_valid = jsonschema_rs.Draft7Validator(
        shared_as_refs(schema), validate_formats=True, formats=FORMAT_FUNCTIONS
    ).is_valid

    def accepts(value: Any) -> bool:
        try:
            return is_valid(value)
        except (ValueError, TypeError, OverflowError):  # a value it cannot take (not JSON, a huge integer)
            return False

    return accepts


class _Schema:
    """A compiled schema; `oneOf` + `discriminator` picks its branch by the tag
    first, so errors name the property that is wrong rather than "matches none".
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        original = schema.get("discriminator") or {}
        self.accepts = acceptor(schema)  # ECMA-262 patterns as written: jsonschema-rs speaks them
        schema = with_ecma_patterns(schema)
        self.discriminator = None
        disc = schema.get("discriminator")
        if disc and disc.get("mapping"):
            self.discriminator = disc["propertyName"]
            self.branches = {
                tag: Draft7Validator(branch, format_checker=FORMATS) for tag, branch in disc["mapping"].items()
            }
            self.branch_accepts = {tag: acceptor(branch) for tag, branch in original["mapping"].items()}
        self.validator = Draft7Validator(schema, format_checker=FORMATS)

    def check(self, value: Any, location: str, prefix: tuple = ()) -> None:
        validator, accepts = self.validator, self.accepts
        if self.discriminator and not isinstance(value, Mapping):
            raise Invalid(location, json_path(prefix), f"must be a JSON object, not {_json_type(value)}")
        if self.discriminator:
            tag = value.get(self.discriminator)
            if tag is None:
                raise Invalid(location, json_path((*prefix, self.discriminator)), f"{self.discriminator} is required")
            if not isinstance(tag, str) or tag not in self.branches:  # a dict or list tag is unhashable
                allowed = ", ".join(self.branches)
                raise Invalid(
                    location,
                    json_path((*prefix, self.discriminator)),
                    f"{self.discriminator} must be one of: {allowed}",
                )
            validator, accepts = self.branches[tag], self.branch_accepts[tag]
        if accepts(value):
            return
        cut = _cut(value)
        error = best_match(validator.iter_errors(cut))
        if error is None and cut is not value:  # the fault lies past a cut: only then read it all
            error = best_match(validator.iter_errors(value))
        if error is not None:
            raise Invalid(location, json_path((*prefix, *error.absolute_path)), _message(error))


WORDED_ITEMS = 100  # items of an array or object the error search reads (max/minItems see the whole length)


class _Cut(list):
    """The first WORDED_ITEMS items of a longer array, whose len() is still the whole array's.

    jsonschema's error search walks every item of every array: for a body the fast validator refused,
    a 150,000-item `fields` array took 7 s of the event loop to word "must have at most 1000 items".
    Cut, the search reads 100 items and maxItems/minItems still judge the real length."""

    def __init__(self, items: list, length: int) -> None:
        super().__init__(items)
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return list.__repr__(self[:3])[:-1] + f", … ({self.length} items)]"


class _CutDict(dict):
    """The first WORDED_ITEMS properties of a larger object, for the searches that walk every property
    (additionalProperties, patternProperties); len(), `in` and [] still answer for the whole object, so
    maxProperties, required and properties judge it all."""

    def __init__(self, items: dict, whole: dict) -> None:
        super().__init__(items)
        self.whole = whole

    def __len__(self) -> int:
        return len(self.whole)

    def __contains__(self, key: object) -> bool:
        return key in self.whole

    def __getitem__(self, key: Any) -> Any:
        return dict.__getitem__(self, key) if dict.__contains__(self, key) else _cut(self.whole[key])

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self.whole else default

    def __repr__(self) -> str:
        first = ", ".join(f"{key!r}: {value!r}" for key, value in list(dict.items(self))[:3])
        return "{" + first + f", … ({len(self)} properties)}}"


def _cut(value: Any) -> Any:
    """`value` with every array or object over WORDED_ITEMS items cut; `value` itself when none is."""
    if isinstance(value, dict):
        if len(value) > WORDED_ITEMS:
            return _CutDict({key: _cut(value[key]) for key in itertools.islice(value, WORDED_ITEMS)}, value)
        cut = {key: _cut(item) for key, item in value.items()}
        return value if all(cut[key] is item for key, item in value.items()) else cut
    if isinstance(value, list):
        items = [_cut(item) for item in value[:WORDED_ITEMS]]
        if len(value) > WORDED_ITEMS:
            return _Cut(items, len(value))
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


# how to say a failed keyword without quoting the value, which may be huge
SUMMARIES = {
    "maxItems": "must have at most {} items",
    "minItems": "must have at least {} items",
    "maxLength": "must be at most {} characters long",
    "minLength": "must be at least {} characters long",
    "maxProperties": "must have at most {} properties",
    "uniqueItems": "must not repeat an item",
}
MAX_MESSAGE = 300


def _message(error: ValidationError) -> str:
    summary = SUMMARIES.get(error.validator)
    if summary and isinstance(error.instance, (_Cut, _CutDict)):
        return summary.format(error.validator_value)
    message = _plain_message(error)
    if len(message) <= MAX_MESSAGE:
        return message
    if summary:
        return summary.format(error.validator_value)
    return message[:MAX_MESSAGE] + "…"


def _plain_message(error: ValidationError) -> str:
    if error.validator == "pattern":
        written = ORIGINAL_PATTERNS.get(error.validator_value, error.validator_value)
        return f"{error.instance!r} does not match {written!r}"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "Unknown property")
    if error.validator == "anyOf" and error.context:
        # e.g. a field name that is neither a known field nor metadata.<key>
        enum = next((e.validator_value for e in error.context if e.validator == "enum"), None)
        if enum:
            return f"{error.instance!r} is not one of: {', '.join(map(str, enum))}"
    return error.message


_COMPILED: weakref.WeakKeyDictionary[Operation, RequestValidator] = weakref.WeakKeyDictionary()


class RequestValidator:
    """Decode and check the path, query and body of one operation's requests."""

    @classmethod
    def of(cls, operation: Operation) -> RequestValidator:
        """The operation's validator, compiled once and shared by every app built on its Spec (a test
        process builds hundreds of apps; compiled, one app's validators take about 5 MB)."""
        if operation not in _COMPILED:
            _COMPILED[operation] = cls(operation)
        return _COMPILED[operation]

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.params = [(p, _Schema(p.schema)) for p in operation.parameters]
        # what a request without a query string needs of them: its path's checked, the query's defaults
        self._path_params = [(p, schema) for p, schema in self.params if p.location == "path"]
        queried = [p for p, _ in self.params if p.location == "query"]
        self._query_required = any(p.required for p in queried)
        self._query_defaults = {p.name: p.schema["default"] for p in queried if "default" in p.schema}
        self.bodies = {media: _Schema(schema) for media, schema in operation.body_schemas.items()}
        self._declared: dict[str, Declared] = {}  # per media type, made on the first body that needs it

    def findings(self, media_type: str | None, body: Any) -> list[Finding]:
        """What a valid body carries that its schema does not declare (the vendor ignores it)."""
        if body is None or media_type not in self.operation.body_schemas:
            return []
        declared = self._declared.get(media_type)
        if declared is None:
            declared = self._declared[media_type] = Declared.of(self.operation.body_schemas[media_type])
        return declared.unknown(body, "body")

    def check_params(self, path: Mapping[str, str], query: Mapping[str, str], query_multi) -> tuple[dict, dict]:
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}}
        if not query and not self._query_required:  # no query string (most GETs): only the path to check
            params, values["query"] = self._path_params, dict(self._query_defaults)
        else:
            params = self.params
        for param, schema in params:
            if param.location not in values:
                continue
            source = path if param.location == "path" else query
            if param.location == "query" and len(query_multi.getall(param.name, [])) > 1:
                raise Invalid("query", param.name, f"{param.name} must be given once")
            if param.name not in source:
                if param.required:
                    raise Invalid(param.location, param.name, f"{param.name} is required", kind="missing")
                if "default" in param.schema:
                    values[param.location][param.name] = param.schema["default"]
                continue
            value = _coerce(source[param.name], param.schema)
            try:
                schema.check(value, param.location)
            except Invalid as exc:
                raise Invalid(param.location, param.name, f"{param.name}: {exc.message}") from None
            values[param.location][param.name] = value
        return values["path"], values["query"]

    def check_body(self, media_type: str | None, raw: bytes, decode_form=None) -> tuple[Any, str | None]:
        """Return (decoded body, media type); raises Invalid for any problem."""
        if not self.bodies:
            return None, None
        # no body at all is "not given"; whitespace is no JSON document (a JSON parser refuses it), while
        # a form of whitespace is as empty as no form
        if not raw if media_type == "application/json" else not raw.strip():
            forms = [media for media in self.bodies if media != "application/json"]
            if not self.operation.body_required:
                return None, None
            if not (forms and decode_form is not None):
                raise Invalid("body", "", "A request body is required", kind="missing")
            # an empty form is a form without fields: its schema's required keys say what is missing
            media_type, raw = forms[0], b""
        if media_type not in self.bodies:
            expected = " or ".join(self.bodies)
            raise Invalid(
                "body",
                "",
                f"Content-Type must be {expected}, not {media_type or 'missing'}",
                status=415,
                kind="media_type",
            )
        if media_type == "application/json":
            try:
                body = parse_json(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise Invalid("body", "", f"Malformed JSON: {exc}", kind="malformed") from None
        elif decode_form is not None:
            body = decode_form(raw)
            if not _shallow(body, MAX_DEPTH):
                raise Invalid("body", "", f"nested more than {MAX_DEPTH} levels deep", kind="malformed")
        else:
            raise Invalid("body", "", f"Cannot decode {media_type}", status=415, kind="media_type")
        self.bodies[media_type].check(body, "body")
        return body, media_type


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """Turn a query/path string into the schema's type where it clearly is one."""
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    try:
        if kind == "integer" and raw.strip().lstrip("+-").isdigit():
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw
