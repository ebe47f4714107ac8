"""Answers shaped by the response schemas: an export record seen through a schema.

An export is offered as a *view* (mockserver.vendors.openapi.behaviour.view): id, status,
created_at, url … Each property of the response schema takes, in this order:

0. its `x-mock-when`: the phases (a word or a list: scheduled, running, done, failed, canceled) in
   which it is present at all; in any other it is left out (null if it is required and nullable);
1. its `x-mock-value`: a view name (`completed_at`), alternatives (`completed_at|updated_at`:
   the first that has a value), a text template (`"{origin}/files/{id}"`), or an object of
   those (`{status: "{status_url}"}`);
2. its `x-mock-status`: the phase → word table of a status other than the API's own
   (e.g. an export's `exportState` beside the task's `status`);
3. the view value its name stands for (`createdAt`, `created_at` and `created` are all
   `created_at`; `result`, `url`, `downloadUrl` are `url` …, see NAMES); a property standing for
   the URL whose schema is an object (or one marked `x-mock-file`) is the finished export's file
   as a document of its own, filled from the view's `file` (null before);
4. the request's field of the same name (an answer echoes what was asked);
5. for a required property, the simplest value its schema allows; an optional one is left out.

Values take the property's type: a date-time string, or epoch seconds for an integer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from ...clock import iso
from ...control.generate import generate

# view name → the property names (lower case, without `_`/`-`) that stand for it
NAMES = {
    "id": ("id",),
    "status": ("status", "state"),
    "created_at": ("createdat", "created", "requestedat", "createdtime", "creationtime"),
    "updated_at": ("updatedat", "updated", "lastupdated", "modifiedat"),
    "started_at": ("startedat", "started"),
    "completed_at": ("completedat", "completed", "finishedat", "succeededat", "doneat"),
    "url": ("url", "result", "resulturl", "downloadurl", "fileurl", "href", "location"),
    "name": ("name", "exportname", "filename"),
    "object": ("objecttype", "object", "exportedobject", "entity"),
    "fields": ("fields", "columns", "objectproperties", "properties"),
    "rows": ("recordcount", "rowcount", "rows", "records"),
    "format": ("format", "fileformat"),
    "size": ("size", "bytes", "filesize", "sizebytes", "contentlength"),
    "expires_at": ("expiresat", "expires", "expiry"),
    "total": ("total", "totalcount", "count"),
    "has_more": ("hasmore", "more"),
    "next": ("next", "after", "nextcursor", "cursor", "nextpagetoken", "nextpage"),
}
_BY_NAME = {alias: key for key, aliases in NAMES.items() for alias in aliases}
_TEMPLATE = re.compile(r"\{([a-z_]+)\}")
TIMES = ("created_at", "updated_at", "started_at", "completed_at")


@lru_cache(maxsize=4096)  # property names of schemas and bodies: a create's body's keys are read on every create
def view_name(prop: str) -> str | None:
    return _BY_NAME.get(prop.replace("_", "").replace("-", "").lower())


def render(schema: Any, view: Mapping[str, Any], request: Mapping[str, Any] | None = None) -> Any:
    """The answer `schema` describes, filled from `view` (and the request body, echoed by name)."""
    schema = merged(schema)
    if "x-mock-value" in schema:
        return typed(fill(schema["x-mock-value"], view), schema)
    if schema.get("type") == "array" and "items" in schema:
        return [render(schema["items"], item, request) for item in view.get("items", ())] if "items" in view else []
    plan = _plan(schema)
    if not plan:
        return generate(schema)
    request = request or {}
    out: dict[str, Any] = {}
    for name, sub, required, nullable, phases, key in plan:
        if phases is not None and "phase" in view and _phase(view) not in phases:  # x-mock-when: not in this phase
            if required and nullable:
                out[name] = None  # required, and not yet: null (an export's result until it is done)
            continue
        value = _value(name, sub, view, request, key)
        if value is None and not required:
            continue
        out[name] = value if value is not None or nullable else generate(sub)
    return out


class _Property(NamedTuple):
    """What `render` reads of a property's schema, the same for every answer: its merged schema, whether
    it is required and nullable, the phases of its `x-mock-when` (None: every phase) and its view name."""

    name: str
    sub: dict
    required: bool
    nullable: bool
    phases: tuple | None
    key: str | None


_PLANS: dict[int, tuple[dict, tuple[_Property, ...]]] = {}  # id(merged schema) → (it, kept; its properties)
PLANS_KEPT = 4096  # plans kept at most, the oldest dropped first: a process that makes many apps (a test run,
# the pytest plugin) meets new schemas all along, and the newest are the ones its answers walk
_PLANS_LOCK = threading.Lock()


def _plan(schema: dict) -> tuple[_Property, ...]:
    """A (merged) object schema's properties as `render` reads them, worked out once per schema object (as
    `merged` is): every create's answer walked the same ones, merging each property three times and
    normalising its name to a view name, a fifth of the answer's CPU."""
    kept = _PLANS.get(id(schema))
    if kept is not None and kept[0] is schema:
        return kept[1]
    required = set(schema.get("required") or ())
    plan = []
    for name, raw in (schema.get("properties") or {}).items():
        sub = merged(raw)
        when = sub.get("x-mock-when")
        phases = None if when is None else (when,) if isinstance(when, str) else tuple(when)
        plan.append(_Property(name, sub, name in required, _nullable(raw), phases, view_name(name)))
    return _keep(_PLANS, schema, tuple(plan))


def _keep(table: dict, schema: dict, value: Any) -> Any:
    """Keep `value` for `schema` in a table keyed by its id (the schema kept beside it, so that id is not
    reused), the oldest dropped once PLANS_KEPT are kept: a table that stopped keeping when full worked
    everything out again for each new request in a long test run."""
    with _PLANS_LOCK:  # servers on threads of one process (ServerThread) share the tables
        table[id(schema)] = (schema, value)
        while len(table) > PLANS_KEPT:
            del table[next(iter(table))]
    return value


def _phase(view: Mapping[str, Any]) -> Any:
    return "canceled" if view.get("canceled") else view.get("phase")


def _value(name: str, sub: dict, view: Mapping[str, Any], request: Mapping[str, Any], key: str | None) -> Any:
    if "x-mock-value" in sub:
        return typed(fill(sub["x-mock-value"], view), sub)
    if "x-mock-status" in sub:
        table = sub["x-mock-status"]
        return table.get(_phase(view))
    if (key == "url" or sub.get("x-mock-file")) and sub.get("properties"):  # the file, a document of its own
        file = view.get("file")
        return render(sub, file) if isinstance(file, Mapping) else None
    if key is not None and view.get(key) is not None:
        return typed(view[key], sub)
    if name in request:
        return request[name]
    if sub.get("type") == "object" and sub.get("properties") and key is None:
        return render(sub, _within(sub, view), request.get(name) if isinstance(request.get(name), dict) else {})
    return None


def _within(sub: Mapping[str, Any], view: Mapping[str, Any]) -> Mapping[str, Any]:
    """The view a nested object is filled from: a list's (an object holding an array) `url` is its own
    address (Stripe's `links.url`), not the export's download, so the view's is not offered to it."""
    properties = sub.get("properties") or {}
    listing = any(merged(prop).get("type") == "array" for prop in properties.values())
    return {k: v for k, v in view.items() if k != "url"} if listing and "url" in view else view


def fill(template: Any, view: Mapping[str, Any]) -> Any:
    """A template's value: a view name, `a|b` alternatives, text with {placeholders}, or an object of those."""
    if isinstance(template, dict):  # a key whose template is one placeholder without a value is left out
        filled = {key: fill(value, view) for key, value in template.items()}
        return {
            key: value
            for key, value in filled.items()
            if value is not None or not (isinstance(template[key], str) and _TEMPLATE.fullmatch(template[key]))
        }
    if isinstance(template, list):
        return [fill(value, view) for value in template]
    if not isinstance(template, str):
        return template
    if "{" in template:
        whole = _TEMPLATE.fullmatch(template)
        if whole:
            return view.get(whole.group(1))
        return _TEMPLATE.sub(lambda m: "" if view.get(m.group(1)) is None else str(view[m.group(1)]), template)
    names = [name.strip() for name in template.split("|")]
    if any(name in view for name in names):
        return next((view[name] for name in names if view.get(name) is not None), None)
    return template  # no view name: literal text


def typed(value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` in the property's type: epoch seconds as a date-time text or a whole number."""
    if value is None:
        return None
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if isinstance(value, float) and kind == "string":
        return iso(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and kind == "integer":
        return int(value)
    if kind == "string" and not isinstance(value, str):
        return str(value)
    return value


_MERGED: dict[int, tuple[dict, dict]] = {}  # id(schema) → (the schema, kept so its id is not reused; merged)


def merged(schema: Any) -> dict:
    """allOf parts as one schema; the first non-null branch of anyOf/oneOf. Remembered per schema object:
    a document is loaded once and never changed, and every answer walks the same schemas (a page of ten
    exports merged ~190 of them, 15 % of the list's CPU)."""
    if not isinstance(schema, dict):
        return {}
    kept = _MERGED.get(id(schema))
    if kept is not None and kept[0] is schema:
        return kept[1]
    return _keep(_MERGED, schema, _merge(schema))


def _merge(schema: dict) -> dict:
    if "allOf" in schema:
        out = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = merged(part)
            props = {**(out.get("properties") or {}), **(part.get("properties") or {})}
            out.update({k: v for k, v in part.items() if k != "properties"})
            if props:
                out["properties"] = props
        return out
    for key in ("anyOf", "oneOf"):
        branches = [b for b in schema.get(key) or () if isinstance(b, dict) and b.get("type") != "null"]
        if branches:
            return {**{k: v for k, v in schema.items() if k != key}, **merged(branches[0])}
    return schema


def _nullable(schema: Any) -> bool:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return bool(schema.get("nullable")) or (isinstance(kind, list) and "null" in kind)
