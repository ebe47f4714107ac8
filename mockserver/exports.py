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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import data
from .clock import Clock
from .errors import ApiError, not_found
from .ids import Ids, token
from .lifecycle import Lifecycle
from .store import Store

KIND = "exports"


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
        self.store.put(app, KIND, record["id"], record)
        return record

    def get(self, app: str, export_id: str, *, polled: bool = True) -> dict:
        record = self.store.get(app, KIND, export_id)
        if record is None:
            raise not_found("export", export_id)
        return self._advance(record, polled=polled)

    def list(self, app: str, vendor: str) -> list[dict]:
        return [self._advance(r, polled=False) for r in self.store.list(app, KIND) if r["vendor"] == vendor]

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
            ),
            seed=self.seed,
            app_id=record["app_id"],
            locale=self.locale,
            now=record["created_at"],  # relative date filters read as of the export's creation
        )

    def _advance(self, record: dict, *, polled: bool) -> dict:
        if self.lifecycle.advance(record, self.clock.now(), polled=polled):
            self.store.put(record["app_id"], KIND, record["id"], record)
        return record
