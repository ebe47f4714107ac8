"""Rows made from the row schema alone (`x-recipe: schema`, mockserver/data/schema_rows.py):
every rule a schema can state holds in every generated row, checked
generically over Chargebee's row schemas, so a new attribute is covered the
moment it is added to the YAML."""

from __future__ import annotations

from datetime import datetime

import pytest

from mockserver.data import load_model
from mockserver.data.batches import generate_block, recipe_of
from mockserver.data.blocks import BLOCK
from mockserver.data.columns import values
from mockserver.data.model import _object_model
from mockserver.data.pools import app_world
from mockserver.data.schema_rows import _dependency_order
from mockserver.data.timefmt import DAY_MS
from mockserver.spec import load_spec

SPEC = load_spec("chargebee")
MODEL = load_model(SPEC)
OBJECTS = list(MODEL.objects)
N = BLOCK + 500  # more than a block, so the block seam is crossed
# the module's `blocks` (every object's rows) take about 0.7 s of CPU to make, once per process that runs a
# test here: one worker runs them all (docs/performance.md, "Test loop")
pytestmark = pytest.mark.xdist_group("chargebee-schema-rows")


def ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.fixture(scope="module")
def blocks():
    w = app_world(3, "test_rows", "en_US")
    return {obj: _rows(w, obj) for obj in OBJECTS}


def _rows(w, obj: str, rows: int = N) -> dict[str, list]:
    model = MODEL.objects[obj]
    parts = [generate_block(w, model, number, rows) for number in range(-(-rows // BLOCK))]
    return {name: [v for part in parts for v in values(part[name])] for name in model.attributes}


def test_the_chargebee_objects_are_schema_made_with_every_attribute_a_column():
    assert set(OBJECTS) == {op.raw["x-exported-object"] for op in SPEC.operations if "x-exported-object" in op.raw}
    assert len(OBJECTS) == 18
    for obj in OBJECTS:
        model = MODEL.objects[obj]
        assert model.recipe == "schema"
        assert model.fields == model.default_fields == model.exported
        # only the revenue reports hide attributes: the ones their invoice/subscription/customer filters read
        assert model.exported == tuple(model.attributes) or obj in ("revenue_recognition", "deferred_revenue")
        # no Chargebee client names an order; the vendor's code may pick any exported attribute, either way
        assert model.orders == tuple(order for key in model.exported for order in (key, "-" + key))


@pytest.mark.parametrize("obj", OBJECTS)
def test_every_attribute_follows_its_schema(blocks, obj):
    columns = blocks[obj]
    rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
    for name, a in MODEL.objects[obj].attributes.items():
        values, hints = columns[name], a.hints
        assert len(values) == N, name
        present = [v for v in values if v is not None]
        if not a.nullable:
            assert len(present) == N, f"{obj}.{name} is not nullable"
        if a.enum:
            assert set(present) <= set(a.enum), name
        if a.type == "integer" and present and "x-sum" not in hints:
            assert min(present) >= (a.minimum or 0), name
            if a.maximum is not None:
                assert max(present) <= a.maximum, name
        if a.id_prefix is not None:
            assert all(v.startswith(a.id_prefix) for v in present), name
        if name == "id":
            assert len(set(values)) == N, f"{obj} ids repeat"
        if a.format == "date-time":
            assert all(v.endswith("Z") and ms(v) % 1000 == 0 for v in present), name  # whole seconds
        for row in rows:
            _row_rules(obj, name, a, row)


def _row_rules(obj: str, name: str, a, row: dict) -> None:
    hints, value = a.hints, row[name]
    where = f"{obj}.{name} in {row.get('id')}"
    for other, allowed in (hints.get("x-when") or {}).items():
        if row[other] not in allowed:
            assert value is None, where
    if value is None:
        return
    if "x-sum" in hints:
        total = sum(-(row[t[1:]] or 0) if t.startswith("-") else (row[t] or 0) for t in hints["x-sum"])
        assert value == total, where
    if "x-at-most" in hints:
        assert 0 <= value <= row[hints["x-at-most"]], where
    if a.same_as:
        assert value == row[a.same_as], where
    if "x-prefix-of" in hints:
        other, separator = hints["x-prefix-of"]
        assert value == row[other].split(separator)[0], where
    if "x-after" in hints:
        anchor = ms(row[hints["x-after"]])
        assert anchor <= ms(value) <= anchor + hints.get("x-within-days", 30) * DAY_MS, where


@pytest.mark.parametrize("obj", OBJECTS)
def test_x_present_is_about_the_share_of_rows_with_a_value(blocks, obj):
    for name, a in MODEL.objects[obj].attributes.items():
        if "x-present" in a.hints and "x-when" not in a.hints:
            share = sum(v not in (None, 0) for v in blocks[obj][name]) / N
            assert abs(share - a.hints["x-present"]) < 0.06, (name, share)


def test_countdown_ids_follow_the_row_index_and_references_point_back(blocks):
    invoices, orders = blocks["invoices"], blocks["orders"]
    assert invoices["id"][:3] == ["100000", "99999", "99998"]
    assert orders["document_number"][0] == "1000000"
    assert all(int(ref) >= 100000 - k for k, ref in enumerate(orders["invoice_id"]))  # row i names rows 0..i


@pytest.mark.parametrize("obj", OBJECTS)
def test_row_i_is_the_same_whatever_the_data_sets_size(obj):
    w = app_world(3, "test_rows", "en_US")
    small, large = _rows(w, obj, 10), _rows(w, obj, 700)
    for name in small:
        assert small[name] == large[name][:10], name


@pytest.mark.parametrize("obj", OBJECTS)
def test_declared_time_axis_attributes_never_increase(blocks, obj):
    recipe = recipe_of(MODEL.objects[obj])
    assert recipe.monotone, obj
    for name in recipe.monotone:
        times = [ms(v) for v in blocks[obj][name]]
        assert times == sorted(times, reverse=True), name
    for name, (anchor, lag) in recipe.lagging.items():
        assert all(0 <= ms(v) - ms(a) <= lag for v, a in zip(blocks[obj][name], blocks[obj][anchor])), name


def _model(properties: dict):
    return _object_model("things", {"type": "object", "x-recipe": "schema", "properties": properties}, None)


def test_attributes_that_read_each_other_in_a_cycle_are_refused():
    model = _model({"a": {"type": "integer", "x-at-most": "b"}, "b": {"type": "integer", "x-sum": ["a"]}})
    with pytest.raises(ValueError, match="cycle"):
        _dependency_order(model.attributes)


def test_an_attribute_reading_a_missing_one_is_refused():
    model = _model({"a": {"type": "integer", "x-when": {"nope": [1]}}})
    with pytest.raises(ValueError, match="nope"):
        _dependency_order(model.attributes)


def test_dependencies_come_first_whatever_the_schema_order():
    model = _model(
        {
            "total": {"type": "integer", "x-sum": ["net", "tax"]},
            "tax": {"type": "integer"},
            "net": {"type": "integer", "x-at-most": "tax"},
        }
    )
    order = _dependency_order(model.attributes)
    assert order.index("tax") < order.index("net") < order.index("total")


def test_a_text_splits_into_parts_that_go_together():
    """x-prefix-of up to the first or the last separator, x-suffix-of after the first: a month out of a date,
    the two accounts of one drawn pair."""
    model = _model(
        {
            "day": {"type": "string", "format": "date"},
            "month": {"type": "string", "x-prefix-of": ["day", "-", -1]},
            "year": {"type": "string", "x-prefix-of": ["day", "-"]},
            "pair": {"type": "string", "enum": ["Cash>Revenue", "Receivable>Deferred>Revenue"], "x-hidden": True},
            "debit": {"type": "string", "x-prefix-of": ["pair", ">"]},
            "credit": {"type": "string", "x-suffix-of": ["pair", ">"]},
        }
    )
    assert _dependency_order(model.attributes).index("pair") < _dependency_order(model.attributes).index("credit")
    block = generate_block(app_world(3, "test_rows", "en_US"), model, 0, 200)
    columns = {name: values(block[name]) for name in model.attributes}
    for row in (dict(zip(columns, line)) for line in zip(*columns.values())):
        assert row["month"] == row["day"][:7] and row["year"] == row["day"][:4]
        assert (row["debit"], row["credit"]) in {("Cash", "Revenue"), ("Receivable", "Deferred>Revenue")}
