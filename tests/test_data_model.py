"""The row schema (export-rows.yaml) agrees with the export contract, and the
generator makes exactly what the schema says."""

from __future__ import annotations

import pytest
from test_data_helpers import MODEL, OBJECTS, SPEC

from mockserver.data.batches import generate_block
from mockserver.data.columns import values as column_values
from mockserver.vendors.voucherify.data import RECIPES as DECLARED
from mockserver.vendors.voucherify.data.recipes import RECIPES
from mockserver.vendors.voucherify.data.world import world


def test_every_exported_object_has_a_row_schema_and_a_recipe():
    exported = set(SPEC.schema("ExportedObject")["enum"])
    assert set(OBJECTS) == exported
    assert set(RECIPES) == exported == DECLARED.objects
    assert DECLARED.load() == RECIPES  # what the vendor declares is what its module makes


@pytest.mark.parametrize("obj", OBJECTS)
def test_field_enum_equals_the_rows_exported_attributes(obj):
    name = {"voucher_transactions": "VoucherTransactions", "points_expiration": "PointsExpiration"}.get(
        obj, obj.capitalize()
    )
    field_enum = SPEC.schema(f"{name}ExportField")["enum"]
    model = MODEL.objects[obj]
    assert list(model.exported) == list(field_enum)
    assert model.fields == tuple(field_enum)


@pytest.mark.parametrize("obj", OBJECTS)
def test_filters_and_orders_name_row_attributes(obj):
    model = MODEL.objects[obj]
    for key, target in model.filter_aliases.items():
        assert target in model.attributes, f"filter {key} reads {target}, which rows lack"
    for value in model.orders:
        assert value.lstrip("-") in model.attributes
    for field in model.default_fields:  # the vendor's defaults name a few fields its field list lacks
        assert field in model.attributes and model.is_field(field)


@pytest.mark.parametrize("obj", OBJECTS)
def test_a_block_has_every_attribute_with_schema_values(obj):
    model = MODEL.objects[obj]
    columns = generate_block(world(1, "app", "en_US"), model, 0, 500)
    assert set(columns) == set(model.attributes)
    for name, attribute in model.attributes.items():
        values = column_values(columns[name])
        assert len(values) == 500, name
        if attribute.enum:
            assert {v for v in values if v is not None} <= set(attribute.enum), name
        if not attribute.nullable:
            assert None not in values, f"{obj}.{name} is not nullable"


def test_monotone_and_lagging_keys_are_declared_attributes():
    for obj, recipe in RECIPES.items():
        attributes = MODEL.objects[obj].attributes
        assert set(recipe.monotone) <= set(attributes)
        for key, (anchor, lag) in (recipe.lagging or {}).items():
            assert key in attributes and anchor in attributes and lag > 0


def test_a_spec_without_rows_gives_an_empty_model():
    from mockserver.data.model import build_model

    class Bare:
        document: dict = {}

    assert build_model(Bare()).objects == {}
    with pytest.raises(ValueError):
        MODEL.object("nope")
