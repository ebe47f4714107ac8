"""One invalid 1 MiB body must not stall everyone: once the fast validator
(jsonschema-rs) refuses a body, the error is worded by jsonschema's error search, which walked every
item (a 150,000-item `fields` array: 7 s of the event loop). The search now reads at most
validation.WORDED_ITEMS items of any array or object. Counted here as the schema descents the search makes, not timed
(benchmarks/bench_invalid_bodies.py prints the stalls)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator

from mockserver.spec import bundled_spec
from mockserver.validation import Invalid, RequestValidator

SEARCH_STEPS = 2_000  # WORDED_ITEMS (100) items, each a few steps deep; the old search made one per item at least
BODIES = {  # (operation, body, where the error is, what it says)
    "150,000 fields": (
        "POST /v1/exports",
        {"exported_object": "order", "parameters": {"fields": ["id"] * 150_000}},
        ".parameters.fields",
        "must have at most",
    ),
    "120,000 values of $in": (
        "POST /v1/exports",
        {
            "exported_object": "order",
            "parameters": {"filters": {"status": {"conditions": {"$in": ["PAID"] * 120_000}}}},
        },
        ".parameters.filters.status.conditions.$in",
        "120000 items",
    ),
    "40,000 orders in one import": (
        "POST /v1/orders/import",
        [{"source_id": f"s-{n}"} for n in range(40_000)],
        "",
        "must have at most",
    ),
    "90,000 metadata keys": (
        "POST /v1/orders",
        {"source_id": "x", "metadata": {f"k{n}": 1 for n in range(90_000)}},
        ".metadata",
        "must have at most",
    ),
}


def validator_of(operation: str) -> RequestValidator:
    method, path = operation.split()
    spec = bundled_spec("voucherify")
    return RequestValidator.of(next(op for op in spec.operations if op.method.upper() == method and op.path == path))


@pytest.fixture
def descents(monkeypatch) -> list:
    """Every step of jsonschema's error search into a part of a body."""
    counted: list = []
    original = Draft7Validator.descend

    def descend(self, *args, **kwargs):
        counted.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Draft7Validator, "descend", descend)
    return counted


@pytest.mark.parametrize("name", BODIES)
def test_a_huge_invalid_body_is_worded_from_a_bounded_part_of_it(name, descents):
    operation, body, path, words = BODIES[name]
    raw = json.dumps(body).encode()
    assert len(raw) < (1 << 20) + 200_000  # about the 1 MiB a body may be
    with pytest.raises(Invalid) as refused:
        validator_of(operation).check_body("application/json", raw)
    assert (refused.value.path, len(refused.value.message) < 400) == (path, True), refused.value.message
    assert words in refused.value.message
    assert len(descents) < SEARCH_STEPS, f"{len(descents)} steps of the error search"


def test_a_fault_past_the_cut_is_still_found_and_named(descents):
    """500 fields (the schema allows 1,000), the 401st unknown: the cut search finds nothing, so the
    whole array is read (bounded by maxItems) and the error names the item."""
    fields = ["id"] * 400 + ["nope"] + ["id"] * 99
    with pytest.raises(Invalid) as refused:
        validator_of("POST /v1/exports").check_body(
            "application/json", json.dumps({"exported_object": "order", "parameters": {"fields": fields}}).encode()
        )
    assert refused.value.path == ".parameters.fields[400]", refused.value.path
    assert "nope" in refused.value.message


def test_a_declared_property_past_the_cut_is_still_checked():
    """An order with 150 unknown properties (tolerated, reported as findings) before a wrong `amount`:
    the cut object keeps answering `in` and [] for every property, so `properties` still checks it."""
    body = {"source_id": "x", **{f"z{n}": 1 for n in range(150)}, "amount": "a lot"}
    with pytest.raises(Invalid) as refused:
        validator_of("POST /v1/orders").check_body("application/json", json.dumps(body).encode())
    assert refused.value.path == ".amount", (refused.value.path, refused.value.message)
