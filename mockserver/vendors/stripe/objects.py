"""The 404 of a Stripe object the engine does not keep (a report type)."""

from __future__ import annotations

from ...errors import ApiError


def missing(what: str, ident: str, param: str) -> ApiError:
    return ApiError(404, "resource_missing", "No such object", f"No such {what}: '{ident}'", param=param)
