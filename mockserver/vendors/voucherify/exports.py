"""Voucherify's exports are the generic engine's (schemas/voucherify/overlay.yaml: the creates and
their echo, get, list, delete, the download and the Export object). What stays here: the check that
the overlay's status words are the schema's in lifecycle order (a list sorted by status follows the
phases), and the voucher id a code stands for (fixtures, transaction exports)."""

from __future__ import annotations

import hashlib

from ...lifecycle import PHASES
from ...spec import Spec
from ..openapi.annotations import Api


def check_statuses(spec: Spec, api: Api) -> None:
    statuses = spec.schema("ExportStatus")["enum"]
    words = [api.statuses[phase] for phase in PHASES]
    if words != statuses:  # listing by status follows the lifecycle's order
        raise ValueError(f"the overlay's statuses {words} are not the schema's {statuses} in lifecycle order")


def voucher_id(code: str) -> str:
    """The voucher id a code stands for: ids pass through, codes map to a stable `v_` id."""
    if code.startswith("v_"):
        return code
    return "v_" + hashlib.sha256(code.encode()).hexdigest()[:32]
