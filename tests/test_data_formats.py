"""The engine's per-column cell formats (`ExportQuery.formats`) and its rows (`iter_rows`): what a vendor
whose files write values unlike the engine uses instead of reading the engine's CSV back."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from test_data_helpers import MODEL, NOW

from mockserver.data import DateTime, ExportQuery, MajorUnits, iter_csv, iter_rows, ordering
from mockserver.data.columns import formatted


def parsed(query: ExportQuery) -> list[list[str]]:
    raw = b"".join(iter_csv(MODEL, query, seed=1, app_id="app", now=NOW)).decode()
    return list(csv.reader(io.StringIO(raw, newline="")))


def test_major_units_of_a_column_are_each_value_s_text():
    cents = [1234, -5, 0, None, 100, -123_456, 7, 99, -100]
    for form in (MajorUnits(), MajorUnits(",")):
        column = formatted(pl.Series("amount", cents, dtype=pl.Int64), form).to_list()
        assert column == [form.text(value or 0) for value in cents]
    assert [MajorUnits(",").text(c) for c in (1234, -5, 0)] == ["12,34", "-0,05", "0,00"]


@pytest.mark.parametrize(
    "zone", [None, "UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]
)
def test_date_times_of_a_column_are_each_value_s_text_in_its_zone(zone):
    """Instants across the zones' DST changes (2025) and with or without milliseconds."""
    cells = ["2025-03-09T06:59:59Z", "2025-03-09T07:00:00.123Z", "2025-03-30T01:30:00Z", "2025-04-05T15:30:00Z"]
    cells += [
        "2025-10-05T15:00:00.999Z",
        "2025-10-26T00:59:59Z",
        "2025-11-02T06:00:00Z",
        "1999-12-31T23:59:59Z",
        "",
        "2025-01-31",
        "soon",
    ]
    form = DateTime(zone=zone)
    column = formatted(pl.Series("at", cells), form).fill_null("").to_list()
    assert column == [form.text(cell) for cell in cells] and column[-3:] == ["", "", ""]
    assert DateTime().text("2025-01-31T23:05:09Z") == "2025-01-31 23:05:09"
    assert DateTime(pattern="%d/%m/%Y", zone="Asia/Tokyo").text("2025-01-31T23:05:09Z") == "01/02/2025"


def test_formats_shape_only_the_fields_they_name_and_a_comma_is_quoted():
    fields = ("id", "amount", "created_at", "total_amount")
    plain = parsed(ExportQuery("order", fields, rows=200))
    shaped = parsed(
        ExportQuery("order", fields, rows=200, formats={"amount": MajorUnits(","), "created_at": DateTime()})
    )
    assert shaped[0] == plain[0]  # the header: the fields' labels as ever
    assert len(shaped) == len(plain) == 201
    for before, after in zip(plain[1:], shaped[1:]):
        assert after[0] == before[0] and after[3] == before[3]
        assert after[1] == MajorUnits(",").text(int(before[1] or 0))
        assert after[2] == f"{before[2][:10]} {before[2][11:19]}"
    raw = b"".join(
        iter_csv(
            MODEL,
            ExportQuery("order", ("amount",), rows=5, formats={"amount": MajorUnits(",")}),
            seed=1,
            app_id="app",
            now=NOW,
        )
    )
    assert all(line.startswith(b'"') and line.endswith(b'"') for line in raw.split(b"\r\n")[1:-1])


def test_a_format_for_a_field_not_exported_is_refused_at_once():
    with pytest.raises(ValueError, match="no field 'total_amount'"):
        iter_rows(
            MODEL, ExportQuery("order", ("id",), formats={"total_amount": MajorUnits()}), seed=1, app_id="a", now=NOW
        )


@pytest.mark.parametrize("order", [None, "created_at", "-updated_at", "status"])
def test_rows_are_the_csv_s_lines_as_text_whatever_the_order(order, monkeypatch):
    """Walked, windowed and ranked (spilled to disk too): the rows hold what the CSV's lines hold, formats
    applied, cells needing quotes (metadata's JSON) unquoted, empty cells empty."""
    fields = ("id", "metadata", "amount", "referrer_id", "created_at", "status")
    query = ExportQuery("order", fields, rows=3000, order=order, formats={"amount": MajorUnits(",")})
    expected = parsed(query)[1:]
    rows = list(iter_rows(MODEL, query, seed=1, app_id="app", now=NOW))
    assert rows == [tuple(line) for line in expected]
    assert any("," in row[1] for row in rows) and any(row[3] == "" for row in rows)
    monkeypatch.setattr(ordering, "SORT_BUDGET", 20_000)  # the ranked order spills its windows to files
    assert list(iter_rows(MODEL, query, seed=1, app_id="app", now=NOW)) == rows


def test_rows_of_stored_records():
    records = [{"id": f"ord_{n}", "source_id": f"a, b {n}", "amount": n - 2} for n in range(5)]
    query = ExportQuery("order", ("id", "source_id", "amount"), records=records, formats={"amount": MajorUnits()})
    rows = list(iter_rows(MODEL, query, seed=0, app_id="a", now=NOW))
    assert rows == [(f"ord_{n}", f"a, b {n}", MajorUnits().text(n - 2)) for n in range(5)]
