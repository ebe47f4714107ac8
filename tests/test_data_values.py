"""Every field of every exported object: present, typed, consistent."""

from __future__ import annotations

import json
import re

import pytest
from test_data_helpers import MODEL, OBJECTS, header, table

from mockserver.clock import parse_iso

DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
HEX_ID = re.compile(r"[a-z]+_0[0-9a-f]{17}")
DURATION = re.compile(r"P(\d+[DW])?(T\d+[HMS])?")


def check_cell(attribute, cell: str) -> None:
    """Raise AssertionError unless the cell is a value of the attribute's type."""
    if cell == "":  # null, or an empty array (a product whose SKUs vary in nothing)
        assert attribute.nullable or attribute.type == "array", f"{attribute.name} is empty but not nullable"
        return
    if attribute.enum:
        assert cell in attribute.enum, (attribute.name, cell)
    if attribute.type == "integer":
        # x-decimals-when: some rows write the integer as the vendor's files do, with two decimals (2000.00)
        decimals = r"(\.00)?" if "x-decimals-when" in attribute.hints else ""
        assert re.fullmatch(r"-?\d+" + decimals, cell), (attribute.name, cell)
    elif attribute.type == "boolean":
        assert cell in ("true", "false"), (attribute.name, cell)
    elif attribute.type == "object":
        assert isinstance(json.loads(cell), dict), attribute.name
    elif attribute.type == "array":  # items joined by commas: day numbers, or words such as color,size
        assert re.fullmatch(r"\d(,\d)*|[a-z_]+(,[a-z_]+)*", cell), (attribute.name, cell)
    elif attribute.format == "date-time":
        assert DATE_TIME.fullmatch(cell), (attribute.name, cell)
        parse_iso(cell)
    elif attribute.format == "date":
        assert DATE.fullmatch(cell), (attribute.name, cell)
        parse_iso(cell)
    elif attribute.format == "duration":
        assert DURATION.fullmatch(cell), (attribute.name, cell)
    elif attribute.id_style == "hex":
        assert HEX_ID.fullmatch(cell) and cell[0] == attribute.id_prefix[0], (attribute.name, cell)
    elif attribute.id_prefix:
        pattern = re.escape(attribute.id_prefix) + f"[A-Za-z0-9]{{{attribute.id_length}}}"
        if attribute.id_prefix != "prod_" or cell != "prod_5h1pp1ng":
            assert re.fullmatch(pattern, cell), (attribute.name, cell)
    elif attribute.format == "email":
        assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", cell), cell


@pytest.mark.parametrize("obj", OBJECTS)
def test_all_fields_present_and_typed(obj):
    model = MODEL.objects[obj]
    rows = table(obj, rows=300)
    assert len(rows) == 300
    assert list(rows[0]) == list(model.fields)
    for row in rows:
        for name, cell in row.items():
            check_cell(model.attributes[name], cell)
    for name in model.fields:  # every column has values somewhere, not only empties
        assert any(row[name] for row in rows), f"{obj}.{name} is always empty"


@pytest.mark.parametrize("obj", OBJECTS)
def test_default_fields_and_header_order(obj):
    model = MODEL.objects[obj]
    assert header(obj) == [model.label(name) for name in model.default_fields]
    reversed_fields = list(reversed(model.fields))
    assert header(obj, reversed_fields) == [model.label(name) for name in reversed_fields]


def test_check_cell_rejects_wrong_values():
    attrs = MODEL.objects["order"].attributes
    for name, bad in (
        ("id", "ord_short"),
        ("created_at", "2024-01-01 10:00"),
        ("amount", "12.5"),
        ("status", "SHIPPED"),
        ("amount", ""),
    ):
        with pytest.raises(AssertionError):
            check_cell(attrs[name], bad)


def test_order_amounts_add_up_and_timestamps_are_ordered():
    for row in table("order", rows=500):
        amount, discount, items = int(row["amount"]), int(row["discount_amount"]), int(row["items_discount_amount"])
        assert int(row["total_discount_amount"]) == discount + items
        assert int(row["total_amount"]) == amount - discount - items >= 0
        assert row["created_at"] <= row["updated_at"]


def test_ids_are_unique():
    for obj, key in (
        ("order", "id"),
        ("voucher", "id"),
        ("voucher", "code"),
        ("customer", "id"),
        ("redemption", "id"),
        ("voucher_transactions", "id"),
        ("points_expiration", "id"),
    ):
        ids = [row[key] for row in table(obj, [key], rows=3000)]
        assert len(set(ids)) == len(ids), (obj, key)


def test_orders_name_customers_the_customer_export_has():
    customers = {row["id"] for row in table("customer", ["id"], rows=400)}
    orders = table("order", ["customer_id", "referrer_id"], rows=400)
    named = {row[k] for row in orders for k in ("customer_id", "referrer_id") if row[k]}
    assert named and named <= customers
    other_app = {row["id"] for row in table("customer", ["id"], rows=400, app="other")}
    assert not named & other_app


def test_redemptions_and_publications_match_vouchers_and_customers():
    vouchers = {row["code"]: row for row in table("voucher", ["code", "campaign", "customer_id"], rows=500)}
    customers = {row["id"]: row for row in table("customer", ["id", "name", "source_id"], rows=500)}
    for row in table(
        "redemption", ["voucher_code", "campaign", "customer_id", "customer_name", "customer_source_id"], rows=500
    ):
        if row["voucher_code"]:
            assert vouchers[row["voucher_code"]]["campaign"] == row["campaign"]
        person = customers[row["customer_id"]]
        assert (person["name"], person["source_id"]) == (row["customer_name"], row["customer_source_id"])
    for row in table("publication", ["voucher_code", "customer_id", "campaign"], rows=500):
        if row["voucher_code"]:  # a published voucher is held by the customer it went to
            assert vouchers[row["voucher_code"]]["customer_id"] == row["customer_id"]
            assert vouchers[row["voucher_code"]]["campaign"] == row["campaign"]


def test_voucher_rules():
    for row in table("voucher", rows=500):
        kind = row["voucher_type"]
        assert (row["discount_type"] != "") == (kind == "DISCOUNT_VOUCHER")
        assert (row["gift_balance"] != "") == (kind == "GIFT_VOUCHER")
        assert (row["loyalty_balance"] != "") == (kind == "LOYALTY_CARD")
        if kind == "GIFT_VOUCHER":
            assert row["value"] == row["gift_balance"] + ".00"  # the vendor's download example: 2000.00
        if row["discount_amount_limit"]:
            assert row["discount_type"] == "PERCENT"
        if row["start_date"] and row["expiration_date"]:
            assert row["start_date"] < row["expiration_date"]
        assert row["created_at"] <= row["updated_at"]


def test_transactions_follow_the_card_type_and_sign():
    cards = {row["id"]: row["voucher_type"] for row in table("voucher", ["id", "voucher_type"], rows=2000)}
    for row in table("voucher_transactions", rows=500):
        family = row["type"].split("_")[0]
        assert cards[row["voucher_id"]] == {"CREDITS": "GIFT_VOUCHER", "POINTS": "LOYALTY_CARD"}[family]
        outgoing = row["type"].endswith(("REMOVAL", "REDEMPTION", "EXPIRATION", "TRANSFER_OUT"))
        assert (int(row["amount"]) < 0) == outgoing
        assert int(row["balance"]) >= 0
        assert json.loads(row["details"])["balance"]["related_object"]["id"] == row["voucher_id"]


def test_points_buckets_belong_to_loyalty_cards():
    cards = {row["id"]: row for row in table("voucher", ["id", "voucher_type", "campaign_id"], rows=500)}
    for row in table("points_expiration", rows=500):
        assert cards[row["voucher_id"]]["voucher_type"] == "LOYALTY_CARD"
        assert cards[row["voucher_id"]]["campaign_id"] == row["campaign_id"]


def test_customer_summaries_are_consistent():
    for row in table("customer", rows=300):
        n = lambda key: int(row[key])  # noqa: E731, B023
        assert n("redemptions_total_redeemed") == n("redemptions_total_failed") + n("redemptions_total_succeeded")
        assert n("redemptions_total_rolled_back") == (
            n("redemptions_total_rollback_failed") + n("redemptions_total_rollback_succeeded")
        )
        assert n("orders_total_amount") == n("orders_average_amount") * n("orders_total_count")
        assert (row["orders_last_order_date"] != "") == (n("orders_total_count") > 0)
        assert row["birthday"] == row["birthdate"]
        assert row["created_at"] <= row["updated_at"]


def test_metadata_columns():
    rows = table("order", ["id", "metadata", "metadata.payment_mean", "metadata.unknown_key"], rows=200)
    known = MODEL.objects["order"].attributes["metadata"].properties["payment_mean"].enum
    assert any(row["metadata.payment_mean"] for row in rows)
    for row in rows:
        meta = json.loads(row["metadata"])
        assert row["metadata.payment_mean"] == meta.get("payment_mean", "")
        assert row["metadata.payment_mean"] in (*known, "")
        assert row["metadata.unknown_key"] == ""


def test_scope_pins_rows():
    rows = table("voucher_transactions", rows=50, scope={"voucher_id": "v_notOneOfOurs"})
    assert {row["voucher_id"] for row in rows} == {"v_notOneOfOurs"}
    card = next(
        row
        for row in table("voucher", ["id", "code", "voucher_type", "campaign_id"], rows=100)
        if row["voucher_type"] == "GIFT_VOUCHER"
    )
    for pinned in (card["id"], card["code"]):
        rows = table("voucher_transactions", rows=30, scope={"voucher_id": pinned})
        assert {row["campaign_id"] for row in rows} == {card["campaign_id"]}
        assert all(row["type"].startswith("CREDITS_") for row in rows)
    campaign = card["campaign_id"]
    rows = table("voucher", ["campaign_id", "voucher_type"], rows=40, scope={"campaign_id": campaign})
    assert {row["campaign_id"] for row in rows} == {campaign}
    assert {row["voucher_type"] for row in rows} == {"GIFT_VOUCHER"}


def test_locale_changes_names():
    german = [row["name"] for row in table("customer", ["name"], rows=50, locale="de_DE")]
    english = [row["name"] for row in table("customer", ["name"], rows=50)]
    assert german != english
