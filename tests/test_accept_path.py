"""The accept path (jsonschema-rs, validation.acceptor) never accepts what jsonschema refuses, on our
schemas' valid and mutated requests, and does accept the ordinary valid requests (or it would save nothing).
Its regexes are ECMA-262's, as JSON Schema's; jsonschema reads our translation of them for Python's `re`."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from mockserver.control.generate import generate
from mockserver.spec import bundled_specs, load_spec
from mockserver.validation import FORMATS, acceptor, ecma_regex, with_ecma_patterns


def _request_schemas() -> list[tuple[str, dict]]:
    """Every parameter and body schema (and discriminator branch) of every bundled spec."""
    found = []
    for name in bundled_specs():
        spec = load_spec(name)
        for op in spec.operations:
            for param in op.parameters:
                found.append((f"{name} {op.operation_id} {param.name}", param.schema))
            for media, schema in op.body_schemas.items():
                found.append((f"{name} {op.operation_id} {media}", schema))
                for tag, branch in ((schema.get("discriminator") or {}).get("mapping") or {}).items():
                    found.append((f"{name} {op.operation_id} {media} {tag}", branch))
    return found


SCHEMAS = _request_schemas()
COMPILED = [
    (name, schema, Draft7Validator(with_ecma_patterns(schema), format_checker=FORMATS), acceptor(schema))
    for name, schema in SCHEMAS
]

names = st.sampled_from(
    [
        "id",
        "fields",
        "order",
        "filters",
        "parameters",
        "exported_object",
        "conditions",
        "$in",
        "status",
        "metadata.x",
        "junction",
        "limit",
        "items",
        "source_id",
        "amount",
        "x",
    ]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 2000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [
            "",
            "id",
            "order",
            "PAID",
            "-created_at",
            "and",
            "metadata.a",
            "nope",
            "2024-01-01",
            "2024-01-01T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "x" * 1001,
            "metadata.",
        ]
    )
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4), max_leaves=12
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated(draw):
    """A generated valid request with one part replaced, removed or added."""
    name, schema, validator, accepts = draw(st.sampled_from(COMPILED))
    value = copy.deepcopy(generate(schema))
    paths = list(_paths(value))
    path = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    if not path:
        value = draw(json_values)
    else:
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "delete":
            parent.pop(path[-1])
        elif isinstance(parent, dict):
            parent[draw(names)] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return name, validator, accepts, value


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_never_accepts_what_jsonschema_refuses_mutated(case):
    name, validator, accepts, value = case
    if accepts(value):
        assert validator.is_valid(value), f"{name}: accepted {json.dumps(value)[:300]}"


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(COMPILED), json_values)
def test_never_accepts_what_jsonschema_refuses_random(compiled, value):
    name, _, validator, accepts = compiled
    if accepts(value):
        assert validator.is_valid(value), f"{name}: accepted {json.dumps(value)[:300]}"


@pytest.mark.parametrize(("name", "schema", "validator", "accepts"), COMPILED, ids=[c[0] for c in COMPILED])
def test_accepts_the_generated_valid_request(name, schema, validator, accepts):
    value = generate(schema)
    if validator.is_valid(value) and "oneOf" not in json.dumps(schema):
        assert accepts(value), f"{name}: the fast path refused a valid {json.dumps(value)[:300]}"


def test_typical_bodies_take_the_fast_path():
    spec = load_spec("voucherify")
    body = spec.operation("create-export").body_schemas["application/json"]
    order = acceptor(body["discriminator"]["mapping"]["order"])
    assert order(
        {
            "exported_object": "order",
            "parameters": {
                "fields": ["id", "source_id", "status", "amount", "metadata.channel"],
                "order": "-created_at",
                "filters": {"junction": "and", "status": {"conditions": {"$in": ["PAID", "CREATED"]}}},
            },
        }
    )
    assert not order({"exported_object": "order", "parameters": {"fields": ["id", "nope"]}})
    # the vendor's schema allows a field twice: so does the fast path
    assert order({"exported_object": "order", "parameters": {"fields": ["id", "id"]}})


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ({"type": "integer"}, 1.0, True),  # jsonschema takes 1.0 as an integer
        ({"type": "integer"}, True, False),
        ({"enum": [1]}, True, False),
        ({"enum": [1]}, 1.0, True),
        ({"uniqueItems": True}, [1, True], True),
        ({"uniqueItems": True}, [1, 1.0], False),
        ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "a", False),
        ({"minLength": 2}, 5, True),
        ({"type": "string", "format": "date-time"}, "2024-13-01T00:00:00Z", None),  # as the checker says
        ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}, False),
        ({"additionalProperties": {"type": "string"}, "properties": {"a": {}}}, {"a": 1, "b": "x"}, True),
        ({"items": [{"type": "string"}]}, ["a"], True),
        ({"properties": {"a": False}}, {"a": 1}, False),
        ({"properties": {"a": True}}, {"a": 1}, True),
        ({"exclusiveMinimum": 0}, 0, False),
        ({"maximum": 3}, float("nan"), True),
        ({"type": "integer"}, 10**40, True),  # beyond 64 bits
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z", True),
        ({"type": "string", "format": "date"}, "2024-02-30", False),
    ],
)
def test_edge_cases_agree_or_defer(schema, value, valid):
    validator = Draft7Validator(schema, format_checker=FORMATS)
    if valid is not None:
        assert validator.is_valid(value) is valid
    if acceptor(schema)(value):
        assert validator.is_valid(value)


def _patterns(schema, found: set[str], seen: set[int]) -> set[str]:
    """The `pattern`s under `schema`. A resolved spec shares its sub-schemas (a component is one object
    wherever it is referenced), so each object is walked once: walking every reference again was 760,000
    calls, a quarter of a second of every pytest process's collection."""
    if isinstance(schema, (dict, list)):
        if id(schema) in seen:
            return found
        seen.add(id(schema))
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                found.add(value)
            elif key not in ("enum", "const", "default", "example", "examples"):
                _patterns(value, found, seen)
    elif isinstance(schema, list):
        for item in schema:
            _patterns(item, found, seen)
    return found


_walked: set[int] = set()  # ids of objects SCHEMAS holds (so they stay alive while it is used)
# Our schemas' patterns, and the classes validation.ecma_regex translates (in case a schema takes them up)
PATTERNS = sorted(
    set().union(*(_patterns(schema, set(), _walked) for _, schema in SCHEMAS))
    | {r"^\d+$", r"^\w+$", r"^\s$", r"^\S$", r"^\D$", r"^\W$", r"^[\d\s]+$", r"^[^\s]+$"}
)
TRICKY = [
    "12",
    "0",
    "007",
    "\u0663",
    "\u0661\u0662\u0663",
    "\uff11",
    "\u00b2",
    "\u00a0",
    " ",
    "\t",
    "\u0085",
    "\x1c",
    "\u2028",
    "\ufeff",
    "\u180e",
    "\u3000",
    "e\u0301",
    "\u00e9",
    "_",
    "a-b",
    "ABC",
    "AB\u0130",
    "USD\n",
    "1\n",
    "",
    "metadata.a",
    "metadata.\u00e9",
    "x" * 70,
    "1000",
    "9999",
    "13",
    "-0",
    "+1",
]


def test_our_schemas_have_patterns():
    assert len(PATTERNS) > 8  # the walk above finds them


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_pattern_means_the_same_to_both_engines(pattern):
    """jsonschema-rs reads the pattern as written (ECMA-262); jsonschema reads ecma_regex's translation."""
    fast = acceptor({"type": "string", "pattern": pattern})
    full = Draft7Validator({"type": "string", "pattern": ecma_regex(pattern)}, format_checker=FORMATS)
    disagree = [value for value in TRICKY if fast(value) != full.is_valid(value)]
    assert disagree == [], f"{pattern!r}: the engines disagree on {disagree!r}"


def test_ecma_classes_are_narrow_in_both_engines():
    assert not acceptor({"pattern": r"^\d$"})("\u0663")  # ARABIC-INDIC DIGIT THREE is no ECMA \d
    assert not acceptor({"pattern": r"^\w$"})("\u00e9")
    assert acceptor({"pattern": r"^\s$"})("\u00a0")  # NO-BREAK SPACE is an ECMA \s
    assert not acceptor({"pattern": r"^\s$"})("\u0085")  # NEXT LINE is not (Python's \s takes it)


DATE_TIMES = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.123456789+02:00",
    "2024-01-01t00:00:00z",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00:00",
    "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2024-12-31T23:59:60Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:00:00+24:00",
    "2024-1-01T00:00:00Z",
    "\u0662024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00Z\n",
    "2024-01-01",
]


@pytest.mark.parametrize("fmt", ["date-time", "date"])
def test_formats_are_asserted_and_never_looser(fmt):
    fast = acceptor({"type": "string", "format": fmt})
    full = Draft7Validator({"type": "string", "format": fmt}, format_checker=FORMATS)
    assert not fast("nope") and not full.is_valid("nope")  # format checking holds on both paths
    looser = [value for value in DATE_TIMES if fast(value) and not full.is_valid(value)]
    assert looser == []


def test_a_final_newline_does_not_pass_a_pattern():
    """Python's `$` matches before a final "\\n", ECMA's does not: the request is refused on both paths."""
    from mockserver.validation import Invalid, _Schema

    schema = _Schema({"type": "string", "pattern": "^[A-Z]{3}$"})
    schema.check("USD", "query")
    with pytest.raises(Invalid, match=r"\^\[A-Z\]\{3\}\$"):  # the error names the pattern as written
        schema.check("USD\n", "query")


@pytest.mark.parametrize("name", bundled_specs())
def test_shared_sub_schemas_are_written_once(name):
    """jsonschema-rs copies every occurrence of a shared sub-schema: written out in full, Voucherify's
    create-export body was 4.5 MB and compiled to 250 MB (a test process of many apps died of it)."""
    from mockserver.spec import schemas_dir
    from mockserver.validation import shared_as_refs

    source = sum(len(path.read_text(encoding="utf-8")) for path in (schemas_dir() / name).glob("*.yaml"))
    for label, schema in SCHEMAS:
        if label.startswith(name + " "):
            assert len(json.dumps(shared_as_refs(schema))) < source, label


def test_the_accept_path_compiles_the_schema_with_shared_parts_written_once(monkeypatch):
    from mockserver import validation

    given = []
    monkeypatch.setattr(validation, "shared_as_refs", lambda schema: given.append(schema) or schema)
    validation.acceptor(SCHEMAS[0][1])
    assert given == [SCHEMAS[0][1]]


def test_apps_on_one_spec_share_its_compiled_validators():
    """Each app of a test process used to load its own Spec and compile its own validators (5 MB an app)."""
    from mockserver import registry
    from mockserver.app import Settings
    from mockserver.validation import RequestValidator

    first, second = registry.build(Settings()), registry.build(Settings())
    for one, other in zip(first, second):
        assert one.spec is other.spec
        op = one.spec.operations[0]
        assert RequestValidator.of(op) is RequestValidator.of(other.spec.operations[0])
