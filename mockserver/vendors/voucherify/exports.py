"""Voucherify's export operations beyond the generic engine's: the creates (generic, orders, voucher
transactions: the parameters echoed with the server's defaults, rows scoped to a campaign). The
engine (the vendor's `engine`) reads, lists, deletes and downloads exports and renders the Export
object from its response schema, as the overlay says."""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from ...control.prefer import NOTHING, PREFER, creates_export
from ...exports import Query
from ...findings import filter_findings
from ...lifecycle import PHASES
from ...respond import json_response
from ...spec import Spec
from ..base import Call, Handler
from ..openapi.behaviour import Exports as Engine

CSV_TYPE = "text/plain"  # the official SDK refuses text/csv
VENDOR = "voucherify"
DEFAULT_ORDER = "-created_at"  # the order an export without one is written in (echoed, as the vendor does)
DEFAULT_JUNCTION = "and"  # how filters combine unless told (data.filters)


class Exports:
    def __init__(self, spec: Spec, engine: Engine) -> None:
        self.engine = engine
        statuses = spec.schema("ExportStatus")["enum"]
        words = [engine.api.statuses[phase] for phase in PHASES]
        if words != statuses:  # listing by status follows the lifecycle's order
            raise ValueError(f"the overlay's statuses {words} are not the schema's {statuses} in lifecycle order")

    def handlers(self) -> dict[str, Handler]:
        return {
            "create-export": self.create_export,
            "create-order-export": self.create_order_export,
        }

    @creates_export
    async def create_export(self, call: Call) -> web.Response:
        body = call.inputs.body or {}  # no body: exported_object is missing, and validation said so
        parameters = body.get("parameters") or {}
        campaign = parameters.get("campaign_id")  # voucher exports only; the schema refuses it elsewhere
        return await self.schedule(
            call, body["exported_object"], parameters, scope={"campaign_id": campaign} if campaign else None
        )

    @creates_export
    async def create_order_export(self, call: Call) -> web.Response:
        return await self.schedule(call, "order", (call.inputs.body or {}).get("parameters") or {})

    async def schedule(
        self,
        call: Call,
        exported_object: str,
        parameters: dict,
        *,
        echoed_filters: dict | None = None,
        scope: dict | None = None,
    ) -> web.Response:
        """Create the export record and answer with it (status SCHEDULED).

        `parameters` echoes what the export runs with (defaults filled in,
        filters as the real API shows them); `scope` pins rows to the voucher,
        campaign or member named in the path.
        """
        parameters = {name: value for name, value in parameters.items() if value is not None}  # null: not given
        model = call.services.exports.models[VENDOR].object(exported_object)
        call.warn(filter_findings(model, parameters.get("filters"), ".parameters.filters"))
        # no fields: the object's documented defaults (the schema's `fields.default`, read by the data model)
        # `fields: []` too (the vendor's schema allows it): the defaults; repeated fields are written as asked
        fields = list(parameters.get("fields") or model.default_fields)
        query = Query(
            fields=tuple(fields), order=parameters.get("order") or None, filters=parameters.get("filters"), scope=scope
        )
        # the server's defaults, echoed as the vendor's examples show them: order `-created_at` (newest first:
        # what the mock writes without one) where the object has it, junction `and`; a sent `order: ""`
        # (the vendor's own echo of "none") comes back as sent, so a real export's parameters can be re-sent
        echo: dict[str, Any] = {}
        order = parameters.get("order")
        if order is not None or DEFAULT_ORDER in model.orders:
            echo["order"] = order if order is not None else DEFAULT_ORDER
        echo["fields"] = fields
        if parameters.get("campaign_id"):
            echo["campaign_id"] = parameters["campaign_id"]
        filters = echoed_filters if echoed_filters is not None else parameters.get("filters")
        echo["filters"] = {"junction": DEFAULT_JUNCTION, **(filters or {})}
        prefer = call.request.get(PREFER, NOTHING)  # per-export knobs from the Prefer header
        record = await call.services.exports.create(
            call.store,
            exported_object,
            parameters=echo,
            query=query,
            rows=prefer.rows,
            mode=prefer.lifecycle,
            outcome=prefer.outcome or "done",
        )
        return json_response(self.engine.rendered(call.operation, record, call.request))


def voucher_id(code: str) -> str:
    """The voucher id a code stands for: ids pass through, codes map to a stable `v_` id."""
    if code.startswith("v_"):
        return code
    return "v_" + hashlib.sha256(code.encode()).hexdigest()[:32]
