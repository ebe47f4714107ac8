"""`mockserver proxy --record DIR`: what the upstream answered, as fixtures that
`mockserver serve --fixtures DIR` loads (fixtures.py). The proxy asks the
served vendors for it (Vendor.fixture_recorder).

The fixture format holds an app's customers, campaigns, vouchers and orders.
Orders are what the API returns whole, so they are what is recorded: every
order object in a successful JSON answer of the Voucherify API (create, get,
update, list), the latest version of each, one file per app (`<app id>.yaml`),
rewritten as orders arrive. Each order is cut to the fixture schema's
properties (derived from the loaded spec) and checked against it; an order
that still does not fit is left out and logged. Exports are not recorded (the
format has none: an export is made by the mock's own lifecycle), nor tokens
(secrets stay out of files: the replaying server binds each app to the first
token it sees), nor anything of Chargebee's (its fixtures do not exist yet).
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from jsonschema import Draft7Validator, FormatChecker

from ...spec import Operation, Spec

log = logging.getLogger("mockserver")


class Recorder:
    """An observer of the proxy's exchanges (see Forwarder.observers)."""

    def __init__(self, directory: str | Path, spec: Spec) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        data_set = spec.schema("FixtureDataSet")
        self.order_schema = data_set["properties"]["orders"]["items"]
        self.validator = Draft7Validator(data_set, format_checker=FormatChecker())
        self.operations = {id(op) for op in spec.operations}
        self.orders: dict[str, dict[str, dict]] = {}  # app id → order id → order
        self._lock = asyncio.Lock()

    async def __call__(
        self, request: web.Request, op: Operation | None, upstream: aiohttp.ClientResponse, body: bytes
    ) -> None:
        if op is None or id(op) not in self.operations or not 200 <= upstream.status < 300:
            return
        app_id = request.headers.get("X-App-Id")
        if not app_id or upstream.content_type != "application/json":
            return
        try:
            answer = json.loads(body)
        except ValueError:
            return
        found = [order for order in _objects(answer, "order") if order.get("id")]
        if not found:
            return
        async with self._lock:
            kept = self.orders.setdefault(app_id, {})
            for order in found:
                fixture = project(order, self.order_schema)
                if self.validator.is_valid({"orders": [fixture]}):
                    kept[order["id"]] = fixture
                else:
                    log.warning("record: order %s does not fit the fixture format; left out", order["id"])
            content = {"app_id": app_id, "orders": list(kept.values())}
            await asyncio.to_thread(_write, self.directory / f"{_file_name(app_id)}.yaml", content)


def _objects(value: Any, kind: str) -> list[dict]:
    """Every object of `kind` (by its `object` field) in an answer, outermost first."""
    found, stack = [], [value]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            if item.get("object") == kind:
                found.append(item)
                continue
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def project(value: Any, schema: dict) -> Any:
    """`value` with what `schema` does not allow left out: unknown properties and nulls."""
    if isinstance(value, dict):
        properties = _properties(schema)
        if properties is None:
            return value
        return {
            key: project(item, properties[key]) for key, item in value.items() if key in properties and item is not None
        }
    if isinstance(value, list):
        items = _find(schema, "items") or {}
        return [project(item, items) for item in value]
    return value


def _properties(schema: dict) -> dict | None:
    """The properties an object schema names, across allOf/anyOf/oneOf; None when it names none."""
    found: dict = {}
    named = False
    for part in _parts(schema):
        if "properties" in part:
            named = True
            found.update(part["properties"])
    return found if named else None


def _find(schema: dict, key: str) -> Any:
    return next((part[key] for part in _parts(schema) if key in part), None)


def _parts(schema: dict) -> list[dict]:
    parts, stack = [], [schema]
    while stack:
        part = stack.pop()
        if isinstance(part, dict):
            parts.append(part)
            for combinator in ("allOf", "anyOf", "oneOf"):
                stack.extend(part.get(combinator) or [])
    return parts


def _file_name(app_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in app_id).lstrip(".") or "app"


def _write(path: Path, content: dict) -> None:
    part = path.with_suffix(".yaml.part")
    part.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
    part.replace(path)
