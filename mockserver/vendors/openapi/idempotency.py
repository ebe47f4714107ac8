"""Idempotency keys as `x-mock.idempotency` states them (docs/openapi-vendors.md).

A request carrying a key seen before (same tenant) answers as the first one did, in one of two ways:

- `replay: export`: a create answers the export the key made, as it is now (Exports.create asks
  `replayed_export` and then `remember_export`);
- `replay: answer`: the operation runs at most once per key, and a retry gets its first answer again
  (status and body), with `replayed-header: true` and `original-request-header` naming the first
  request's id (`guarded` wraps the handlers of the operations that take a key). While the first is
  still running, the key is refused (409 `in-use`). Only requests that began executing keep their
  key: a request refused by the contract (credentials, validation) never reaches the handler and
  stores nothing, and one whose handler fails frees its key, so either may be retried with it.

Keys are stored under a digest of the tenant and the key (stored ids are unique across a vendor's
tenants, and the key itself need not be kept), in the store (so `--workers` and `--state` share
them); a key older than `window` (mock clock) is free again, and each tenant keeps at most
`max-keys` of them (its oldest go first). With `mismatch: refuse`, the key on another operation or
with other parameters than it was first used with is a 400 instead of a replay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from ...errors import ApiError
from ...exports import ExportRecord, ExportService
from ...spec import Operation
from ..base import Call, Handler
from .annotations import Idempotency, Role
from .render import fill

EXPORTS = "idempotency"  # store kind, replay: export: key digest → the export it made
ANSWERS = "idempotency_keys"  # store kind, replay: answer: key digest → the first request and its answer


def presented(call: Call, rules: Idempotency) -> str | None:
    """The request's key (None: it sent none); 400 for one that is not 1 to `max-length` printable
    characters, when the API sets a length."""
    key = call.request.headers.get(rules.header)
    if key is None or rules.max_length is None:
        return key
    if not key.strip() or len(key) > rules.max_length or not key.isprintable():
        raise refused(rules, "invalid", key, 400)
    return key


def refused(rules: Idempotency, kind: str, key: str, status: int) -> ApiError:
    """The error of a refused key, worded as `errors` says."""
    wording = rules.errors[kind]
    values = {"header": rules.header, "idempotency_key": key, "max_length": rules.max_length}
    param = None if wording.param is None else str(fill(wording.param, values))
    return ApiError(status, wording.key, "Idempotency key refused", str(fill(wording.message, values)), param=param)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# -- replay: export ------------------------------------------------------------------------------
def _export_slot(call: Call, rules: Idempotency, key: str) -> str:
    """Where a create's key is filed (the digest kept as it was, so that a `--state` file's keys still replay)."""
    scope = call.operation.operation_id if rules.per == "request" else ""
    return hashlib.sha256("\n".join((call.store.app, scope, key)).encode("utf-8", "surrogateescape")).hexdigest()


async def replayed_export(call: Call, rules: Idempotency, key: str, body: Mapping) -> ExportRecord | None:
    """The export a create with this key made (None: a new one is made)."""
    seen = await call.store.get(EXPORTS, _export_slot(call, rules, key))
    if seen is None:
        return None
    if (seen.get("operation"), seen.get("request")) != (call.operation.operation_id, dict(body)):
        if rules.per == "request":
            return None  # another request under that key is a new one
        if rules.mismatch == "refuse":
            other = seen.get("operation") != call.operation.operation_id
            raise refused(rules, "other-operation" if other else "other-request", key, 400)
    service: ExportService = call.services.exports
    try:
        record = await service.get(call.store, seen["export"], polled=False)
    except ApiError:
        return None  # deleted since: a new export
    if rules.window is not None and call.services.clock.now() > record.created_at + rules.window:
        return None
    return record


async def remember_export(call: Call, rules: Idempotency, key: str, body: Mapping, export_id: str) -> None:
    """File the export a create made under its key."""
    seen = {"export": export_id, "operation": call.operation.operation_id, "request": dict(body)}
    await call.store.put(EXPORTS, _export_slot(call, rules, key), seen)
    if rules.max_keys is not None:
        await call.store.trim(EXPORTS, rules.max_keys)


# -- replay: answer ------------------------------------------------------------------------------
def guard(
    handlers: Mapping[str, Handler],
    operations: Iterable[Operation],
    roles: Mapping[str, Role],
    rules: Idempotency | None,
) -> dict[str, Handler]:
    """The handlers, with `replay: answer` those of the operations that take a key `guarded`."""
    made = dict(handlers)
    if rules is None or rules.replay != "answer":
        return made
    for op in operations:
        role = roles.get(op.operation_id)
        if op.method.upper() == "POST" if rules.operations == "post" else role is not None and role.role == "create":
            made[op.operation_id] = guarded(made[op.operation_id], rules)
    return made


def guarded(handler: Handler, rules: Idempotency) -> Handler:
    """The handler run at most once per key; a retry replays its first answer."""

    async def run(call: Call) -> web.StreamResponse:
        key = presented(call, rules)
        if key is None or call.store is None:
            return await handler(call)
        now = call.services.clock.now()
        fingerprint = _fingerprint(call.inputs.body)
        endpoint = f"{call.request.method} {call.operation.path}"
        scope = (endpoint, fingerprint) if rules.per == "request" else ()
        slot = _digest(call.store.app, key, *scope)
        kept = await call.store.get(ANSWERS, slot)
        if kept is not None and rules.window is not None and now - kept["at"] >= rules.window:
            await call.store.delete(ANSWERS, slot)  # expired: the key is free again
            kept = None
        if kept is None:
            pending = {"at": now, "endpoint": endpoint, "fingerprint": fingerprint, "request_id": call.request_id}
            if await call.store.add(ANSWERS, slot, pending):
                return await _first(call, handler, rules, slot, pending)
            kept = await call.store.get(ANSWERS, slot)  # another request took the key a moment ago
            if kept is None:
                raise refused(rules, "in-use", key, 409)
        if rules.mismatch == "refuse" and kept["endpoint"] != endpoint:
            raise refused(rules, "other-operation", key, 400)
        if rules.mismatch == "refuse" and kept["fingerprint"] != fingerprint:
            raise refused(rules, "other-request", key, 400)
        if "body" not in kept:
            raise refused(rules, "in-use", key, 409)
        headers = {rules.replayed_header: "true"} if rules.replayed_header else {}
        if rules.original_header:
            headers[rules.original_header] = kept["request_id"]
        return web.Response(
            body=kept["body"].encode(), status=kept["status"], content_type=kept["type"], headers=headers
        )

    run.__dict__.update(handler.__dict__)  # keep markers such as creates_export
    return run


async def _first(call: Call, handler: Handler, rules: Idempotency, slot: str, pending: dict) -> web.StreamResponse:
    """Run the request and keep its answer under the key; a failure frees the key for a retry."""
    try:
        response = await handler(call)
    except BaseException:
        await call.store.delete(ANSWERS, slot)
        raise
    body = getattr(response, "body", None)
    if isinstance(body, bytes):
        answer = {"status": response.status, "body": body.decode(), "type": response.content_type}
        await call.store.replace(ANSWERS, slot, {**pending, **answer})
        if rules.max_keys is not None:
            await call.store.trim(ANSWERS, rules.max_keys)
    else:  # not a stored answer (a stream): nothing to replay
        await call.store.delete(ANSWERS, slot)
    return response
