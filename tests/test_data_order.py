"""`order` is honoured for every order value of every object, both directions,
by all three strategies (walk, window, passes)."""

from __future__ import annotations

import tempfile
from functools import cache

import pytest
from test_data_helpers import MODEL, NOW, OBJECTS, table

from mockserver.clock import parse_iso
from mockserver.data import ExportQuery, iter_csv, ordering
from mockserver.data.batches import generate_block
from mockserver.data.blocks import BLOCK
from mockserver.data.columns import values
from mockserver.vendors.voucherify.data.world import world

CASES = [(obj, value) for obj in OBJECTS for value in MODEL.objects[obj].orders]
UNIQUE = {"publication": "date"}  # a column that names the row; "id" elsewhere
ROWS = BLOCK + 300  # two blocks, so the seam is crossed


def sort_key(attribute, value):
    if value is None or value == "":
        return (0, 0)
    if attribute.type == "integer":
        return (1, int(value))
    if attribute.is_date:
        return (1, parse_iso(value))
    return (1, value)


@cache
def generated(obj: str) -> dict[str, list]:
    """All attributes of the data set, hidden ones included, straight from the generator."""
    model = MODEL.objects[obj]
    blocks = [generate_block(world(1, "app", "en_US"), model, n, ROWS) for n in range(-(-ROWS // BLOCK))]
    return {name: [v for block in blocks for v in values(block[name])] for name in model.attributes}


def assert_sorted(keys: list, descending: bool) -> None:
    assert keys == sorted(keys, reverse=descending)


@pytest.mark.slow
@pytest.mark.parametrize("obj,order", CASES)
def test_order_is_honoured(obj, order, monkeypatch):
    monkeypatch.setattr(ordering, "SORT_BUDGET", 50_000)  # bytes: the general strategy spills several windows
    key, unique = order.lstrip("-"), UNIQUE.get(obj, "id")
    columns = generated(obj)
    position = {value: index for index, value in enumerate(columns[unique])}
    assert len(position) == ROWS
    rows = table(obj, [unique], rows=ROWS, order=order)
    indices = [position[row[unique]] for row in rows]
    assert sorted(indices) == list(range(ROWS))  # every row once
    attribute = MODEL.objects[obj].attributes[key]
    assert_sorted([sort_key(attribute, columns[key][i]) for i in indices], order.startswith("-"))


def test_sort_with_filter_and_ties_is_deterministic(monkeypatch):
    monkeypatch.setattr(ordering, "SORT_BUDGET", 2_000)
    filters = {"amount": {"conditions": {"$more_than": 100000}}}
    first = table("order", ["id", "status", "amount"], rows=800, order="-status", filters=filters)
    assert first == table("order", ["id", "status", "amount"], rows=800, order="-status", filters=filters)
    assert first and all(int(row["amount"]) > 100000 for row in first)
    assert [row["status"] for row in first] == sorted((row["status"] for row in first), reverse=True)


def test_window_sort_on_updated_at_over_many_blocks():
    for order in ("updated_at", "-updated_at"):
        rows = table("order", ["id", "updated_at"], rows=3 * BLOCK + 7, order=order)
        assert_sorted([row["updated_at"] for row in rows], order.startswith("-"))
        assert len({row["id"] for row in rows}) == 3 * BLOCK + 7


def test_natural_order_is_newest_first():
    rows = table("order", ["created_at"], rows=50)
    assert_sorted([row["created_at"] for row in rows], True)
    with pytest.raises(AssertionError):
        assert_sorted([row["created_at"] for row in rows], False)


def test_a_spilled_sort_leaves_no_files(monkeypatch, tmp_path):
    monkeypatch.setattr(ordering, "SORT_BUDGET", 20_000)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    query = ExportQuery("voucher", ("code",), rows=6000, order="code")  # ~120 KB: two chunks
    chunks = iter_csv(MODEL, query, seed=1, app_id="app", now=NOW)
    next(chunks)
    assert list(tmp_path.iterdir())  # the windows are on disk while the download runs …
    chunks.close()
    assert not list(tmp_path.iterdir())  # … and gone when it stops, finished or not
    text = b"".join(iter_csv(MODEL, query, seed=1, app_id="app", now=NOW)).decode()
    codes = text.split("\r\n")[1:-1]
    assert codes == sorted(codes) and len(codes) == 6000
    assert not list(tmp_path.iterdir())


def test_a_spilled_sort_writes_cells_that_need_quotes_as_the_sort_in_memory_does(monkeypatch):
    """The windows on disk hold cells already quoted (metadata's JSON): read back and written again, each
    comes out as the one-pass sort writes it."""
    query = ExportQuery("order", ("id", "metadata", "status"), rows=3000, order="status")
    whole = b"".join(iter_csv(MODEL, query, seed=1, app_id="app", now=NOW))
    monkeypatch.setattr(ordering, "SORT_BUDGET", 20_000)
    spilled = b"".join(iter_csv(MODEL, query, seed=1, app_id="app", now=NOW))
    assert b'""' in whole and spilled == whole
