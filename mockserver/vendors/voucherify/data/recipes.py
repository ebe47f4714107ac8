"""Voucherify's synthetic rows: the rules its schema cannot say, in one place.

Each recipe makes every attribute of one block of rows as columns (see
mockserver/data/blocks.py for blocks, draws and the time axis, columns.py for
column forms). `order` is vectorised (numpy arrays, polars Series); the others
still build lists per row. The package's __init__ declares RECIPES (the vendor's data_recipes);
this module is imported with the first rows made.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from ....data.blocks import Block, Columns, Recipe, weighted
from ....data.columns import Plain
from ....data.model import JsonObject, ObjectModel
from ....data.pools import mix, salt_of
from ....data.timefmt import DAY_MS, iso_date, iso_ms, iso_ms_all, iso_ms_series
from .world import World, world

ASSETS = "https://dl.voucherify.io/api/v1/assets"


def _vouchers(b: Block, kinds: tuple[str, ...]) -> list[int]:
    """Voucher indices of campaigns of these kinds, honouring a voucher or campaign scope."""
    world = b.world
    pinned = b.scope.get("voucher_id")
    if pinned is not None:
        index = world.resolve_voucher(str(pinned))
        if index is not None:
            return [index] * b.n
    campaign = world.resolve_campaign(str(b.scope.get("campaign_id", "")))
    if campaign is not None:
        kinds = (campaign.kind,)
    salt = salt_of(b.salt, "voucher")
    picked = [world.voucher_of_kind(kinds, i, salt) for i in b.indices]
    if campaign is not None:
        picked = [v if world.voucher(v).campaign == campaign else _in_campaign(world, campaign, v) for v in picked]
    return picked


def _in_campaign(world: World, campaign, v: int) -> int:
    while world.voucher(v).campaign != campaign:
        v += 1
    return v


def hex_ids(prefixes, times: list[int], hashes: list[int]) -> list[str]:
    """Voucherify's time-ordered ids (`r_0acf3a6dae00e679c8`): 18 hex digits that grow with time."""
    if isinstance(prefixes, str):
        prefixes = [prefixes] * len(times)
    return [f"{p}0{t:011x}{h & 0xFFFFFF:06x}" for p, t, h in zip(prefixes, times, hashes)]


# ===================================================================== rules
def order(b: Block) -> Columns:
    w = b.world
    index = b.index_array()
    created = b.timeline_array()
    amount = 100 * b.int_array(5, 2500) + b.pick_array((0, 0, 0, 50, 99))
    cart_pct = np.where(b.chance_array(0.6), b.pick_array((5, 10, 15, 20, 25, 50)), 0)
    items_pct = np.where(b.chance_array(0.3), b.pick_array((5, 10)), 0)
    discount = amount * cart_pct // 100
    items_discount = amount * items_pct // 100
    total_discount = discount + items_discount
    customers = w.codec("cust_")
    source_id = pl.Series(10_000_000 - index).cast(pl.String)
    return {  # ids, instants and digits hold no character CSV quotes: Plain
        "id": Plain(w.codec("ord_").encode_series(index)),
        "source_id": Plain(pl.select(pl.when(pl.Series(b.chance_array(0.85))).then(source_id)).to_series()),
        "created_at": Plain(iso_ms_series(created)),
        "updated_at": Plain(iso_ms_series(b.later_array(created, 3 * DAY_MS))),
        "status": b.enum_pooled("status"),
        "amount": pl.Series(amount),
        "discount_amount": pl.Series(discount),
        "items_discount_amount": pl.Series(items_discount),
        "total_discount_amount": pl.Series(total_discount),
        "total_amount": pl.Series(amount - total_discount),
        "customer_id": Plain(customers.encode_series(b.ref_array(0.95))),
        "referrer_id": Plain(customers.encode_series(b.ref_array(0.15))),
        "metadata": b.metadata(),
    }


def voucher(b: Block) -> Columns:
    w = b.world
    slots = b.scope.get("campaign_id")
    campaign = w.resolve_campaign(str(slots)) if slots is not None else None
    indices = list(b.indices)
    if campaign is not None:  # a campaign's voucher export: only that campaign's vouchers
        own = [s for s in range(16) if w.voucher(s).campaign == campaign]
        indices = [16 * (i // len(own)) + own[i % len(own)] for i in b.indices]
    vouchers = [w.voucher(v) for v in indices]
    camps = [v.campaign for v in vouchers]
    kinds = [c.voucher_type if c else "DISCOUNT_VOUCHER" for c in camps]
    created = b.timeline()
    start = [c + r * 3_600_000 if keep else None for c, r, keep in zip(created, b.ints(0, 72), b.chance(0.5))]
    expiry_days = b.pick((30, 90, 180, 365))
    expiration = [
        (s if s is not None else c) + d * DAY_MS if keep else None
        for s, c, d, keep in zip(start, created, expiry_days, b.chance(0.6))
    ]
    drawn_type = b.enum("discount_type")
    types = weighted(b.model.attributes["discount_type"], None)
    # one type per campaign; the app's discount campaigns take turns, so every type appears in every app
    distinct = tuple(dict.fromkeys(types))
    offset = mix(w.salt) % len(distinct)
    discounts = [c.index for c in w.campaigns if c.voucher_type == "DISCOUNT_VOUCHER"]
    campaign_type = {c: distinct[(k + offset) % len(distinct)] for k, c in enumerate(discounts)}
    discount_type = [
        None if k != "DISCOUNT_VOUCHER" else (campaign_type[c.index] if c else d)
        for k, c, d in zip(kinds, camps, drawn_type)
    ]
    discount_value = {
        "AMOUNT": b.ints(5, 50),
        "PERCENT": b.pick((5, 10, 15, 20, 25, 30, 50)),
        "UNIT": b.ints(1, 3),
        "FIXED": b.ints(10, 100),
    }
    gift = [100 * g for g in b.ints(0, 200)]
    points = b.ints(0, 5000)
    value = [
        gift[k]
        if t == "GIFT_VOUCHER"
        else points[k]
        if t == "LOYALTY_CARD"
        else discount_value[d][k] * (100 if d in ("AMOUNT", "FIXED") else 1)
        for k, (t, d) in enumerate(zip(kinds, discount_type))
    ]
    quantity = [q if t == "DISCOUNT_VOUCHER" else None for t, q in zip(kinds, b.pick((1, 1, 1, None, 5, 10)))]
    count = [min(r, q) if q is not None else r for r, q in zip(b.ints(0, 12), quantity)]
    qr = w.codec("", 32).encode_all(indices)
    holders = [w.customer(v.holder) if v.holder is not None else None for v in vouchers]
    timeframe = b.chance(0.1)
    category = [w.categories[c.category] if c else None for c in camps]
    unit = [d == "UNIT" for d in discount_type]
    return {
        "code": [v.code for v in vouchers],
        "voucher_type": kinds,
        "value": value,
        "discount_type": discount_type,
        "campaign": [c.name if c else None for c in camps],
        "category": [c[1] if c else None for c in category],
        "start_date": [iso_ms(s) if s is not None else None for s in start],
        "expiration_date": [iso_ms(e) if e is not None else None for e in expiration],
        "gift_balance": [v if t == "GIFT_VOUCHER" else None for v, t in zip(value, kinds)],
        "loyalty_balance": [v if t == "LOYALTY_CARD" else None for v, t in zip(value, kinds)],
        "redemption_quantity": quantity,
        "redemption_count": count,
        "active": b.chance(0.9),
        "qr_code": [f"{ASSETS}/qr/{token}" for token in qr],
        "bar_code": [f"{ASSETS}/barcode/{token[::-1]}" for token in qr],
        "id": [v.id for v in vouchers],
        "is_referral_code": [bool(c and c.kind == "referral") for c in camps],
        "created_at": iso_ms_all(created),
        "updated_at": iso_ms_all(b.later(created, 7 * DAY_MS)),
        "validity_timeframe_interval": [i if t else None for i, t in zip(b.pick(("P1D", "P2D", "P1W")), timeframe)],
        "validity_timeframe_duration": [d if t else None for d, t in zip(b.pick(("PT1H", "PT4H", "PT12H")), timeframe)],
        "validity_day_of_week": b.maybe(0.1, b.pick(((1, 2, 3, 4, 5), (0, 6), (5, 6)))),
        "discount_amount_limit": [
            lim if d == "PERCENT" else None for d, lim in zip(discount_type, b.maybe(0.5, b.pick((1000, 2000, 5000))))
        ],
        "campaign_id": [c.id if c else None for c in camps],
        "additional_info": b.maybe(0.1, b.pick(w.sentences)),
        "customer_id": [h.id if h else None for h in holders],
        "discount_unit_type": [p if u else None for p, u in zip(b.pick(w.products), unit)],
        "discount_unit_effect": [e if u else None for e, u in zip(b.enum("discount_unit_effect"), unit)],
        "customer_source_id": [h.source_id if h else None for h in holders],
        "metadata": b.metadata(),
        "category_id": [c[0] if c else None for c in category],
        **_discount_extras(b, discount_type, camps),
    }


# the discount effects each discount type takes, and formulas a discount may be computed by
EFFECTS = {
    "AMOUNT": (
        "APPLY_TO_ORDER",
        "APPLY_TO_ITEMS",
        "APPLY_TO_ITEMS_PROPORTIONALLY",
        "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY",
        "APPLY_TO_ITEMS_BY_QUANTITY",
    ),
    "PERCENT": ("APPLY_TO_ORDER", "APPLY_TO_ITEMS"),
    "FIXED": ("APPLY_TO_ORDER", "APPLY_TO_ITEMS"),
    "UNIT": ("ADD_MISSING_ITEMS", "ADD_NEW_ITEMS", "ADD_MANY_ITEMS"),
}
FORMULAS = (
    "ORDER_AMOUNT * 0.1",
    "MIN(ORDER_AMOUNT * 0.15; 5000)",
    "ORDER_ITEMS_QUANTITY * 200",
    "ROUND_DOWN(ORDER_AMOUNT / 1000; 0) * 100",
)


def _discount_extras(b: Block, discount_type: list, camps: list) -> Columns:
    """Voucher `discount_effect`, `formula` and `validation_rules_id`: an effect that fits the discount
    type, a formula on a few amount/percent discounts, the campaign's validation rule on some campaigns."""
    effect = [EFFECTS[d][r % len(EFFECTS[d])] if d else None for d, r in zip(discount_type, b.u32())]
    formula = [f if d in ("AMOUNT", "PERCENT") else None for f, d in zip(b.maybe(0.1, b.pick(FORMULAS)), discount_type)]
    rules = b.world.codec("val_")
    return {
        "discount_effect": effect,
        "formula": formula,
        "validation_rules_id": [rules.encode(c.index) if c and c.index % 3 == 0 else None for c in camps],
    }


def publication(b: Block) -> Columns:
    w = b.world
    dates = iso_ms_all(b.timeline())
    vouchers = [w.voucher(_published(w, v)) for v in b.refs()]
    ok = [r == "SUCCESS" for r in b.enum("result")]
    customers = [w.customer(v.holder if good else c) for v, good, c in zip(vouchers, ok, b.refs())]
    camps = [v.campaign for v in vouchers]
    failures = b.enum("failure_code")
    return {
        "voucher_code": [v.code if good else None for v, good in zip(vouchers, ok)],
        "code": [v.code if good else None for v, good in zip(vouchers, ok)],
        "customer_id": [c.id for c in customers],
        "customer_source_id": [c.source_id for c in customers],
        "date": dates,
        "channel": b.enum("channel"),
        "campaign": [c.name for c in camps],
        "is_winner": b.maybe(0.05, b.chance(0.3)),
        "metadata": b.metadata(),
        "id": w.codec("pub_").encode_all(b.indices),
        "created_at": dates,
        "tracking_id": [c.tracking_id for c in customers],
        "result": ["SUCCESS" if good else "FAILURE" for good in ok],
        "failure_code": [None if good else f for good, f in zip(ok, failures)],
        "voucher_type": [c.voucher_type for c in camps],
        "is_referral_code": [c.kind == "referral" for c in camps],
        "parent_object_id": [c.id for c in camps],
        "related_object_id": [v.id if good else None for v, good in zip(vouchers, ok)],
        "source_id": b.maybe(0.1, [f"pub-{h % 1_000_000:06d}" for h in b.hashes("source")]),
    }


def _published(world: World, v: int) -> int:
    """The nearest voucher at or below v that has a holder (only those are published)."""
    while world.holder(v) is None and v > 0:
        v -= 1
    return v if world.holder(v) is not None else 1


def redemption(b: Block) -> Columns:
    w = b.world
    times = b.timeline()
    dates = iso_ms_all(times)
    vouchers = [w.voucher(v) for v in b.refs()]
    promo = [w.promotions[r % len(w.promotions)] if keep else None for r, keep in zip(b.u32(), b.chance(0.15))]
    customers = [w.customer(v.holder if v.holder is not None else c) for v, c in zip(vouchers, b.refs())]
    rollback = [o == "redemption_rollback" for o in b.enum("object")]
    ok = [r == "SUCCESS" or back for r, back in zip(b.enum("result"), rollback)]
    camps = [w.promotion_campaign if p else v.campaign for v, p in zip(vouchers, promo)]
    kind = [
        None if p else (v.campaign.voucher_type if v.campaign else "DISCOUNT_VOUCHER") for v, p in zip(vouchers, promo)
    ]
    order_amount = [a if keep or p else None for a, keep, p in zip(b.ints(1000, 50000), b.chance(0.9), promo)]
    failures = b.enum("failure_code")
    messages = b.model.attributes["failure_code"].messages or {}
    failure = [None if good else f for good, f in zip(ok, failures)]
    prefixes = ["rr_" if back else "r_" if good else "rf_" for back, good in zip(rollback, ok)]
    hashes = b.hashes("id")
    return {
        "id": hex_ids(prefixes, times, hashes),
        "object": ["redemption_rollback" if back else "redemption" for back in rollback],
        "date": dates,
        "voucher_code": [None if p else v.code for v, p in zip(vouchers, promo)],
        "campaign": [c.name if c else None for c in camps],
        "promotion_tier_id": [p[0] if p else None for p in promo],
        "customer_id": [c.id for c in customers],
        "customer_source_id": [c.source_id for c in customers],
        "customer_name": [c.name for c in customers],
        "tracking_id": [c.tracking_id for c in customers],
        "order_amount": order_amount,
        "gift_amount": [
            min(g, a or g) if k == "GIFT_VOUCHER" and good else None
            for g, a, k, good in zip(b.ints(500, 5000), order_amount, kind, ok)
        ],
        "loyalty_points": [
            p if k == "LOYALTY_CARD" and good else None for p, k, good in zip(b.ints(10, 1000), kind, ok)
        ],
        "result": ["SUCCESS" if good else "FAILURE" for good in ok],
        "failure_code": failure,
        "failure_message": [messages.get(f) if f else None for f in failure],
        "status": ["SUCCEEDED" if good else "FAILED" for good in ok],  # the redemption object's status
        "metadata": b.metadata(),
        "created_at": dates,
        "related_object_id": [p[0] if p else v.id for v, p in zip(vouchers, promo)],
        "related_object_parent_id": [c.id if c else None for c in camps],
        "parent_redemption_id": [
            hex_ids("r_", [t - 1000 * d], [h >> 24])[0] if back else None
            for t, d, h, back in zip(times, b.ints(60, 86_400), hashes, rollback)
        ],
        "user_login": b.maybe(0.05, [f"{_slug_name(c.name)}@{w.domains[0]}" for c in customers]),
        # drawn last, so the other columns keep their values: an order of the orders export
        "order_id": [w.codec("ord_").encode(r) if a is not None else None for r, a in zip(b.refs(), order_amount)],
    }


def _slug_name(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch == " ").replace(" ", ".") or "user"


def customer(b: Block) -> Columns:
    w = b.world
    people = [w.customer(c) for c in b.indices]
    created = b.timeline()
    addresses = b.maybe(0.85, b.pick(w.address_objects))
    failed, succeeded = b.ints(0, 3), b.ints(0, 15)
    rb_failed, rb_succeeded = b.ints(0, 1), [min(s, r) for s, r in zip(succeeded, b.ints(0, 2))]
    count = [c if keep else 0 for c, keep in zip(b.ints(1, 20), b.chance(0.8))]
    average = [a if n else 0 for a, n in zip(b.ints(1500, 20_000), count)]
    last_date = [iso_ms(t) if n else None for t, n in zip(b.later(created, 365 * DAY_MS), count)]
    points, referred = b.ints(0, 5000), b.ints(0, 5)
    birth = [iso_date(b.end - d * DAY_MS) for d in b.ints(18 * 365, 80 * 365)]
    birthday = b.maybe(0.6, birth)
    system = b.pick(_system_metadata(b.model))
    dates = iso_ms_all(created)
    return {
        "name": [p.name for p in people],
        "id": [p.id for p in people],
        "description": b.maybe(0.15, b.pick(w.sentences)),
        "email": [p.email for p in people],
        "source_id": [p.source_id for p in people],
        "created_at": dates,
        "address_city": _address_part(addresses, "city"),
        "address_state": _address_part(addresses, "state"),
        "address_line_1": _address_part(addresses, "line_1"),
        "address_line_2": _address_part(addresses, "line_2"),
        "address_country": _address_part(addresses, "country"),
        "address_postal_code": _address_part(addresses, "postal_code"),
        "redemptions_total_redeemed": [f + s for f, s in zip(failed, succeeded)],
        "redemptions_total_failed": failed,
        "redemptions_total_succeeded": succeeded,
        "redemptions_total_rolled_back": [f + s for f, s in zip(rb_failed, rb_succeeded)],
        "redemptions_total_rollback_failed": rb_failed,
        "redemptions_total_rollback_succeeded": rb_succeeded,
        "orders_total_amount": [a * n for a, n in zip(average, count)],
        "orders_total_count": count,
        "orders_average_amount": average,
        "orders_last_order_amount": [min(2 * a, r) if n else 0 for a, r, n in zip(average, b.ints(500, 40_000), count)],
        "orders_last_order_date": last_date,
        "loyalty_points": points,
        "loyalty_referred_customers": referred,
        "updated_at": iso_ms_all(b.later(created, 7 * DAY_MS)),
        "phone": b.maybe(0.7, b.pick(w.phones)),
        "birthday": birthday,
        "metadata": b.metadata(),
        "birthdate": birthday,
        "address": addresses,
        "system.metadata": system,
        "system.metadata.source": [s["source"] for s in system],
        "system.metadata.consents.unsubscribed": [s["consents"]["unsubscribed"] for s in system],
        "loyalty": [
            JsonObject({"points": p, "referred_customers": r}, f'{{"points":{p},"referred_customers":{r}}}')
            for p, r in zip(points, referred)
        ],
        "summary.redemptions.gift.redeemed_amount": [100 * g if s else 0 for g, s in zip(b.ints(0, 200), succeeded)],
        "events.cart_abandoned.last_occurred": b.maybe(0.2, iso_ms_all(b.later(created, 30 * DAY_MS))),
        "events.newsletter_subscribed.count": b.ints(0, 3),
        "events.sign_up.last_occurred": dates,
    }


_SYSTEM: dict[tuple, tuple] = {}


def _system_metadata(model: ObjectModel) -> tuple[JsonObject, ...]:
    """Every combination of a customer's system metadata (its source, unsubscribed or not)."""
    sources = model.attributes["system.metadata.source"].enum
    if sources not in _SYSTEM:
        _SYSTEM[sources] = tuple(
            JsonObject({"source": s, "consents": {"unsubscribed": u}})
            for s in sources
            for u in (False, False, False, True)
        )
    return _SYSTEM[sources]


def _address_part(addresses: list, key: str) -> list:
    return [a.get(key) or None if a is not None else None for a in addresses]


def points_expiration(b: Block) -> Columns:
    w = b.world
    vouchers = [w.voucher(v) for v in _vouchers(b, ("loyalty",))]
    return {
        "id": w.codec("lopb_").encode_all(b.indices),
        "campaign_id": [v.campaign.id for v in vouchers],
        "voucher_id": [v.id for v in vouchers],
        "status": b.enum("status"),
        "expires_at": [iso_date(t + 365 * DAY_MS) for t in b.timeline()],
        "points": b.ints(1, 2000),
    }


def _credits(kind: str) -> bool:  # module-level, not a lambda: the weighted-enum cache is keyed by it
    return kind.startswith("CREDITS_")


def _points(kind: str) -> bool:
    return kind.startswith("POINTS_")


OUTGOING = ("_REMOVAL", "_REDEMPTION", "_EXPIRATION", "_TRANSFER_OUT")  # amounts leaving the card


def voucher_transactions(b: Block) -> Columns:
    w = b.world
    times = b.timeline()
    vouchers = [w.voucher(v) for v in _vouchers(b, ("gift", "loyalty"))]
    gift = [v.campaign.kind == "gift" for v in vouchers]
    kinds = [c if g else p for c, p, g in zip(b.enum("type", _credits), b.enum("type", _points), gift)]
    size = [100 * c if g else p for c, p, g in zip(b.ints(5, 100), b.ints(10, 1000), gift)]
    amount = [-s if k.endswith(OUTGOING) else s for s, k in zip(size, kinds)]
    balance = [max(r * (100 if g else 1), a) for r, g, a in zip(b.ints(0, 200), gift, amount)]
    hashes = b.hashes("id")
    return {
        "id": hex_ids("vtx_", times, hashes),
        "type": kinds,
        "source_id": b.maybe(0.2, [f"src-{h >> 40:07d}" for h in hashes]),
        "reason": [
            r if k.endswith(("_REMOVAL", "_ADDITION")) else None
            for r, k in zip(b.maybe(0.5, b.pick(w.sentences)), kinds)
        ],
        "balance": balance,
        "amount": amount,
        "created_at": iso_ms_all(times),
        "voucher_id": [v.id for v in vouchers],
        "campaign_id": [v.campaign.id for v in vouchers],
        "source": b.enum("source"),
        "details": [_details(v.id, g, a, bal) for v, g, a, bal in zip(vouchers, gift, amount, balance)],
        "related_transaction_id": [
            hex_ids("vtx_", [t + 1], [h >> 8])[0] if k.endswith("_TRANSFER_OUT") else None
            for t, h, k in zip(times, hashes, kinds)
        ],
        "status": [None] * b.n,  # a default column with no documented values: empty
    }


def _details(voucher_id: str, gift: bool, amount: int, balance: int) -> JsonObject:
    kind, unit = ("gift_voucher", "amount") if gift else ("loyalty_card", "points")
    value = {
        "balance": {
            "type": kind,
            unit: amount,
            "total": balance,
            "balance": balance,
            "object": "balance",
            "related_object": {"id": voucher_id, "type": "voucher"},
        }
    }
    text = (
        f'{{"balance":{{"type":"{kind}","{unit}":{amount},"total":{balance},"balance":{balance},'
        f'"object":"balance","related_object":{{"id":"{voucher_id}","type":"voucher"}}}}}}'
    )
    return JsonObject(value, text)


# the attribute names a product's SKUs vary by: sets of the SKU row's `attributes` keys
_PRODUCT_ATTRIBUTES = (("color", "size"), ("color",), ("size",), ("color", "memory"), ())


def product(b: Block) -> Columns:
    w = b.world
    index = b.index_array()
    created = b.timeline_array()
    ids = w.codec("prod_", 18).encode_all(index.tolist())
    words = b.pick(w.pools.provider("word"))
    return {
        "id": ids,
        "name": [f"{word.title()} {i + 1}" for word, i in zip(words, index.tolist())],  # unique, as the vendor's
        "price": b.maybe(0.9, [100 * p for p in b.ints(1, 1000)]),
        "image_url": b.maybe(0.5, [f"{ASSETS}/{i}.jpg" for i in ids]),
        "source_id": b.maybe(0.8, [f"prod-{100_000 + i}" for i in index.tolist()]),
        "attributes": b.pick(_PRODUCT_ATTRIBUTES),
        "created_at": iso_ms_series(created),
        "updated_at": b.maybe(0.6, iso_ms_all(b.later(created.tolist(), 7 * DAY_MS))),
        "metadata": b.metadata(),
    }


_SKU_ATTRIBUTES = ("color", "size", "memory")


def sku(b: Block) -> Columns:
    w = b.world
    index = b.index_array()
    created = b.timeline_array()
    ids = w.codec("sku_", 18).encode_all(index.tolist())
    props = b.model.attributes["attributes"].properties
    picks = {name: b.pick(props[name].enum) for name in _SKU_ATTRIBUTES}
    kept = {name: b.chance(0.7) for name in _SKU_ATTRIBUTES}
    attributes = [JsonObject({name: picks[name][k] for name in _SKU_ATTRIBUTES if kept[name][k]}) for k in range(b.n)]
    return {
        "id": ids,
        "sku": b.maybe(
            0.95,
            ["-".join([*(str(v).upper() for v in a.values()), str(i + 1)]) for a, i in zip(attributes, index.tolist())],
        ),
        "product_id": w.codec("prod_", 18).encode_all(b.refs()),  # a product of the product export
        "currency": b.maybe(0.9, b.enum("currency")),
        "price": b.maybe(0.9, [100 * p for p in b.ints(1, 1000)]),
        "image_url": b.maybe(0.4, [f"{ASSETS}/{i}.jpg" for i in ids]),
        "source_id": b.maybe(0.8, [f"sku-{100_000 + i}" for i in index.tolist()]),
        "attributes": attributes,
        "created_at": iso_ms_series(created),
        "updated_at": b.maybe(0.6, iso_ms_all(b.later(created.tolist(), 7 * DAY_MS))),
        "metadata": b.metadata(),
    }


_MADE = {  # exported object → recipe
    "order": Recipe(order, ("created_at",), {"updated_at": ("created_at", 3 * DAY_MS)}),
    "voucher": Recipe(voucher, ("created_at",), {"updated_at": ("created_at", 7 * DAY_MS)}),
    "publication": Recipe(publication, ("date", "created_at")),
    "redemption": Recipe(redemption, ("date", "created_at")),
    "customer": Recipe(
        customer, ("created_at", "events.sign_up.last_occurred"), {"updated_at": ("created_at", 7 * DAY_MS)}
    ),
    "points_expiration": Recipe(points_expiration, ("expires_at",)),
    "voucher_transactions": Recipe(voucher_transactions, ("created_at", "id")),
    "product": Recipe(product, ("created_at",)),
    "sku": Recipe(sku, ("created_at",)),
}
RECIPES = {name: replace(recipe, world=world) for name, recipe in _MADE.items()}  # each draws from Voucherify's world
