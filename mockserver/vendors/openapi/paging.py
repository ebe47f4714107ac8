"""Lists paged by an item's id (`x-mock.paging: {style: id}`, docs/openapi-vendors.md).

Items come newest first (by creation time in whole seconds, then id); a page holds `limit` of them, those after
the item whose id `after` names, or those just before the one `before` names; `has_more` says
whether the list goes on past the page in the direction it was read. A time filter (`created`,
`created[gt]`, `created[gte]`, `created[lt]`, `created[lte]` for `created: created`) keeps the
items created then. Naming both `after` and `before`, or an id the list does not hold, is refused.
The engine's `list` role pages its exports so, and a vendor's own list handlers call `id_page`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ...errors import ApiError

T = TypeVar("T")
STYLES = ("offset", "id", "page")
PAGING_KEYS = ("style", "limit", "after", "before", "created", "page", "order")
# a time filter's operators, as `<name>[<op>]` query parameters (the bare name: created exactly then)
_TIMES: dict[str, Callable[[Any, Any], bool]] = {
    "": operator.eq,
    "[gt]": operator.gt,
    "[gte]": operator.ge,
    "[lt]": operator.lt,
    "[lte]": operator.le,
}


@dataclass(frozen=True)
class Paging:
    """How an API's lists page: `offset` (a number of items to skip), `id` (after or before an item) or
    `page` (numbered from 1); the names of their query parameters, of the time filter and of the sort
    (None: none)."""

    style: str = "offset"
    limit: str = "limit"
    after: str = "after"
    before: str = "before"
    created: str | None = None
    page: str = "page"
    order: str | None = None  # `created_at` or `status`, `-` first for descending (default: newest first)


def sort_of(query: Mapping[str, Any], paging: Paging, index_of: Callable[[str], str | None]) -> tuple[str, bool]:
    """The store index a list is read in and whether backwards, as the query's `order` parameter names
    them (`-status`: by status, last phase first); `index_of` reads a field's name as an index."""
    value = str(query.get(paging.order) or "") if paging.order else ""
    if not value:
        return "created", True
    index = index_of(value.lstrip("-"))
    if index is None:
        raise ApiError(400, "invalid", "Invalid request", f"Lists cannot be sorted by {value!r}", param=paging.order)
    return index, value.startswith("-")


def id_page(items: Iterable[tuple[float, str, T]], query: Mapping[str, Any], paging: Paging, noun: str, limit: int):
    """One page of (created, id, item) triples, newest first, as `query` asks: (items, has_more).
    `noun` names an item in the error of a cursor the list does not hold ("No such export: 'x'")."""
    after, before = query.get(paging.after), query.get(paging.before)
    if after and before:
        raise ApiError(
            400,
            "invalid",
            "Invalid parameters",
            f"You may only specify one of these parameters: {paging.after}, {paging.before}.",
            param=paging.after,
        )
    bounds = _bounds(query, paging)
    kept = sorted(
        (item for item in items if all(test(item[0], value) for test, value in bounds)),
        key=lambda item: item[:2],
        reverse=True,
    )
    if after or before:
        cursor = after or before
        index = next((i for i, item in enumerate(kept) if item[1] == cursor), None)
        if index is None:
            raise ApiError(
                404,
                "cursor_not_found",
                "No such object",
                f"No such {noun}: '{cursor}'",
                param=paging.after if after else paging.before,
            )
        start, stop = (index + 1, index + 1 + limit) if after else (max(0, index - limit), index)
    else:
        start, stop = 0, limit
    has_more = stop < len(kept) if not before else start > 0
    return [item[2] for item in kept[start:stop]], has_more


def _bounds(query: Mapping[str, Any], paging: Paging) -> list[tuple[Callable[[Any, Any], bool], float]]:
    """The time filter's (test, value) pairs the query gives."""
    if paging.created is None:
        return []
    names = ((paging.created + suffix, test) for suffix, test in _TIMES.items())
    return [(test, _time(query[name], name)) for name, test in names if name in query]


def _time(value: Any, name: str) -> float:
    """A time filter's value (the document may not declare it: text then); 400 unless a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    if not text.isdigit() or len(text) > 12:
        raise ApiError(400, "invalid", "Invalid request", f"{name} must be a time in epoch seconds", param=name)
    return int(text)
