"""The vendor-neutral export service: create, observe, list, delete, download.

Vendors decide what a request means and how a record looks on the wire; this
module owns the record, its lifecycle and access to it. A record is a plain
dict so every store backend can keep it:

    id, app_id, vendor, exported_object, parameters (as echoed to clients),
    query (fields/order/filters/scope the CSV is built from), rows, mode,
    outcome, phase, phase_at, created_at, token, and what the store's indexes
    order by: phase_rank (the phase's place in lifecycle.PHASES) and due_at
    (when the clock moves it on next, None when only a poll will)
"""

from __future__ import annotations

import asyncio
import hmac
import math
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypedDict

from . import data
from .clock import Clock
from .errors import ApiError, not_found
from .ids import Ids, token
from .lifecycle import PHASES, Lifecycle, can_move
from .store import Store, TenantStore, VendorStore

KIND = "exports"
RENDERED = 1024  # rendered answers kept (ExportService.rendered): a few hundred KiB at most
CATCH_UP = 250  # exports saved between turns of the event loop when many fall due at once
# (the tenant's store, exported object) → the tenant's stored rows of that object, or None for synthetic data
RecordSource = Callable[[TenantStore, str], "Awaitable[Sequence[Mapping] | None]"]


class _Indexed(TypedDict, total=False):
    phase_rank: int  # the phase's place in lifecycle.PHASES, kept for the store's indexes
    due_at: float | None  # when the lifecycle moves it next (None: it waits for a poll, or is final)


class ExportRecord(_Indexed):
    """An export as the store keeps it (JSON in a persistent store), with the keys every one has: who
    owns it, what it exports (`query`: Query.stored()), where it is in its lifecycle and the token its
    download URL carries. A vendor may keep keys of its own beside them (a canceled flag)."""

    id: str
    app_id: str
    vendor: str
    exported_object: str
    parameters: dict[str, Any]
    query: dict[str, Any]
    rows: int
    mode: str | None
    outcome: str
    phase: str
    phase_at: float
    created_at: float
    token: str


@dataclass(frozen=True)
class Query:
    """What an export's file holds, as the engine reads it when it makes the file: the columns, their
    order (`-created_at`), the filters (the engine's language) and the attributes every row carries;
    `extra` is what the vendor keeps beside it for its own answers (its request's words, the file's
    format). The record stores it as a mapping (`stored()`), so a persistent store's exports stay
    readable; `Query.of` reads one back."""

    fields: tuple[str, ...]
    order: str | None = None
    filters: Mapping[str, Any] | None = None
    scope: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        engine = {"fields": list(self.fields), "order": self.order, "filters": self.filters, "scope": self.scope}
        return {**self.extra, **engine}

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> Query:
        engine = ("fields", "order", "filters", "scope")
        return cls(
            fields=tuple(stored["fields"]),
            order=stored.get("order"),
            filters=stored.get("filters"),
            scope=stored.get("scope"),
            extra={key: value for key, value in stored.items() if key not in engine},
        )


@dataclass
class ExportService:
    """Every method acts within the tenant (vendor, app) the caller hands it:
    there is no way to name another vendor's export."""

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
    # (tenant, export id, variant) → (the store's version of the record, its rendered answer, valid until)
    _rendered: dict[tuple, tuple[object, bytes, float]] = field(default_factory=dict, init=False, repr=False)

    async def create(
        self,
        tenant: TenantStore,
        exported_object: str,
        *,
        parameters: dict,
        query: Query,
        id_prefix: str = "exp_",
        rows: int | None = None,
        mode: str | None = None,
        outcome: str = "done",
        id_length: int = 24,
        id_alphabet: str | None = None,
    ) -> ExportRecord:
        """`id_length`/`id_alphabet`: the vendor's id style after the prefix (default 24 letters and digits)."""
        if tenant.tenant.vendor in self.models:  # its file is made moments later: load the engine meanwhile
            data.warm(self.models[tenant.tenant.vendor])
        now = self.clock.now()
        new_id = partial(self.ids.new, id_prefix, id_length, id_alphabet)
        record: ExportRecord = {
            "id": new_id(),
            "app_id": tenant.app,
            "vendor": tenant.tenant.vendor,
            "exported_object": exported_object,
            "parameters": parameters,
            "query": query.stored(),
            "rows": self.rows if rows is None else rows,
            "mode": mode,
            "outcome": outcome,
            "phase": "scheduled",
            "phase_at": now,
            "created_at": now,
            "token": token(),
        }
        self._indexed(record)
        # `add` stores only an id nobody has: a persistent store outlives the id sequence, and other
        # processes may share the store; `keep`: memory stays bounded, the oldest export goes first
        while not await tenant.add(KIND, record["id"], record, keep=self.max_exports):
            record["id"] = new_id()
        return record

    async def get(self, tenant: TenantStore, export_id: str, *, polled: bool = True) -> ExportRecord:
        record = await tenant.get(KIND, export_id)
        if record is None:
            raise not_found("export", export_id)
        return await self._advance(tenant, record, polled=polled)

    async def rendered(
        self, tenant: TenantStore, export_id: str, render: Callable[[ExportRecord], bytes], variant: Hashable = None
    ) -> bytes:
        """`render(await self.get(tenant, export_id))`, kept per revision of the stored record: polling an
        export nobody changed (a client waiting for its file, then reading it again) neither copies the
        record out of the store nor renders it. What is kept stands while the store's version of the record
        (Store.version: a write or a delete changes it) is the one rendered and the clock has not reached the
        record's next phase (Lifecycle.still_until); `variant`: what else the answer depends on (the
        origin its URLs start with). A store that keeps no versions (Redis) renders every time."""
        key = (tenant.tenant, export_id, variant)
        version = self.store.version(tenant.tenant, KIND, export_id)
        if version is not None:
            kept = self._rendered.get(key)
            if kept is not None and _same(kept[0], version) and self.clock.now() < kept[2]:
                return kept[1]
        record = await self.get(tenant, export_id)
        answer = render(record)
        until = self.lifecycle.still_until(record)
        # kept only if nothing wrote the record meanwhile, this poll included (it moved the record on)
        if (
            version is not None
            and until is not None
            and _same(self.store.version(tenant.tenant, KIND, export_id), version)
        ):
            if len(self._rendered) >= RENDERED:
                del self._rendered[next(iter(self._rendered))]  # the oldest kept
            self._rendered[key] = (version, answer, until)
        return answer

    async def find(self, export_id: str) -> tuple[TenantStore, dict]:
        """Any vendor's and app's export, moved on by its lifecycle, and whose it is (for the admin API)."""
        for vendor in self.models:
            owners = VendorStore(self.store, vendor)
            app = await owners.owner(KIND, export_id)
            if app is not None:
                tenant = owners.tenant(app)
                record = await tenant.get(KIND, export_id)
                if record is not None:
                    return tenant, await self._advance(tenant, record, polled=False)
        raise not_found("export", export_id)

    async def force(self, tenant: TenantStore, export_id: str, phase: str) -> ExportRecord:
        """Move an export to `phase` now (the admin API); 409 unless it is a step forward."""
        record = await self.get(tenant, export_id, polled=False)
        if not can_move(record["phase"], phase):
            raise ApiError(
                409,
                "illegal_transition",
                "Illegal transition",
                f"Export {export_id} is {record['phase']}; it cannot move to {phase} (never backwards)",
            )
        record["phase"] = phase
        record["phase_at"] = self.clock.now()
        if not await tenant.replace(KIND, export_id, self._indexed(record)):
            raise not_found("export", export_id)  # deleted meanwhile (through another process)
        return record

    async def everywhere(self) -> list[ExportRecord]:
        """Every vendor's and app's exports, moved on by their lifecycle, newest first (the dashboard)."""
        found = []
        for vendor in self.models:
            owners = VendorStore(self.store, vendor)
            for app in await owners.apps(KIND):
                found.extend(await self.list(owners.tenant(app)))
        return sorted(found, key=lambda record: (-record["created_at"], record["id"]))

    async def list(self, tenant: TenantStore) -> list[ExportRecord]:
        return [await self._advance(tenant, r, polled=False) for r in await tenant.list(KIND)]

    async def listing(
        self, tenant: TenantStore, *, order: str, reverse: bool, start: int, stop: int
    ) -> tuple[list[ExportRecord], int]:
        """A page of the tenant's exports in the order of store index `order`
        ("created": created_at; "status": lifecycle phase, then created_at),
        reversed when asked, [start:stop]; and how many there are in all.

        Costs the same with 10 or 10,000 stored: exports the clock has moved
        on since they were last written are caught up first (found through
        the "due" index: only those), then one page is read from the index."""
        await self._catch_up(tenant)
        page = await tenant.page(KIND, order, reverse=reverse, offset=start, limit=max(0, stop - start))
        return [await self._advance(tenant, record, polled=False) for record in page], await tenant.count(KIND)

    async def in_process(self, tenant: TenantStore) -> list[ExportRecord]:
        """The tenant's exports the clock has yet to finish (`time` lifecycle)."""
        await self._catch_up(tenant)
        return await tenant.upto(KIND, "due", math.inf)

    async def _catch_up(self, tenant: TenantStore) -> None:
        """Move on (and save, CATCH_UP at a time) the exports whose time has come since they were written.
        Between batches other requests run: 10,000 exports falling due at once took 631 ms in one go."""
        now, moved = self.clock.now(), {}
        for record in await tenant.upto(KIND, "due", now):
            if self.lifecycle.advance(record, now, polled=False):
                moved[record["id"]] = self._indexed(record)
                if len(moved) >= CATCH_UP:
                    await tenant.replace_many(KIND, moved)
                    moved = {}
                    await asyncio.sleep(0)  # the event loop's turn: a store in memory never waits by itself
        if moved:
            await tenant.replace_many(KIND, moved)

    async def delete(self, tenant: TenantStore, export_id: str) -> None:
        if not await tenant.delete(KIND, export_id):
            raise not_found("export", export_id)

    async def for_download(
        self, vendor: VendorStore, export_id: str, presented: str, app: str | None = None
    ) -> ExportRecord:
        """The vendor's finished export a token opens; 401 for anything else.

        A wrong token, a token of another export, app or vendor, or an export
        that is not finished yet all look the same to the caller.
        """
        owner = await vendor.owner(KIND, export_id)
        tenant = vendor.tenant(owner) if owner is not None else None
        record = await tenant.get(KIND, export_id) if tenant is not None else None
        if record is not None:
            record = await self._advance(tenant, record, polled=False)
        if (
            record is None
            or not hmac.compare_digest(record["token"].encode(), presented.encode())
            or (app is not None and app != owner)
        ):
            raise ApiError(401, "unauthorized", "Unauthorized", "The download token is missing, wrong or expired")
        if record["phase"] != "done":
            raise ApiError(401, "unauthorized", "Unauthorized", "The export is not finished yet")
        return record

    async def csv(self, vendor: VendorStore, record: ExportRecord) -> Callable[[], Iterator[bytes]]:
        """What makes the export's CSV, chunk by chunk: a synchronous function (it
        builds the data set, sorts and generates), to be called off the event loop
        (respond.stream does). What it needs from the store is read here, first."""
        query = Query.of(record["query"])
        records = await self._stored(vendor.tenant(record["app_id"]), record)
        return partial(
            data.iter_csv,
            self.models[record["vendor"]],
            data.ExportQuery(
                exported_object=record["exported_object"],
                fields=query.fields,
                order=query.order,
                filters=query.filters,
                rows=record["rows"],
                scope=query.scope,
                records=records,
            ),
            seed=self.seed,
            app_id=record["app_id"],
            locale=self.locale,
            now=record["created_at"],  # relative date filters read as of the export's creation
        )

    async def _stored(self, tenant: TenantStore, record: ExportRecord) -> Sequence[Mapping] | None:
        """What the mock stores of the exported object: an app with stored orders
        exports exactly those; one with none gets the synthetic data set."""
        source = self.sources.get(record["vendor"])
        return await source(tenant, record["exported_object"]) if source else None

    async def _advance(self, tenant: TenantStore, record: ExportRecord, *, polled: bool) -> ExportRecord:
        if self.lifecycle.advance(record, self.clock.now(), polled=polled):
            # `replace`: an export deleted meanwhile (through another process) is not brought back
            await tenant.replace(KIND, record["id"], self._indexed(record))
        return record

    def _indexed(self, record: ExportRecord) -> ExportRecord:
        """Set what the store's export indexes order by (store.INDEXES): derived, on every write."""
        record["phase_rank"] = PHASES.index(record["phase"])
        record["due_at"] = self.lifecycle.due_at(record)
        return record


def _same(kept: object, version: object) -> bool:
    """Whether two Store.version tokens are one revision: the same object, or equal stored texts (SQLite)."""
    return kept is version or (type(version) is str and kept == version)
