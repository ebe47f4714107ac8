"""Many apps: a world per app is cheap (shared pools, salted picks) and apps still differ."""

from __future__ import annotations

import numpy as np
from test_data_helpers import table

from mockserver.data import pools as pools_module
from mockserver.data.model import Attribute
from mockserver.vendors.voucherify.data.world import World, world


def test_new_apps_build_no_pools():
    world(1, "warm", "en_US")
    before = pools_module.pools.cache_info().misses, pools_module.segments.cache_info().misses
    made = [World(1, f"tenant-{n}", "en_US") for n in range(50)]
    after = pools_module.pools.cache_info().misses, pools_module.segments.cache_info().misses
    assert after == before
    assert all(w.pools is made[0].pools for w in made)


def test_apps_differ_and_each_is_deterministic():
    a = table("customer", ("id", "name", "email"), app="tenant-a", rows=50)
    b = table("customer", ("id", "name", "email"), app="tenant-b", rows=50)
    assert a == table("customer", ("id", "name", "email"), app="tenant-a", rows=50)
    assert {r["id"] for r in a}.isdisjoint({r["id"] for r in b})
    assert [r["name"] for r in a] != [r["name"] for r in b]
    assert len({r["name"] for r in a}) > 25  # salted picks still spread over the shared pools


def test_campaigns_differ_between_apps():
    names = {tuple(c.name for c in World(1, f"app-{n}", "en_US").campaigns) for n in range(10)}
    assert len(names) > 1


def test_caches_do_not_grow_with_exports():
    from test_data_helpers import export

    from mockserver.data import blocks

    for obj in ("voucher_transactions", "order", "redemption"):
        export(obj, rows=10)
    size = len(blocks._WEIGHTED)
    for n in range(5):
        for obj in ("voucher_transactions", "order", "redemption"):
            export(obj, rows=10, app=f"other-{n}")
    assert len(blocks._WEIGHTED) == size


def test_a_locales_pools_hold_the_same_values_whichever_is_made_first():
    """The common pools (names, words, addresses …) are made on first use, which may fall in the middle of
    another pool (metadata picking a word between two Faker values): every pool comes out the same."""
    keys = {"note": Attribute("note", "string"), "city": Attribute("city", "string", faker="city")}
    metadata = Attribute("metadata", "object", properties={**keys, "more": Attribute("more", "string")})
    common_first = pools_module.Pools("en_US")
    words = list(common_first.words)
    made = common_first.metadata("thing", metadata), common_first.provider("color_name")
    metadata_first = pools_module.Pools("en_US")
    assert (metadata_first.metadata("thing", metadata), metadata_first.provider("color_name")) == made
    assert metadata_first.words == words and metadata_first.addresses == common_first.addresses


def test_id_tables_invert_only_once_an_id_is_decoded():
    """Writing ids needs the segment tables, not their inverses (0.6 MiB of dicts per id length): those are
    made when an id is first decoded, and decoding still inverts encoding."""
    segments = pools_module.Segments(24)
    codec = pools_module.IdCodec("ord_", segments, salt=12345)
    ids = codec.encode_series(np.arange(5000, dtype=np.int64)).to_list()
    assert ids == codec.encode_all(range(5000))
    assert "lookup" not in vars(segments)
    assert [codec.decode(text) for text in ids] == list(range(5000))
    assert codec.decode("ord_" + "?" * 24) is None


# A small data set (100 rows by default) is made afresh for every app: what its first generation costs
# is what a many-app server pays per export (docs/performance.md, "Tenants").


def test_a_small_column_is_quoted_without_a_polars_query(monkeypatch):
    """Up to columns.SMALL rows, quoting looks for special characters in Python (~20 µs for 100 cells)
    rather than with `str.contains` (a polars query, ~0.15 ms: 15 % of a 1,000-app server's samples, once
    per text column); the cells are the same either way."""
    import polars as pl
    from polars.series.string import StringNameSpace

    from mockserver.data import columns

    texts = ["a,b", 'say "hi"', None, "plain", "x\r\ny", "", "naïve", 'q"', "line\n"]
    small = pl.Series("f0", texts * (columns.SMALL // len(texts)), dtype=pl.String)
    plain = pl.Series("f1", ["plain", None, "text"] * 30, dtype=pl.String)
    large = pl.Series("f0", texts * (columns.SMALL // len(texts) + 1), dtype=pl.String)
    expected = [
        None if t is None else ('"' + t.replace('"', '""') + '"' if set(t) & set(',"\r\n') else t) for t in texts
    ]
    queries = []
    contains = StringNameSpace.contains

    def counted(self, *args, **kwargs):
        queries.append(args)
        return contains(self, *args, **kwargs)

    monkeypatch.setattr(StringNameSpace, "contains", counted)
    assert columns.quoted(small).to_list() == expected * (columns.SMALL // len(texts))
    assert columns.quoted(plain) is plain  # nothing to quote: the column itself
    assert queries == []
    assert columns.quoted(large).to_list() == expected * (columns.SMALL // len(texts) + 1)
    assert queries  # a larger column goes polars' way


def test_a_publication_walks_back_to_a_published_voucher_without_making_the_others():
    """Each publication row walks back from a drawn voucher to the nearest one with a holder; it asks
    World.holder, and makes only the voucher it lands on (it made every voucher it passed, twice, before)."""
    from test_data_helpers import export

    made = []
    voucher = World.voucher

    def counted(self, v):
        made.append(v)
        return voucher(self, v)

    checked = World(1, "walks", "en_US")
    assert all(checked.holder(v) == voucher(checked, v).holder for v in range(2000))
    World.voucher = counted
    try:
        export("publication", rows=100, app="walks-too")
    finally:
        World.voucher = voucher
    assert 0 < len(made) <= 100


def test_customer_emails_slug_each_name_once():
    """A customer's email slugs a first and a last name from the locale's shared pools: each name is slugged
    once per process, not per row (10 % of a small export's CPU when it was)."""
    from test_data_helpers import export

    from mockserver.data.pools import POOL
    from mockserver.vendors.voucherify.data import world as world_module

    export("customer", rows=50, app="slugs")
    before = world_module._slug.cache_info().misses
    for n in range(5):
        export("customer", rows=500, app=f"slugs-{n}")
    assert world_module._slug.cache_info().misses - before <= 2 * POOL
    assert world_module._slug.cache_info().hits > 5 * 500


def test_a_small_data_sets_ids_are_encoded_without_a_polars_query(monkeypatch):
    """Up to columns.SMALL ids are encoded in Python (100 in ~50 µs; polars' gathers and `concat_str` cost a
    query's set-up, ~1 ms on a loaded server, three times per order block); the ids are the same either way,
    an index below zero an empty cell."""
    import polars as pl

    from mockserver.data import pools

    codec = World(1, "ids", "en_US").codec("cust_")
    small = np.arange(-5, pools.SMALL - 5, dtype=np.int64) * 7919
    large = np.arange(-5, pools.SMALL * 4, dtype=np.int64) * 7919
    queries = []
    concat_str = pl.concat_str
    monkeypatch.setattr(pl, "concat_str", lambda *a, **k: queries.append(a) or concat_str(*a, **k))
    made = codec.encode_series(small)
    assert queries == [] and made.dtype == pl.String
    assert made.to_list() == codec.encode_all([None if i < 0 else i for i in small.tolist()])
    assert codec.encode_series(large).to_list()[: len(small)] == made.to_list()
    assert queries  # a block of thousands goes polars' way
