"""Voucherify's async actions: what a bulk call (an order import) returns to
poll. An action moves like an export (the same Lifecycle and mode: time, poll
or instant) and shows its result once DONE."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

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


@dataclass(slots=True, kw_only=True)
class AsyncAction:
    """An action as it moves (lifecycle.Moving); the store keeps `stored()`, read back by `of`."""

    id: str
    type: str
    request_id: str
    result: dict[str, Any]
    phase: str
    phase_at: float
    created_at: float
    mode: str | None = None  # the server's lifecycle mode
    outcome: str = "done"

    def stored(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> AsyncAction:
        """An action as stored, by this version or an earlier one (which kept no mode or outcome)."""
        return cls(**stored)


class AsyncActions:
    def __init__(self, spec: Spec) -> None:
        statuses = spec.schema("AsyncAction")["properties"]["status"]["enum"]
        if set(STATUS.values()) != set(statuses):
            raise ValueError(f"async action statuses {sorted(STATUS.values())} differ from the schema's {statuses}")

    def handlers(self) -> dict[str, Handler]:
        return {"get-async-action": self.get_async_action}

    async def start(self, call: Call, action_type: str, result: dict) -> AsyncAction:
        """Record an action whose work is already done; polling reveals `result`."""
        now = call.services.clock.now()
        action = AsyncAction(
            id=call.services.exports.ids.new("aa_", 18),
            type=action_type,
            request_id=call.request_id,
            result=result,
            phase="scheduled",
            phase_at=now,
            created_at=now,
        )
        await call.store.put(KIND, action.id, action.stored())
        return action

    async def get_async_action(self, call: Call) -> web.Response:
        action_id = call.inputs.path["asyncActionId"]
        stored = await call.store.get(KIND, action_id)
        if stored is None:
            raise not_found("async action", action_id)
        action = AsyncAction.of(stored)
        if call.services.exports.lifecycle.advance(action, call.services.clock.now(), polled=True):
            await call.store.replace(KIND, action_id, action.stored())
        return json_response(render(action))


def render(action: AsyncAction) -> dict:
    """An action as Voucherify's Async Action object."""
    phase = action.phase
    finished = phase in OPERATION_STATUS
    return {
        "id": action.id,
        "object": "async_action",
        "type": action.type,
        "status": STATUS[phase],
        "operation_status": OPERATION_STATUS.get(phase, "UNKNOWN"),
        "created_at": iso(action.created_at),
        "updated_at": iso(action.phase_at) if phase != "scheduled" else None,
        "request_id": action.request_id,
        "processing_time": round((action.phase_at - action.created_at) * 1000) if finished else 0,
        "progress": PROGRESS[phase],
        "result": action.result if finished else None,
    }
