"""Stripe's object conventions the reporting handlers share: the ids of runs and
of the files they produce, list pages, and the 404 of a missing object."""

from __future__ import annotations

from typing import Any

from ...errors import ApiError

RUN_PREFIX = "frr_"
FILE_PREFIX = "file_"


def file_id_of(record: dict) -> str:
    return FILE_PREFIX + record["id"][len(RUN_PREFIX) :]


def page_of(items: list[tuple[int, str, Any]], query: dict, what: str) -> tuple[list[Any], bool]:
    """One page of (created, id, item) triples, newest first, as Stripe's lists page: `limit`,
    `starting_after` or `ending_before` (an id of the list), `created[gt|gte|lt|lte]`; (items, has_more)."""
    after, before = query.get("starting_after"), query.get("ending_before")
    if after and before:
        raise ApiError(
            400,
            "parameter_invalid",
            "Invalid parameters",
            "You may only specify one of these parameters: starting_after, ending_before.",
            param="starting_after",
        )
    kept = sorted((item for item in items if _created_matches(item[0], query)), key=lambda item: item[:2], reverse=True)
    limit = query["limit"]
    if after or before:
        cursor = after or before
        index = next((i for i, item in enumerate(kept) if item[1] == cursor), None)
        if index is None:
            raise missing(what, cursor, "starting_after" if after else "ending_before")
        start, stop = (index + 1, index + 1 + limit) if after else (max(0, index - limit), index)
    else:
        start, stop = 0, limit
    has_more = stop < len(kept) if not before else start > 0
    return [item[2] for item in kept[start:stop]], has_more


def _created_matches(created: int, query: dict) -> bool:
    tests = {
        "created": created.__eq__,
        "created[gt]": created.__gt__,
        "created[gte]": created.__ge__,
        "created[lt]": created.__lt__,
        "created[lte]": created.__le__,
    }
    return all(test(query[name]) for name, test in tests.items() if name in query)


def missing(what: str, ident: str, param: str) -> ApiError:
    return ApiError(404, "resource_missing", "No such object", f"No such {what}: '{ident}'", param=param)
