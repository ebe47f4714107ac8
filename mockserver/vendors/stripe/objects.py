"""Stripe's object conventions the reporting handlers share: the ids of runs and
of the files they produce, and the 404 of a missing object."""

from __future__ import annotations

from ...errors import ApiError

RUN_PREFIX = "frr_"
FILE_PREFIX = "file_"


def file_id_of(record: dict) -> str:
    return FILE_PREFIX + record["id"][len(RUN_PREFIX) :]


def missing(what: str, ident: str, param: str) -> ApiError:
    return ApiError(404, "resource_missing", "No such object", f"No such {what}: '{ident}'", param=param)
