"""The parameters an export runs with, as an API echoes them (a create role's `echo` and `defaults`).

`echo: parameters` names the body object whose parameters the answer shows (`{request}` in a
template): the sort (as sent, even empty; else the default, where the object can be sorted so), the
columns the export writes (defaults filled in), the scope's parameters that were given, and the
filters over the defaults' (`{junction: and}`), in that order; nothing else of the object is echoed
(a parameter sent as null is not given). Voucherify's exports echo their parameters so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .annotations import Role


def echoed(
    role: Role,
    body: Mapping[str, Any],
    fields: Sequence[str],
    sortable: Sequence[str],
    filters: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The echo of a create's parameters; `filters`: those the export runs with, as shown."""
    at = role.echo or ""
    sent = _dig(body, at)
    given = {k: v for k, v in sent.items() if v is not None} if isinstance(sent, Mapping) else {}
    echo: dict[str, Any] = {}
    order_key = _key(role.order, at)
    if order_key:
        default = role.defaults.get(order_key)
        if order_key in given:
            echo[order_key] = given[order_key]
        elif default is not None and default in sortable:
            echo[order_key] = default
    fields_key = _key(role.fields, at)
    if fields_key:
        echo[fields_key] = list(fields)
    for path in role.scope.values():
        key = _key(path, at)
        if key and given.get(key):
            echo[key] = given[key]
    filters_key = _key(role.filters if isinstance(role.filters, str) else None, at)
    if filters_key:
        default = role.defaults.get(filters_key)
        if isinstance(default, Mapping) or filters is not None:
            echo[filters_key] = {**(default if isinstance(default, Mapping) else {}), **(filters or {})}
    return echo


def _key(path: str | None, at: str) -> str | None:
    """A body path's name inside the echoed object (None: not in it)."""
    if not path:
        return None
    prefix = f"{at}." if at else ""
    rest = path[len(prefix) :] if path.startswith(prefix) else None
    return rest if rest and "." not in rest else None


def _dig(body: Any, path: str) -> Any:
    for key in path.split(".") if path else ():
        body = body.get(key) if isinstance(body, Mapping) else None
    return body
