"""Voucherify's async actions: what a bulk call (an order import) returns to
poll. An action moves like an export (the same Lifecycle and mode: time, poll
or instant) and shows its result once DONE."""

from __future__ import annotations

from aiohttp import web

from ...clock import iso
from ...errors import not_found
from ...respond import json_response
from ...spec import Spec
from ..base import Call, Handler

KIND = "async_actions"
# lifecycle phase → async action status and progress (statuses checked against the schema's enum)
STATUS = {"scheduled": "ENQUEUED", "running": "IN_PROGRESS", "done": "DONE", "failed": "FAILED"}
PROGRESS = {"scheduled": 0, "running": 50, "done": 100, "failed": 100}
OPERATION_STATUS = {"done": "SUCCESS", "failed": "FAILED"}


class AsyncActions:
    def __init__(self, spec: Spec) -> None:
        statuses = spec.schema("AsyncAction")["properties"]["status"]["enum"]
        if set(STATUS.values()) != set(statuses):
            raise ValueError(f"async action statuses {sorted(STATUS.values())} differ from the schema's {statuses}")

    def handlers(self) -> dict[str, Handler]:
        return {"get-async-action": self.get_async_action}

    async def start(self, call: Call, action_type: str, result: dict) -> dict:
        """Record an action whose work is already done; polling reveals `result`."""
        now = call.services.clock.now()
        record = {
            "id": call.services.exports.ids.new("aa_", 18),
            "type": action_type,
            "request_id": call.request_id,
            "result": result,
            "phase": "scheduled",
            "phase_at": now,
            "created_at": now,
        }
        await call.store.put(KIND, record["id"], record)
        return record

    async def get_async_action(self, call: Call) -> web.Response:
        action_id = call.inputs.path["asyncActionId"]
        record = await call.store.get(KIND, action_id)
        if record is None:
            raise not_found("async action", action_id)
        if call.services.exports.lifecycle.advance(record, call.services.clock.now(), polled=True):
            await call.store.replace(KIND, action_id, record)
        return json_response(render(record))


def render(record: dict) -> dict:
    """An action record as Voucherify's Async Action object."""
    phase = record["phase"]
    finished = phase in OPERATION_STATUS
    return {
        "id": record["id"],
        "object": "async_action",
        "type": record["type"],
        "status": STATUS[phase],
        "operation_status": OPERATION_STATUS.get(phase, "UNKNOWN"),
        "created_at": iso(record["created_at"]),
        "updated_at": iso(record["phase_at"]) if phase != "scheduled" else None,
        "request_id": record["request_id"],
        "processing_time": round((record["phase_at"] - record["created_at"]) * 1000) if finished else 0,
        "progress": PROGRESS[phase],
        "result": record["result"] if finished else None,
    }
