"""Stripe's idempotent requests: a POST with `Idempotency-Key` is run once per
key and account; a retry with the same key gets the first answer again, with
`Idempotent-Replayed: true` and `Original-Request` (the first request's id).

The same key with other parameters, or on another endpoint, is refused with
an `idempotency_error` (400). While the first request is still running, a
second one with its key is refused (409 `idempotency_key_in_use`). Only
answers of requests that began executing are kept: a request refused by the
contract (authentication, validation) never reaches the handler and stores
nothing, so it may be retried with the same key, as Stripe documents.

Keys live in the store (kind `idempotency_keys`, so `--workers` and `--state`
share them), filed under a hash of the account and the key, since keys are
unique per kind across a vendor's accounts. They expire after 24 hours of the
mock clock, and each account keeps at most KEPT of them (its oldest go first).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ...errors import ApiError
from ..base import Call

HEADER = "Idempotency-Key"
KIND = "idempotency_keys"
MAX_LENGTH = 255  # Stripe: keys are up to 255 characters long
LIFETIME = 24 * 3600  # seconds a key is kept (mock clock)
KEPT = 1000  # keys kept per account


def presented(request: web.Request) -> str | None:
    """The request's idempotency key (POSTs only: Stripe ignores it on GET and DELETE); 400 for a long one."""
    key = request.headers.get(HEADER) if request.method == "POST" else None
    if key is None:
        return None
    if not key or len(key) > MAX_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            "idempotency_key_invalid",
            "Invalid idempotency key",
            f"Invalid {HEADER}: it must be 1 to {MAX_LENGTH} printable characters long.",
        )
    return key


def idempotent(
    handler: Callable[[Call], Awaitable[web.StreamResponse]],
) -> Callable[[Call], Awaitable[web.StreamResponse]]:
    """The handler run at most once per idempotency key; a retry replays its answer."""

    async def run(call: Call) -> web.StreamResponse:
        key = presented(call.request)
        if key is None or call.store is None:
            return await handler(call)
        now = call.services.clock.now()
        slot = hashlib.sha256(f"{call.store.app}\0{key}".encode("utf-8", "surrogateescape")).hexdigest()
        endpoint = f"{call.request.method} {call.operation.path}"
        fingerprint = _fingerprint(call.inputs.body)
        kept = await call.store.get(KIND, slot)
        if kept is not None and now - kept["at"] >= LIFETIME:
            await call.store.delete(KIND, slot)  # expired: the key is free again
            kept = None
        if kept is None:
            pending = {"at": now, "endpoint": endpoint, "fingerprint": fingerprint, "request_id": call.request_id}
            if await call.store.add(KIND, slot, pending):
                return await _first(call, handler, slot, pending)
            kept = await call.store.get(KIND, slot)  # another request took the key a moment ago
            if kept is None:
                raise _in_use(key)
        if kept["endpoint"] != endpoint:
            raise _mismatch(key, "for the same endpoint they were first used for")
        if kept["fingerprint"] != fingerprint:
            raise _mismatch(key, "with the same parameters they were first used with")
        if "body" not in kept:
            raise _in_use(key)
        return web.Response(
            body=kept["body"].encode(),
            status=kept["status"],
            content_type="application/json",
            headers={"Idempotent-Replayed": "true", "Original-Request": kept["request_id"]},
        )

    run.__dict__.update(handler.__dict__)  # keep markers such as creates_export
    return run


async def _first(call: Call, handler, slot: str, pending: dict[str, Any]) -> web.StreamResponse:
    """Run the request and keep its answer under the key; a failure frees the key for a retry."""
    try:
        response = await handler(call)
    except BaseException:
        await call.store.delete(KIND, slot)
        raise
    body = getattr(response, "body", None)
    if isinstance(body, bytes):
        await call.store.replace(KIND, slot, {**pending, "status": response.status, "body": body.decode()})
        await call.store.trim(KIND, KEPT)
    else:  # not a stored answer (a stream): nothing to replay
        await call.store.delete(KIND, slot)
    return response


def _fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _mismatch(key: str, rule: str) -> ApiError:
    return ApiError(
        400,
        "idempotency_error",
        "Idempotency key reused",
        f"Keys for idempotent requests can only be used {rule}. Try using a key other than "
        f"'{key}' if you meant to execute a different request.",
    )


def _in_use(key: str) -> ApiError:
    return ApiError(
        409,
        "idempotency_key_in_use",
        "Idempotency key in use",
        f"There is currently another in-progress request using the idempotency key '{key}'. "
        "Try again once it has finished.",
    )
