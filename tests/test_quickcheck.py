"""The fast acceptor (mockserver.quickcheck) never accepts what jsonschema refuses,
and does accept the ordinary valid requests (or it would save nothing)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from mockserver.control.generate import generate
from mockserver.quickcheck import compile_acceptor
from mockserver.spec import load_spec, schemas_dir
from mockserver.validation import FORMATS


def _request_schemas() -> list[tuple[str, dict]]:
    """Every parameter and body schema (and discriminator branch) of every bundled spec."""
    found = []
    for folder in sorted(p for p in schemas_dir().iterdir() if (p / "openapi.yaml").is_file()):
        spec = load_spec(folder.name)
        for op in spec.operations:
            for param in op.parameters:
                found.append((f"{folder.name} {op.operation_id} {param.name}", param.schema))
            for media, schema in op.body_schemas.items():
                found.append((f"{folder.name} {op.operation_id} {media}", schema))
                for tag, branch in ((schema.get("discriminator") or {}).get("mapping") or {}).items():
                    found.append((f"{folder.name} {op.operation_id} {media} {tag}", branch))
    return found


SCHEMAS = _request_schemas()
COMPILED = [(name, schema, Draft7Validator(schema, format_checker=FORMATS), compile_acceptor(schema, FORMATS))
            for name, schema in SCHEMAS]

names = st.sampled_from(["id", "fields", "order", "filters", "parameters", "exported_object", "conditions", "$in",
                         "status", "metadata.x", "junction", "limit", "items", "source_id", "amount", "x"])
scalars = (st.none() | st.booleans() | st.integers(-3, 2000) | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from(["", "id", "order", "PAID", "-created_at", "and", "metadata.a", "nope", "2024-01-01",
                              "2024-01-01T00:00:00Z", "2024-13-01T00:00:00Z", "x" * 1001, "metadata."])
           | st.text(max_size=8))
json_values = st.recursive(scalars,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
                           max_leaves=12)


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


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_never_accepts_what_jsonschema_refuses_mutated(case):
    name, validator, accepts, value = case
    if accepts(value):
        assert validator.is_valid(value), f"{name}: accepted {json.dumps(value)[:300]}"


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
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
    order = compile_acceptor(body["discriminator"]["mapping"]["order"], FORMATS)
    assert order({"exported_object": "order", "parameters": {
        "fields": ["id", "source_id", "status", "amount", "metadata.channel"], "order": "-created_at",
        "filters": {"junction": "and", "status": {"conditions": {"$in": ["PAID", "CREATED"]}}}}})
    assert not order({"exported_object": "order", "parameters": {"fields": ["id", "nope"]}})
    assert not order({"exported_object": "order", "parameters": {"fields": ["id", "id"]}})


@pytest.mark.parametrize(("schema", "value", "valid"), [
    ({"type": "integer"}, 1.0, True),  # jsonschema takes 1.0 as an integer; the acceptor is not sure
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
])
def test_edge_cases_agree_or_defer(schema, value, valid):
    validator = Draft7Validator(schema, format_checker=FORMATS)
    if valid is not None:
        assert validator.is_valid(value) is valid
    if compile_acceptor(schema, FORMATS)(value):
        assert validator.is_valid(value)
