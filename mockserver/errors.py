"""The one exception behaviour code raises to answer with an error.

Vendors turn it into their own error shape; nothing else builds error bodies.
"""

from __future__ import annotations


class ApiError(Exception):
    """An HTTP error answer: status, a short machine key and human text."""

    def __init__(
        self,
        status: int,
        key: str,
        message: str,
        details: str = "",
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        resource: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {key}: {message}")
        self.status = status
        self.key = key
        self.message = message
        self.details = details or message
        self.param = param
        self.headers = headers or {}
        self.resource = resource  # (kind, id) of what was not found, for vendors whose errors name it


def not_found(kind: str, ident: str) -> ApiError:
    shown = ident if len(ident) <= 100 else ident[:100] + "…"  # the whole id is in `resource`, once
    return ApiError(
        404, "not_found", "Resource not found", f"Cannot find {kind} with id {shown}", resource=(kind, ident)
    )


def scrub(value):
    """`value` with every string made encodable: header values may carry bytes
    that are not UTF-8 (kept as surrogates), and an answer echoing one must not fail."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


class FixtureError(ValueError):
    """A fixture file cannot be loaded (`serve --fixtures DIR`); the message says which and why."""
