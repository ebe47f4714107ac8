"""Stripe's `expand[]` and its refusal of query parameters it does not know.

Every operation takes `expand` (`expand[]=a`, `expand[0]=a` in the query, or
the form body's `expand` array). A path names properties, dot-separated, at
most four levels; each must be expandable where it stands: the schemas list
their expandable properties in `x-expandable` (Stripe's `x-expandableFields`),
and a list is entered through `data`. A path that is not is a 400, worded as
Stripe words it. A GET's query parameter that is neither declared by the
operation nor `expand` is a 400 `parameter_unknown`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ...errors import ApiError
from ...spec import Operation
from ..base import Call

EXPANDED = web.RequestKey("stripe_expand", frozenset)  # the request's checked expand paths
MAX_LEVELS = 4
_EXPAND = re.compile(r"^expand(\[\d*\])?$")


def expanded(request: web.Request) -> frozenset[str]:
    return request.get(EXPANDED, frozenset())


def expanding(
    handler: Callable[[Call], Awaitable[web.StreamResponse]], operation: Operation
) -> Callable[[Call], Awaitable[web.StreamResponse]]:
    """The handler behind Stripe's checks of `expand` and of unknown query parameters."""
    declared = {p.name for p in operation.parameters if p.location == "query"}
    root = (operation.responses.get("200") or {}).get("application/json") or {}

    async def run(call: Call) -> web.StreamResponse:
        paths: list[str] = []
        for name, value in call.request.query.items():
            if _EXPAND.match(name):
                paths.append(value)
            elif name not in declared and call.request.method == "GET":
                unknown = name.split("[", 1)[0]
                raise ApiError(
                    400,
                    "parameter_unknown",
                    "Unknown parameter",
                    f"Received unknown parameter: {unknown}",
                    param=unknown,
                )
        body = call.inputs.body
        if isinstance(body, dict) and isinstance(body.get("expand"), list):
            paths.extend(body["expand"])
        for path in paths:
            check(path, root)
        call.request[EXPANDED] = frozenset(paths)
        return await handler(call)

    run.__dict__.update(handler.__dict__)  # keep markers such as creates_export
    return run


def check(path: str, schema: dict[str, Any]) -> None:
    """400 unless `path` can be expanded from an answer of `schema`."""
    parts = path.split(".")
    if len(parts) > MAX_LEVELS:
        raise ApiError(
            400, "not_expandable", "Not expandable", f"You cannot expand more than {MAX_LEVELS} levels of a property."
        )
    node: dict[str, Any] | None = schema
    for index, part in enumerate(parts):
        child = _child(node, part) if node is not None else None
        if child is None:
            hint = ""
            if index == 0 and _is_list(schema) and _child(_items(schema), part) is not None:
                hint = f" You may want to try expanding 'data.{part}' instead."
            raise ApiError(400, "not_expandable", "Not expandable", f"This property cannot be expanded ({part}).{hint}")
        node = child


def _child(node: dict[str, Any], part: str) -> dict[str, Any] | None:
    if part == "data" and _is_list(node):
        return _items(node)
    if part not in node.get("x-expandable", ()):
        return None
    return _object(node["properties"][part])


def _is_list(node: dict[str, Any]) -> bool:
    data = node.get("properties", {}).get("data")
    return isinstance(data, dict) and data.get("type") == "array"


def _items(node: dict[str, Any]) -> dict[str, Any]:
    return _object(node["properties"]["data"].get("items") or {})


def _object(schema: dict[str, Any]) -> dict[str, Any]:
    """The object an expandable property holds once expanded (the object branch of `anyOf: [id, object]`)."""
    if "properties" in schema:
        return schema
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key, ()):
            found = _object(branch)
            if "properties" in found:
                return found
    return schema
