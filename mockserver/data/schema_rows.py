"""Rows made from the row schema alone (`x-recipe: schema`).

Hand-written recipes (a vendor's own, registered from its package) know its domain. A vendor
whose rows need no more than the rules below describes them entirely in its
YAML, so adding an exported object is a schema change, not a code change:

    attribute `id`           the row's own id: `x-id-prefix`/`x-id-length` codec of the row index
    x-ref: true              a reference to another object's row (an index in [0, i], see pools.ref):
                             the same prefix and length give the same ids in every export, so an
                             order's `customer_id` is an id of the customers export
    x-countdown-from: N      the text of N − index (document numbers: the newest row is the highest)
    enum (+ x-weights)       drawn by weight; booleans too (`enum: [true, false]`)
    minimum/maximum          integers uniform in the range
    x-at-most: other         an integer uniform in [0, other's value]
    x-sum: [a, -b, c]        a − b + c of the row's other attributes (empty counts as 0)
    x-same-as: other         the other attribute's value
    x-prefix-of: [other, s]  the other attribute's text up to its first `s` (an item price's item);
                             [other, s, -1]: up to its last `s` (a date's month: 2024-05-31 → 2024-05)
    x-suffix-of: [other, s]  the other attribute's text after its first `s` (the second half of a pair
                             drawn as one value, so the two halves go together)
    x-faker: provider        a value from a pool of that Faker provider (like metadata keys)
    format date-time/date    the row's creation instant (the time axis: newest first), in whole
                             seconds; with `x-after: other` up to `x-within-days` (default 30)
                             after the other attribute's instant instead
    x-present: p             a value in a share p of rows; the others are empty (0 or false when
                             the attribute is not nullable)
    x-when: {other: [v, …]}  empty unless the row's `other` is one of the values

Attributes may name later ones: they are made in dependency order, each one
finished (x-present, x-when) before another reads it, so `amount_due` can sum
an `amount_paid` that is empty for unpaid invoices.
"""

from __future__ import annotations

from .blocks import Block, Columns, Recipe
from .model import Attribute, ObjectModel
from .timefmt import DAY_MS, iso_date, iso_ms_all

_RECIPES: dict[int, tuple[ObjectModel, Recipe]] = {}


def schema_recipe(model: ObjectModel) -> Recipe:
    """The recipe of an object whose rows its schema describes (made once per model)."""
    cached = _RECIPES.get(id(model))
    if cached is None or cached[0] is not model:
        timeline = tuple(
            name
            for name, a in model.attributes.items()
            if _is_time(a) and "x-after" not in a.hints and not _sometimes_empty(a)
        )
        lagging = {
            name: (a.hints["x-after"], _within_ms(a))
            for name, a in model.attributes.items()
            if _is_time(a) and "x-after" in a.hints and not _sometimes_empty(a) and a.hints["x-after"] in timeline
        }
        cached = _RECIPES[id(model)] = (model, Recipe(make_rows, timeline, lagging))
    return cached[1]


def make_rows(b: Block) -> Columns:
    attributes = b.model.attributes
    columns: Columns = {}
    instants: dict[str, list[int]] = {}  # date attributes as epoch ms, for `x-after`
    for name in _dependency_order(attributes):
        attribute = attributes[name]
        values = _values(b, attribute, columns, instants)
        present = attribute.hints.get("x-present")
        if present is not None and "x-ref" not in attribute.hints:  # references draw their own gaps
            empty = None if attribute.nullable else _zero(attribute)
            values = [v if keep else empty for v, keep in zip(values, b.chance(float(present)))]
        for other, allowed in (attribute.hints.get("x-when") or {}).items():
            wanted = set(allowed)
            values = [v if c in wanted else None for v, c in zip(values, columns[other])]
        columns[name] = values
        if name in instants:  # what `x-after` reads: the finished values
            instants[name] = [t if v is not None else None for t, v in zip(instants[name], values)]
    return columns


def _values(b: Block, a: Attribute, columns: Columns, instants: dict[str, list[int]]) -> list:
    hints = a.hints
    if a.same_as:
        return list(columns[a.same_as])
    if "x-prefix-of" in hints:
        other, separator, *which = hints["x-prefix-of"]
        if which == [-1]:
            return [None if v is None else str(v).rsplit(separator, 1)[0] for v in columns[other]]
        return [None if v is None else str(v).split(separator, 1)[0] for v in columns[other]]
    if "x-suffix-of" in hints:
        other, separator = hints["x-suffix-of"]
        return [None if v is None else str(v).split(separator, 1)[-1] for v in columns[other]]
    if "x-sum" in hints:
        terms = [(-1, term[1:]) if term.startswith("-") else (1, term) for term in hints["x-sum"]]
        return [sum(sign * (columns[term][k] or 0) for sign, term in terms) for k in range(b.n)]
    if "x-at-most" in hints:
        return [None if top is None else r % (top + 1) for top, r in zip(columns[hints["x-at-most"]], b.u32())]
    if "x-countdown-from" in hints:
        start = int(hints["x-countdown-from"])
        return [None if i is None else str(start - i) for i in _indices(b, a)]
    if a.id_prefix is not None:
        return b.world.codec(a.id_prefix, a.id_length).encode_all(_indices(b, a))
    if a.enum:
        return b.enum(a.name)
    if _is_time(a):
        anchor = instants[hints["x-after"]] if "x-after" in hints else None
        times = b.later([t or 0 for t in anchor], _within_ms(a)) if anchor else b.timeline()
        times = [t - t % 1000 for t in times]  # whole seconds, as Chargebee keeps time
        if anchor:
            times = [None if start is None else t for t, start in zip(times, anchor)]
        instants[a.name] = times
        if a.format == "date":
            return [None if t is None else iso_date(t) for t in times]
        return [None if t is None else s[:19] + "Z" for t, s in zip(times, iso_ms_all([t or 0 for t in times]))]
    if a.type == "integer":
        return b.ints(a.minimum or 0, a.maximum if a.maximum is not None else 100_000)
    if a.type == "boolean":
        return b.chance(0.5)
    return b.pick(b.world.pools.provider(a.faker or "word"))


def _indices(b: Block, a: Attribute) -> list:
    """Row indices for the row's own values; other rows' indices for a reference."""
    if not a.hints.get("x-ref"):
        return list(b.indices)
    return b.refs(float(a.hints.get("x-present", 1.0)))


def _dependency_order(attributes: dict[str, Attribute]) -> list[str]:
    """Schema order, each attribute after the ones it reads; raises on a cycle or an unknown name."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, via: str) -> None:
        if name not in attributes:
            raise ValueError(f"{via} reads {name!r}, which the row schema lacks")
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ValueError(f"the row schema's attributes read each other in a cycle through {name!r}")
        state[name] = "visiting"
        for other in _reads(attributes[name]):
            visit(other, name)
        state[name] = "done"
        order.append(name)

    for name in attributes:
        visit(name, name)
    return order


def _reads(a: Attribute) -> list[str]:
    hints = a.hints
    names = [term.lstrip("-") for term in hints.get("x-sum") or ()]
    names += [hints[key] for key in ("x-at-most", "x-after") if key in hints]
    names += hints["x-prefix-of"][:1] if "x-prefix-of" in hints else []
    names += hints["x-suffix-of"][:1] if "x-suffix-of" in hints else []
    return names + list(hints.get("x-when") or ()) + ([a.same_as] if a.same_as else [])


def _is_time(a: Attribute) -> bool:
    return a.is_date and a.type == "string"


def _sometimes_empty(a: Attribute) -> bool:
    return "x-when" in a.hints or "x-present" in a.hints


def _within_ms(a: Attribute) -> int:
    return int(float(a.hints.get("x-within-days", 30)) * DAY_MS)


def _zero(a: Attribute) -> object:
    return {"integer": 0, "number": 0, "boolean": False}.get(a.type, "")
