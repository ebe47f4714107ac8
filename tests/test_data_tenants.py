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
