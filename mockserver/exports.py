"""The vendor-neutral export service: create, observe, list, delete, download.

Vendors decide what a request means and how a record looks on the wire; this
module owns the record (`ExportRecord`), its lifecycle and access to it. The
stores keep records as JSON-like dicts: `ExportRecord.stored()` and
`ExportRecord.of()` are the one conversion, made here as the service reads and
writes the store, which adds what the store's indexes order by (phase_rank:
the phase's place in lifecycle.PHASES; due_at: when the clock moves it on
next, None when only a poll will).
"""

from __future__ import annotations

import asyncio
import hmac
import math
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import data
from .clock import Clock
from .errors import ApiError, not_found
from .ids import Ids, token
from .lifecycle import PHASES, Lifecycle, can_move
from .store import INDEXES, Store, TenantStore, VendorStore

KIND = "exports"
RENDERED = 1024  # rendered answers kept (ExportService.rendered): a few hundred KiB at most
CATCH_UP = 250  # exports saved between turns of the event loop when many fall due at once
# (the tenant's store, exported object) → the tenant's stored rows of that object, or None for synthetic data
RecordSource = Callable[[TenantStore, str], "Awaitable[Sequence[Mapping] | None]"]


@dataclass(slots=True)
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
        extra = dict(stored)  # what is left once the engine's keys are taken out (popped: half a loop's time)
        fields = extra.pop("fields")
        return cls(tuple(fields), extra.pop("order", None), extra.pop("filters", None), extra.pop("scope", None), extra)


@dataclass(slots=True, kw_only=True)
class ExportRecord:
    """An export: who owns it (`vendor`, `app_id`), what it exports (`query`), where it is in its
    lifecycle and the token its download URL carries. `extra`: what a vendor keeps beside it (a
    canceled flag), stored as keys of the record's own, as they always were."""

    id: str
    app_id: str
    vendor: str
    exported_object: str
    parameters: dict[str, Any]  # as echoed to clients
    query: Query
    rows: int
    mode: str | None  # the lifecycle mode it moves by (None: the server's)
    outcome: str  # the phase it finishes in: done or failed
    phase: str
    phase_at: float
    created_at: float
    token: str
    extra: dict[str, Any] = field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        """The record as the store keeps it: JSON-like, every key at the top (its extra ones too)."""
        return {
            **self.extra,
            "id": self.id,
            "app_id": self.app_id,
            "vendor": self.vendor,
            "exported_object": self.exported_object,
            "parameters": self.parameters,
            "query": self.query.stored(),
            "rows": self.rows,
            "mode": self.mode,
            "outcome": self.outcome,
            "phase": self.phase,
            "phase_at": self.phase_at,
            "created_at": self.created_at,
            "token": self.token,
        }

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> ExportRecord:
        """A record the store kept (by this or an earlier version: a persistent store outlives both);
        keys it does not name are the vendor's (`extra`), the index keys are dropped (derived)."""
        others = stored.keys() - _STORED  # usually none: a set difference, not a loop over every key
        return cls(
            id=stored["id"],
            app_id=stored["app_id"],
            vendor=stored["vendor"],
            exported_object=stored["exported_object"],
            parameters=stored["parameters"],
            query=Query.of(stored["query"]),
            rows=stored["rows"],
            mode=stored.get("mode"),
            outcome=stored.get("outcome") or "done",
            phase=stored["phase"],
            phase_at=stored["phase_at"],
            created_at=stored["created_at"],
            token=stored["token"],
            extra={key: value for key, value in stored.items() if key in others} if others else {},
        )


# the stored keys the record's fields and the store's indexes (derived on every write) account for; any
# other is a vendor's
_STORED = frozenset(ExportRecord.__dataclass_fields__).difference(["extra"]).union(*INDEXES[KIND].values())


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
        record = ExportRecord(
            id=new_id(),
            app_id=tenant.app,
            vendor=tenant.tenant.vendor,
            exported_object=exported_object,
            parameters=parameters,
            query=query,
            rows=self.rows if rows is None else rows,
            mode=mode,
            outcome=outcome,
            phase="scheduled",
            phase_at=now,
            created_at=now,
            token=token(),
        )
        kept = self._kept(record)
        # `add` stores only an id nobody has: a persistent store outlives the id sequence, and other
        # processes may share the store; `keep`: memory stays bounded, the oldest export goes first
        while not await tenant.add(KIND, record.id, kept, keep=self.max_exports):
            record.id = kept["id"] = new_id()
        return record

    async def get(self, tenant: TenantStore, export_id: str, *, polled: bool = True) -> ExportRecord:
        stored = await tenant.get(KIND, export_id)
        if stored is None:
            raise not_found("export", export_id)
        return await self._advance(tenant, ExportRecord.of(stored), polled=polled)

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

    async def find(self, export_id: str) -> tuple[TenantStore, ExportRecord]:
        """Any vendor's and app's export, moved on by its lifecycle, and whose it is (for the admin API)."""
        for vendor in self.models:
            owners = VendorStore(self.store, vendor)
            app = await owners.owner(KIND, export_id)
            if app is not None:
                tenant = owners.tenant(app)
                stored = await tenant.get(KIND, export_id)
                if stored is not None:
                    return tenant, await self._advance(tenant, ExportRecord.of(stored), polled=False)
        raise not_found("export", export_id)

    async def force(
        self, tenant: TenantStore, export_id: str, phase: str, extra: Mapping[str, Any] | None = None
    ) -> ExportRecord:
        """Move an export to `phase` now (the admin API, a cancel); 409 unless it is a step forward.
        `extra`: the vendor's own keys written with the move (a canceled flag)."""
        record = await self.get(tenant, export_id, polled=False)
        if not can_move(record.phase, phase):
            raise ApiError(
                409,
                "illegal_transition",
                "Illegal transition",
                f"Export {export_id} is {record.phase}; it cannot move to {phase} (never backwards)",
            )
        record.phase = phase
        record.phase_at = self.clock.now()
        record.extra.update(extra or {})
        if not await tenant.replace(KIND, export_id, self._kept(record)):
            raise not_found("export", export_id)  # deleted meanwhile (through another process)
        return record

    async def everywhere(self) -> list[ExportRecord]:
        """Every vendor's and app's exports, moved on by their lifecycle, newest first (the dashboard)."""
        found = []
        for vendor in self.models:
            owners = VendorStore(self.store, vendor)
            for app in await owners.apps(KIND):
                found.extend(await self.list(owners.tenant(app)))
        return sorted(found, key=lambda record: (-record.created_at, record.id))

    async def list(self, tenant: TenantStore) -> list[ExportRecord]:
        return [await self._advance(tenant, ExportRecord.of(r), polled=False) for r in await tenant.list(KIND)]

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
        records = [await self._advance(tenant, ExportRecord.of(stored), polled=False) for stored in page]
        return records, await tenant.count(KIND)

    async def in_process(self, tenant: TenantStore) -> list[ExportRecord]:
        """The tenant's exports the clock has yet to finish (`time` lifecycle)."""
        await self._catch_up(tenant)
        return [ExportRecord.of(stored) for stored in await tenant.upto(KIND, "due", math.inf)]

    async def _catch_up(self, tenant: TenantStore) -> None:
        """Move on (and save, CATCH_UP at a time) the exports whose time has come since they were written.
        Between batches other requests run: 10,000 exports falling due at once took 631 ms in one go."""
        now, moved = self.clock.now(), {}
        for stored in await tenant.upto(KIND, "due", now):
            record = ExportRecord.of(stored)
            if self.lifecycle.advance(record, now, polled=False):
                moved[record.id] = self._kept(record)
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
        self, owners: VendorStore, export_id: str, presented: str, app: str | None = None
    ) -> ExportRecord:
        """The vendor's finished export a token opens; 401 for anything else.

        A wrong token, a token of another export, app or vendor, or an export
        that is not finished yet all look the same to the caller.
        """
        owner = await owners.owner(KIND, export_id)
        tenant = owners.tenant(owner) if owner is not None else None
        stored = await tenant.get(KIND, export_id) if tenant is not None else None
        record = await self._advance(tenant, ExportRecord.of(stored), polled=False) if stored is not None else None
        if (
            record is None
            or not hmac.compare_digest(record.token.encode(), presented.encode())
            or (app is not None and app != owner)
        ):
            raise ApiError(401, "unauthorized", "Unauthorized", "The download token is missing, wrong or expired")
        if record.phase != "done":
            raise ApiError(401, "unauthorized", "Unauthorized", "The export is not finished yet")
        return record

    async def csv(self, owners: VendorStore, record: ExportRecord) -> Callable[[], Iterator[bytes]]:
        """What makes the export's CSV, chunk by chunk: a synchronous function (it
        builds the data set, sorts and generates), to be called off the event loop
        (respond.stream does). What it needs from the store is read here, first."""
        return await self._made(data.iter_csv, owners, record)

    async def table(self, owners: VendorStore, record: ExportRecord) -> Callable[[], Iterator[tuple[str, ...]]]:
        """What makes the export's rows, the header's labels first (data.iter_rows): for a file written in
        another format than CSV, from the cells themselves rather than from the CSV read back. As `csv`."""
        return await self._made(partial(data.iter_rows, header=True), owners, record)

    async def _made(self, engine: Callable[..., Iterator], owners: VendorStore, record: ExportRecord) -> Callable:
        query = record.query
        records = await self._stored(owners.tenant(record.app_id), record)
        return partial(
            engine,
            self.models[record.vendor],
            data.ExportQuery(
                exported_object=record.exported_object,
                fields=query.fields,
                order=query.order,
                filters=query.filters,
                rows=record.rows,
                scope=query.scope,
                records=records,
            ),
            seed=self.seed,
            app_id=record.app_id,
            locale=self.locale,
            now=record.created_at,  # relative date filters read as of the export's creation
        )

    async def _stored(self, tenant: TenantStore, record: ExportRecord) -> Sequence[Mapping] | None:
        """What the mock stores of the exported object: an app with stored orders
        exports exactly those; one with none gets the synthetic data set."""
        source = self.sources.get(record.vendor)
        return await source(tenant, record.exported_object) if source else None

    async def _advance(self, tenant: TenantStore, record: ExportRecord, *, polled: bool) -> ExportRecord:
        if self.lifecycle.advance(record, self.clock.now(), polled=polled):
            # `replace`: an export deleted meanwhile (through another process) is not brought back
            await tenant.replace(KIND, record.id, self._kept(record))
        return record

    def _kept(self, record: ExportRecord) -> dict[str, Any]:
        """The record as the store keeps it, with what the store's export indexes order by
        (store.INDEXES): derived, on every write."""
        stored = record.stored()
        stored["phase_rank"] = PHASES.index(record.phase)
        stored["due_at"] = self.lifecycle.due_at(record)
        return stored


def _same(kept: object, version: object) -> bool:
    """Whether two Store.version tokens are one revision: the same object, or equal stored texts (SQLite)."""
    return kept is version or (type(version) is str and kept == version)
