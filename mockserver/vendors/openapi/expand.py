"""`expand` (`x-mock.expand`) and refused query parameters (`x-mock.refuse-unknown-query`).

With `expand`, every operation takes paths of its answer's properties to expand, in the query
(`expand[]=a`, `expand[0]=a`, `expand=a`) or the body's `expand` list: dot-separated, at most
`max-levels`, each property expandable where it stands, as the response schemas list them in
`x-expandable`, a list's items entered through its `list` property (`data.file`). A path that is not
is a 400 worded as `expand.errors` says. The checked paths are `expanded(request)`: what a handler
expands is its own. With `refuse-unknown-query: [GET]`, a GET's query parameter the operation does
not declare (nor `expand`) is a 400, worded as the vendor words an unknown parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp import web

from ...errors import ApiError
from ...spec import Operation
from ...validation import Invalid
from ..base import Call, Handler
from .annotations import Api, Expand
from .render import fill

EXPANDED = web.RequestKey("mock_expand", frozenset)  # the request's checked expand paths


def expanded(request: web.Request) -> frozenset[str]:
    return request.get(EXPANDED, frozenset())


def checking(
    handlers: Mapping[str, Handler],
    operations: Iterable[Operation],
    api: Api,
    refuse: Callable[[Invalid, Operation | None], ApiError],
) -> dict[str, Handler]:
    """The handlers behind the API's checks of `expand` and of unknown query parameters (if it has them)."""
    made = dict(handlers)
    if api.expand is None and not api.refuse_unknown_query:
        return made
    for op in operations:
        made[op.operation_id] = _checked(made[op.operation_id], op, api, refuse)
    return made


def _checked(handler: Handler, op: Operation, api: Api, refuse: Callable[[Invalid, Operation | None], ApiError]):
    declared = {p.name for p in op.parameters if p.location == "query"}
    rules = api.expand
    named = re.compile(rf"^{re.escape(rules.param)}(\[\d*\])?$") if rules else None
    root = _answer_schema(op)
    strict = op.method.upper() in api.refuse_unknown_query

    async def run(call: Call) -> web.StreamResponse:
        paths: list[str] = []
        for name, value in call.request.query.items():
            if named is not None and named.match(name):
                paths.append(value)
            elif strict and name not in declared:
                unknown = name.split("[", 1)[0]
                raise refuse(Invalid("query", unknown, f"{unknown} is not a parameter", kind="unknown"), op)
        if rules is not None:
            body = call.inputs.body
            if isinstance(body, dict) and isinstance(body.get(rules.param), list):
                paths.extend(body[rules.param])
            for path in paths:
                check(path, root, rules)
            call.request[EXPANDED] = frozenset(paths)
        return await handler(call)

    run.__dict__.update(handler.__dict__)  # keep markers such as creates_export
    return run


def check(path: str, schema: dict[str, Any], rules: Expand) -> None:
    """400 unless `path` can be expanded from an answer of `schema`."""
    parts = path.split(".")
    if len(parts) > rules.max_levels:
        raise _refused(rules, "too-deep", "")
    node: dict[str, Any] | None = schema
    for index, part in enumerate(parts):
        child = _child(node, part, rules) if node is not None else None
        if child is None:
            in_list = index == 0 and _is_list(schema, rules) and _child(_items(schema, rules), part, rules) is not None
            raise _refused(rules, "in-list" if in_list else "not-expandable", part)
        node = child


def _refused(rules: Expand, kind: str, part: str) -> ApiError:
    wording = rules.errors[kind]
    values = {"part": part, "max_levels": rules.max_levels, "list": rules.list}
    return ApiError(400, wording.key, "Not expandable", str(fill(wording.message, values)), param=wording.param)


def _answer_schema(op: Operation) -> dict[str, Any]:
    """The JSON schema of the operation's first documented success."""
    statuses = sorted(s for s in op.responses if s.isdigit() and 200 <= int(s) < 300)
    return next(((op.responses[s] or {}).get("application/json") or {} for s in statuses), {})


def _child(node: dict[str, Any], part: str, rules: Expand) -> dict[str, Any] | None:
    if part == rules.list and _is_list(node, rules):
        return _items(node, rules)
    if part not in node.get("x-expandable", ()):
        return None
    return _object(node["properties"][part])


def _is_list(node: dict[str, Any], rules: Expand) -> bool:
    items = node.get("properties", {}).get(rules.list)
    return isinstance(items, dict) and items.get("type") == "array"


def _items(node: dict[str, Any], rules: Expand) -> dict[str, Any]:
    return _object(node["properties"][rules.list].get("items") or {})


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
