"""How an export moves: scheduled → running → done (or failed), never back.

Phases are vendor-neutral; each vendor names them (Voucherify: SCHEDULED,
IN_PROGRESS, DONE, ERROR). The mode decides what moves an export on:

- ``time``: the clock; each phase lasts its configured seconds.
- ``poll``: each GET of the export moves it one phase.
- ``instant``: the first GET finds it finished.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

PHASES = ("scheduled", "running", "done", "failed")
FINAL = ("done", "failed")
MODES = ("time", "poll", "instant")


class Moving(Protocol):
    """What moves through the phases: an export (exports.ExportRecord), a vendor's async action."""

    phase: str
    phase_at: float  # when it entered its phase
    mode: str | None  # the mode it moves by (None: the lifecycle's)
    outcome: str  # the phase it finishes in: done or failed


@dataclass(frozen=True)
class Lifecycle:
    mode: str = "time"
    scheduled_seconds: float = 1.0
    running_seconds: float = 2.0

    def due(self, record: Moving, now: float) -> bool:
        """Whether `advance(record, now, polled=False)` would move it: a look, no change."""
        at = self.due_at(record)
        return at is not None and now >= at

    def due_at(self, record: Moving) -> float | None:
        """When time alone moves the record on next; None when only a poll (or nothing) will."""
        phase = record.phase
        if phase in FINAL or (record.mode or self.mode) != "time":
            return None
        return record.phase_at + self._lasts(phase)

    def still_until(self, record: Moving) -> float | None:
        """Until when a GET (a poll) leaves the record as it is: for good once final, its next phase's
        time under `time`; None where each poll moves it (`poll`, `instant` before it finishes)."""
        if record.phase in FINAL:
            return math.inf
        return self.due_at(record)

    def finishes_at(self, record: Moving) -> float | None:
        """When time alone finishes the record (done or failed); None when only a poll (or nothing) will."""
        at = self.due_at(record)
        if at is None:
            return None
        return at + (self.running_seconds if record.phase == "scheduled" else 0.0)

    def _lasts(self, phase: str) -> float:
        """How long `time` mode keeps an export in an unfinished phase."""
        return self.scheduled_seconds if phase == "scheduled" else self.running_seconds

    def advance(self, record: Moving, now: float, *, polled: bool) -> bool:
        """Move `record` on as far as its mode allows; True when it changed."""
        mode = record.mode or self.mode
        outcome = record.outcome
        phase = record.phase
        if phase in FINAL:
            return False
        if mode == "instant":
            if not polled:
                return False
            return _enter(record, outcome, now)
        if mode == "poll":
            if not polled:
                return False
            return _enter(record, "running" if phase == "scheduled" else outcome, now)
        changed = False
        while phase not in FINAL:
            due = record.phase_at + self._lasts(phase)
            if now < due:
                break
            phase = "running" if phase == "scheduled" else outcome
            _enter(record, phase, due)
            changed = True
        return changed


def _enter(record: Moving, phase: str, at: float) -> bool:
    record.phase = phase
    record.phase_at = at
    return True


def can_move(current: str, target: str) -> bool:
    """Whether a forced transition is a step forward."""
    if current in FINAL:
        return False
    return PHASES.index(target) > PHASES.index(current)
