"""The vendor-neutral export service: create, observe, list, delete, download.

Vendors decide what a request means and how a record looks on the wire; this
module owns the record, its lifecycle and access to it. A record is a plain
dict so every store backend can keep it:

    id, app_id, vendor, exported_object, parameters (as echoed to clients),
    query (fields/order/filters/scope the CSV is built from), rows, mode,
    outcome, phase, phase_at, created_at, token
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import data
from .clock import Clock
from .errors import ApiError, not_found
from .ids import Ids, token
from .lifecycle import Lifecycle, can_move
from .store import Store

KIND = "exports"
# (store, app id, exported object) → the app's stored rows of that object, or None for synthetic data
RecordSource = Callable[[Store, str, str], "Sequence[Mapping] | None"]


@dataclass
class ExportService:
    store: Store
    clock: Clock
    lifecycle: Lifecycle
    ids: Ids
    models: dict[str, Any]  # vendor name → data.DataModel of its exported objects
    seed: int
    rows: int
    locale: str
    sources: dict[str, RecordSource] = field(default_factory=dict)  # vendor name → its stored records
    max_exports: int | None = None  # per app: creating one more deletes the app's oldest export (None: no cap)

    def create(self, app: str, vendor: str, exported_object: str, *, parameters: dict, query: dict,
               id_prefix: str = "exp_", rows: int | None = None, mode: str | None = None,
               outcome: str = "done") -> dict:
        now = self.clock.now()
        record = {
            "id": self.ids.new(id_prefix),
            "app_id": app,
            "vendor": vendor,
            "exported_object": exported_object,
            "parameters": parameters,
            "query": query,
            "rows": self.rows if rows is None else rows,
            "mode": mode,
            "outcome": outcome,
            "phase": "scheduled",
            "phase_at": now,
            "created_at": now,
            "token": token(),
        }
        # `add` stores only an id nobody has: a persistent store outlives the id sequence, and other
        # processes may share the store
        while not self.store.add(app, KIND, record["id"], record):
            record["id"] = self.ids.new(id_prefix)
        if self.max_exports is not None and self.store.count(app, KIND) > self.max_exports:
            self.store.trim(app, KIND, self.max_exports)  # memory stays bounded: the oldest export goes first
        return record

    def get(self, app: str, export_id: str, *, polled: bool = True) -> dict:
        record = self.store.get(app, KIND, export_id)
        if record is None:
            raise not_found("export", export_id)
        return self._advance(record, polled=polled)

    def find(self, export_id: str) -> dict:
        """Any app's export, moved on by its lifecycle (for the admin API)."""
        owner = self.store.owner(KIND, export_id)
        record = self.store.get(owner, KIND, export_id) if owner else None
        if record is None:
            raise not_found("export", export_id)
        return self._advance(record, polled=False)

    def force(self, export_id: str, phase: str) -> dict:
        """Move an export to `phase` now (the admin API); 409 unless it is a step forward."""
        record = self.find(export_id)
        if not can_move(record["phase"], phase):
            raise ApiError(409, "illegal_transition", "Illegal transition",
                           f"Export {export_id} is {record['phase']}; it cannot move to {phase} (never backwards)")
        record["phase"] = phase
        record["phase_at"] = self.clock.now()
        if not self.store.replace(record["app_id"], KIND, export_id, record):
            raise not_found("export", export_id)  # deleted meanwhile (through another process)
        return record

    def list(self, app: str, vendor: str) -> list[dict]:
        return [self._advance(r, polled=False) for r in self.store.list(app, KIND) if r["vendor"] == vendor]

    # what listing reads of each export: enough to move it on, pick and sort it (all scalars)
    SUMMARY = frozenset({"id", "app_id", "vendor", "phase", "phase_at", "created_at", "mode", "outcome"})

    def listing(self, app: str, vendor: str, *, key: Callable[[dict], Any], reverse: bool, start: int,
                stop: int) -> tuple[list[dict], int]:
        """list() sorted by `key`, then reversed when asked, sliced [start:stop];
        and how many there are in all. Every export is moved on (and saved) as
        list() does; where the store can summarise records (MemoryStore), only
        the scalars of each are read, and the page's records whole: a page of
        a thousand exports costs a look at a thousand small read-only dicts
        (only one that moves on is copied), not a thousand copies."""
        summaries = getattr(self.store, "summaries", None)
        if summaries is None:
            rows = self.list(app, vendor)
        else:
            now, due = self.clock.now(), self.lifecycle.due
            rows = [self._advance_summary(app, dict(summary), now) if due(summary, now) else summary
                    for summary in summaries(app, KIND) if summary["vendor"] == vendor]
        rows.sort(key=key)
        if reverse:
            rows.reverse()
        page = rows[start:stop]
        if summaries is not None:
            page = [self._whole(app, row) for row in page]
        return page, len(rows)

    def _advance_summary(self, app: str, summary: dict, now: float) -> dict:
        """_advance for a summary: the record itself is read and saved only when its phase moves."""
        if not summary.keys() >= self.SUMMARY:  # a value that is not a scalar: the record whole
            return self._advance(self.store.get(app, KIND, summary["id"]), polled=False)
        if self.lifecycle.advance(summary, now, polled=False):
            record = self.store.get(summary["app_id"], KIND, summary["id"])
            if record is not None:
                record["phase"], record["phase_at"] = summary["phase"], summary["phase_at"]  # all advance changes
                self.store.replace(summary["app_id"], KIND, summary["id"], record)
        return summary

    def _whole(self, app: str, row: dict) -> dict:
        record = self.store.get(app, KIND, row["id"])
        if record is None:  # not within one call on one process's memory; a row of list() is whole anyway
            return row
        record["phase"], record["phase_at"] = row["phase"], row["phase_at"]  # as the listing saw it
        return record

    def delete(self, app: str, export_id: str) -> None:
        if not self.store.delete(app, KIND, export_id):
            raise not_found("export", export_id)

    def for_download(self, export_id: str, presented: str, app: str | None = None) -> dict:
        """The finished export a token opens; 401 for anything else.

        A wrong token, a token of another export or app, or an export that is
        not finished yet all look the same to the caller.
        """
        owner = self.store.owner(KIND, export_id)
        record = self.store.get(owner, KIND, export_id) if owner else None
        if record is not None:
            record = self._advance(record, polled=False)
        if (record is None or not hmac.compare_digest(record["token"].encode(), presented.encode())
                or (app is not None and app != owner)):
            raise ApiError(401, "unauthorized", "Unauthorized", "The download token is missing, wrong or expired")
        if record["phase"] != "done":
            raise ApiError(401, "unauthorized", "Unauthorized", "The export is not finished yet")
        return record

    def csv(self, record: dict) -> Iterator[bytes]:
        query = record["query"]
        return data.iter_csv(
            self.models[record["vendor"]],
            data.ExportQuery(
                exported_object=record["exported_object"],
                fields=tuple(query["fields"]),
                order=query.get("order"),
                filters=query.get("filters"),
                rows=record["rows"],
                scope=query.get("scope"),
                records=self._stored(record),
            ),
            seed=self.seed,
            app_id=record["app_id"],
            locale=self.locale,
            now=record["created_at"],  # relative date filters read as of the export's creation
        )

    def _stored(self, record: dict) -> Sequence[Mapping] | None:
        """What the mock stores of the exported object: an app with stored orders
        exports exactly those; one with none gets the synthetic data set."""
        source = self.sources.get(record["vendor"])
        return source(self.store, record["app_id"], record["exported_object"]) if source else None

    def _advance(self, record: dict, *, polled: bool) -> dict:
        if self.lifecycle.advance(record, self.clock.now(), polled=polled):
            # `replace`: an export deleted meanwhile (through another process) is not brought back
            self.store.replace(record["app_id"], KIND, record["id"], record)
        return record
