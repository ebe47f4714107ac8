"""Where the mock keeps what clients create, behind one small async interface.

Records are JSON-like dicts filed by tenant (vendor name, app id), kind and
key: kinds are "exports", "credentials", "orders", … Keys are unique per kind
within a vendor, so a download token can find its export's app, but never
another vendor's. Behaviour never holds the whole store: the pipeline hands it
a `TenantStore` (one vendor's app) or a `VendorStore` (one vendor's owner
lookups), views that cannot name another vendor, so a Chargebee key and a
Voucherify app id that happen to be equal share nothing, by construction.
Every backend (memory, SQLite, Redis) passes the same contract tests.

The interface is async: MemoryStore answers in-process, SqliteStore runs its
statements on a thread of its own, RedisStore uses redis.asyncio, so no
store call blocks the event loop.

Several processes may share one persistent store (`serve --workers N`, or
replicas on one Redis), so every write that depends on what is stored is one
atomic step of the backend: `put` refuses another app's key, `add` stores
only a key nobody has (new ids, first-use bindings), `replace` only a record
that still exists (so a lifecycle step never brings back a deleted export).
Counters (`counter`/`incr`) are kept apart from records and survive `reset`:
the mock clock's offset and the id streams of the processes live there.
`shared` says whether other processes may see the store.

Lists do not slow down with history: every backend keeps the records of a
kind ordered by each index of INDEXES (MemoryStore: sorted lists; SQLite:
expression indexes; Redis: sorted sets), so `page` reads one page and
`upto` only the records it returns; `count` reads no record.

Records are found by a field as well as by key: UNIQUE names the fields a
kind's records are also unique by within a tenant (an order's `source_id`),
and every backend keeps a map from each value to its record (a dict, a
unique SQLite expression index, a Redis hash), so `find` reads one record.
`transact` runs a read-modify-write of several records (an upsert by
`source_id`, an import of 2,000 orders) off the event loop as one atomic
step of the backend: MemoryStore runs it on a thread while other
transactions of the tenant wait, SQLite in one `BEGIN IMMEDIATE`
transaction, Redis optimistically (a script stores the writes only if
nothing the work read has changed meanwhile; otherwise the work runs again).
"""

from __future__ import annotations

import asyncio
import copy
import pickle
from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any, NamedTuple, Protocol, TypeVar

from sortedcontainers import SortedList

# kind → index name → the record fields it orders by (then by first storing); what `page` and `upto` serve
INDEXES: dict[str, dict[str, tuple[str, ...]]] = {
    "exports": {"created": ("created_at",), "status": ("phase_rank", "created_at"), "due": ("due_at",)},
}

# kind → the fields (text values) a tenant's records of the kind are unique by, besides their key; what `find` serves
UNIQUE: dict[str, tuple[str, ...]] = {"orders": ("source_id",), "customers": ("source_id",)}
THAW_ON_THREAD = 1000  # MemoryStore.list copies more records than this on a thread, not on the event loop
T = TypeVar("T")


def unique_value(record: Mapping[str, Any], field: str) -> str | None:
    """The value a record is found by through `field`: non-empty text only (None, absent, "" find nothing)."""
    value = record.get(field)
    return value if isinstance(value, str) and value else None


def unique_fields(kind: str, field: str) -> None:
    if field not in UNIQUE.get(kind, ()):
        raise KeyError(f"{kind} are not found by {field!r} (store.UNIQUE)")


class Transaction(Protocol):
    """What a `transact` work function sees of one tenant: reads see its own writes; nothing it
    writes is stored unless the work returns. Called on a thread: no awaiting, no other side effect
    (a Redis transaction may run the work again)."""

    def get(self, kind: str, key: str) -> dict | None: ...
    def find(self, kind: str, field: str, value: str) -> dict | None: ...
    def count(self, kind: str) -> int: ...
    def put(self, kind: str, key: str, record: dict) -> None: ...


def sort_key(record: Mapping[str, Any], fields: tuple[str, ...]) -> tuple:
    """Where a record goes in an index, as SQLite orders JSON values: nulls (and
    absent fields), then numbers, then strings."""
    return tuple(_rank(record.get(name)) for name in fields)


def _rank(value: Any) -> tuple:
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, str(value))


class Tenant(NamedTuple):
    """Whose records: a vendor's app (Voucherify app id, Chargebee API key/site)."""

    vendor: str
    app: str


class Store(Protocol):
    """A backend. Behaviour code goes through `TenantStore`/`VendorStore`, not this."""

    shared: bool  # whether other processes may see what is stored

    async def open(self) -> None: ...  # connect (an unreachable Redis is reported here)
    async def close(self) -> None: ...
    async def get(self, tenant: Tenant, kind: str, key: str) -> dict | None: ...
    # a token of the record's stored revision, the same object until it is written or deleted (a store other
    # processes write: its stored text, equal while the content is); None when it holds no such record or
    # keeps none (Redis): then read it
    def version(self, tenant: Tenant, kind: str, key: str) -> object | None: ...
    async def put(self, tenant: Tenant, kind: str, key: str, record: dict) -> None: ...
    async def add(self, tenant: Tenant, kind: str, key: str, record: dict, *, keep: int | None = None) -> bool: ...
    async def replace(self, tenant: Tenant, kind: str, key: str, record: dict) -> bool: ...
    async def replace_many(self, tenant: Tenant, kind: str, records: dict[str, dict]) -> int: ...
    async def delete(self, tenant: Tenant, kind: str, key: str) -> bool: ...
    async def list(self, tenant: Tenant, kind: str) -> list[dict]: ...
    async def count(self, tenant: Tenant, kind: str) -> int: ...
    async def page(
        self, tenant: Tenant, kind: str, index: str, *, reverse: bool, offset: int, limit: int
    ) -> list[dict]: ...
    async def upto(self, tenant: Tenant, kind: str, index: str, bound: float) -> list[dict]: ...
    async def trim(self, tenant: Tenant, kind: str, keep: int) -> int: ...
    async def owner(self, vendor: str, kind: str, key: str) -> str | None: ...
    async def apps(self, vendor: str, kind: str) -> list[str]: ...  # the vendor's apps with records of `kind`
    async def reset(self, app: str | None = None, vendor: str | None = None) -> None: ...
    async def counter(self, name: str) -> float: ...
    async def incr(self, name: str, amount: float = 1) -> float: ...
    async def find(self, tenant: Tenant, kind: str, field: str, value: str) -> dict | None: ...
    async def transact(self, tenant: Tenant, work: Callable[[Transaction], T]) -> T: ...


class VendorStore:
    """One vendor's part of a store: its tenants, and which of its apps owns a key."""

    __slots__ = ("store", "vendor")

    def __init__(self, store: Store, vendor: str) -> None:
        self.store = store
        self.vendor = vendor

    def tenant(self, app: str) -> TenantStore:
        return TenantStore(self.store, Tenant(self.vendor, app))

    async def owner(self, kind: str, key: str) -> str | None:
        """The app of this vendor that has `key` (download tokens, bearer keys); None when none has."""
        return await self.store.owner(self.vendor, kind, key)

    async def apps(self, kind: str) -> list[str]:
        """This vendor's apps that have records of `kind`, sorted (the dashboard's exports across apps)."""
        return await self.store.apps(self.vendor, kind)


class TenantStore:
    """The records of one vendor's app: the only part of the store a request acts on."""

    __slots__ = ("store", "tenant")

    def __init__(self, store: Store, tenant: Tenant) -> None:
        self.store = store
        self.tenant = tenant

    @property
    def owners(self) -> VendorStore:
        """The vendor's part of the store this app's is in (which app owns a key)."""
        return VendorStore(self.store, self.tenant.vendor)

    @property
    def app(self) -> str:
        return self.tenant.app

    async def get(self, kind: str, key: str) -> dict | None:
        return await self.store.get(self.tenant, kind, key)

    async def put(self, kind: str, key: str, record: dict) -> None:
        await self.store.put(self.tenant, kind, key, record)

    async def add(self, kind: str, key: str, record: dict, *, keep: int | None = None) -> bool:
        """Store a record under a key no app of the vendor has yet (False, nothing stored, when one has); then,
        with `keep`, delete the tenant's oldest records of `kind` until `keep` are left: one step of the
        backend (one SQLite transaction), where add, count and trim were three."""
        return await self.store.add(self.tenant, kind, key, record, keep=keep)

    async def replace(self, kind: str, key: str, record: dict) -> bool:
        return await self.store.replace(self.tenant, kind, key, record)

    async def replace_many(self, kind: str, records: dict[str, dict]) -> int:
        """`replace` for each key → record, in one step of the backend (one SQLite transaction); how many were."""
        return await self.store.replace_many(self.tenant, kind, records)

    async def delete(self, kind: str, key: str) -> bool:
        return await self.store.delete(self.tenant, kind, key)

    async def list(self, kind: str) -> list[dict]:
        return await self.store.list(self.tenant, kind)

    async def count(self, kind: str) -> int:
        return await self.store.count(self.tenant, kind)

    async def page(self, kind: str, index: str, *, reverse: bool, offset: int, limit: int) -> list[dict]:
        """Records [offset:offset+limit] in the order of INDEXES[kind][index] (then key), reversed when asked."""
        return await self.store.page(self.tenant, kind, index, reverse=reverse, offset=offset, limit=limit)

    async def upto(self, kind: str, index: str, bound: float) -> list[dict]:
        """The records whose index's (first, numeric) field is at most `bound`, in index order; nulls never."""
        return await self.store.upto(self.tenant, kind, index, bound)

    async def trim(self, kind: str, keep: int) -> int:
        return await self.store.trim(self.tenant, kind, keep)

    async def find(self, kind: str, field: str, value: str) -> dict | None:
        """The record of `kind` whose `field` (one of UNIQUE[kind]) is `value`; None when none is."""
        return await self.store.find(self.tenant, kind, field, value)

    async def transact(self, work: Callable[[Transaction], T]) -> T:
        """Run `work(transaction)` off the event loop and store what it wrote, all of it atomically
        (with respect to every other write of the tenant, in any process), or nothing if it raises."""
        return await self.store.transact(self.tenant, work)


class MemoryStore:
    """The default store: a dict per tenant, copies in and out so no caller can
    change a stored record behind the store's back. A record is kept pickled
    (a deep copy that is quicker to make and smaller to keep than a dict),
    beside its places in the kind's indexes (sortedcontainers' SortedList:
    O(log n) to add, remove or find a position). Runs in-process: an await
    here waits only for a thread (a transaction's work, copying a long list) or
    for the running transaction of the same tenant."""

    shared = False  # one process's memory

    def __init__(self) -> None:
        self._tenants: dict[Tenant, dict[str, dict[str, tuple]]] = {}
        self._owners: dict[tuple[str, str], dict[str, str]] = {}  # (vendor, kind) → key → app
        self._counters: dict[str, float] = {}
        # (tenant, kind) → index name → SortedList of (sort key, seq, key); seq: the order of first storing
        self._indexes: dict[tuple[Tenant, str], dict[str, SortedList]] = {}
        self._unique: dict[tuple[Tenant, str, str], dict[str, str]] = {}  # (tenant, kind, field) → value → key
        self._locks: dict[Tenant, asyncio.Lock] = {}  # held while a transaction of the tenant runs
        self._seq = 0

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def get(self, tenant: Tenant, kind: str, key: str) -> dict | None:
        kept = self._tenants.get(tenant, {}).get(kind, {}).get(key)
        return _thaw(kept[0]) if kept is not None else None

    def version(self, tenant: Tenant, kind: str, key: str) -> object | None:
        """What the record is kept in: every write stores a new tuple, so the same object means the same
        record (Store.version), with no copy made."""
        return self._tenants.get(tenant, {}).get(kind, {}).get(key)

    async def put(self, tenant: Tenant, kind: str, key: str, record: dict) -> None:
        await self._settled(tenant)
        self._put(tenant, kind, key, record)

    async def _settled(self, tenant: Tenant) -> None:
        """Wait for the tenant's running transaction (if any): its work reads the tenant's records on a thread."""
        lock = self._locks.get(tenant)
        if lock is not None and lock.locked():
            async with lock:
                pass  # no await between here and the caller's write: no transaction starts in between

    def _clash(self, tenant: Tenant, kind: str, key: str, record: Mapping[str, Any]) -> str | None:
        """Why `record` cannot be stored under `key`: another app's key, or another record's unique value."""
        owner = self._owners.get((tenant.vendor, kind), {}).get(key)
        if owner is not None and owner != tenant.app:
            return f"{kind} {key} belongs to another app"
        for field in UNIQUE.get(kind, ()):
            value = unique_value(record, field)
            holder = self._unique.get((tenant, kind, field), {}).get(value) if value else None
            if holder is not None and holder != key:
                return f"another of the app's {kind} has {field} {value}"
        return None

    def _put(
        self, tenant: Tenant, kind: str, key: str, record: dict, *, checked: bool = False, frozen: Any = None
    ) -> None:
        problem = None if checked else self._clash(tenant, kind, key, record)
        if problem:
            raise KeyError(problem)
        owners = self._owners.setdefault((tenant.vendor, kind), {})
        records = self._tenants.setdefault(tenant, {}).setdefault(kind, {})
        places = {}
        indexes = INDEXES.get(kind)
        if indexes:
            old = records.get(key)
            if old is not None:
                self._unindex(tenant, kind, key, old[1])
                seq = next(iter(old[1].values()))[1]  # an update keeps the record's place among equals
            else:
                self._seq += 1
                seq = self._seq
            lists = self._indexes.setdefault((tenant, kind), {})
            for name, fields in indexes.items():
                places[name] = (sort_key(record, fields), seq, key)
                lists.setdefault(name, SortedList()).add(places[name])
        values = {}
        fields = UNIQUE.get(kind)
        if fields:
            old = records.get(key)
            self._unfind(tenant, kind, key, old[2] if old is not None else {})
            for field in fields:
                value = unique_value(record, field)
                if value:
                    values[field] = value
                    self._unique.setdefault((tenant, kind, field), {})[value] = key
        # the record (pickled), its places in the kind's indexes and its unique values
        records[key] = (_freeze(record) if frozen is None else frozen, places, values)
        owners[key] = tenant.app

    def _unfind(self, tenant: Tenant, kind: str, key: str, values: dict[str, str]) -> None:
        for field, value in values.items():
            found = self._unique.get((tenant, kind, field), {})
            if found.get(value) == key:
                del found[value]

    def _unindex(self, tenant: Tenant, kind: str, key: str, places: dict[str, tuple]) -> None:
        lists = self._indexes.get((tenant, kind), {})
        for name, place in places.items():
            lists[name].discard(place)

    async def delete(self, tenant: Tenant, kind: str, key: str) -> bool:
        await self._settled(tenant)
        return self._delete(tenant, kind, key)

    def _delete(self, tenant: Tenant, kind: str, key: str) -> bool:
        records = self._tenants.get(tenant, {}).get(kind, {})
        if key not in records:
            return False
        _, places, values = records.pop(key)
        self._unindex(tenant, kind, key, places)
        self._unfind(tenant, kind, key, values)
        del self._owners[(tenant.vendor, kind)][key]
        return True

    async def list(self, tenant: Tenant, kind: str) -> list[dict]:
        kept = [stored for stored, *_ in self._tenants.get(tenant, {}).get(kind, {}).values()]
        if len(kept) > THAW_ON_THREAD:  # 10,000 orders take ~100 ms to copy: not on the event loop
            return await asyncio.to_thread(lambda: [_thaw(stored) for stored in kept])
        return [_thaw(stored) for stored in kept]

    async def find(self, tenant: Tenant, kind: str, field: str, value: str) -> dict | None:
        unique_fields(kind, field)
        key = self._unique.get((tenant, kind, field), {}).get(value)
        return await self.get(tenant, kind, key) if key is not None else None

    async def transact(self, tenant: Tenant, work: Callable[[Transaction], T]) -> T:
        lock = self._locks.get(tenant)
        if lock is None:
            lock = self._locks[tenant] = asyncio.Lock()
        async with lock:  # the tenant's other transactions and writes wait; other tenants do not
            view = _MemoryTransaction(self, tenant)
            result, prepared = await asyncio.to_thread(self._run, work, view)
            self._commit(tenant, prepared)
        return result

    def _run(self, work: Callable[[Transaction], T], view: _MemoryTransaction) -> tuple[T, list[tuple]]:
        return work(view), self._prepare(view._tenant, view.writes)

    def _prepare(self, tenant: Tenant, writes: dict[tuple[str, str], dict]) -> list[tuple]:
        """On the transaction's thread (the tenant's lock held, so its unique values stay put): check that
        no two records would share a unique value, and make each write's stored form. KeyError on a clash."""
        taken: dict[tuple[str, str, str], str] = {}
        prepared = []
        for (kind, key), record in writes.items():
            values = {}
            for field in UNIQUE.get(kind, ()):
                value = unique_value(record, field)
                if not value:
                    continue
                values[field] = value
                holder = self._unique.get((tenant, kind, field), {}).get(value)
                moved = (
                    holder is not None
                    and (kind, holder) in writes
                    and unique_value(writes[(kind, holder)], field) != value
                )
                if (holder is not None and holder != key and not moved) or taken.setdefault(
                    (kind, field, value), key
                ) != key:
                    raise KeyError(f"another of the app's {kind} has {field} {value}")
            prepared.append((kind, key, record, _freeze(record), values))
        return prepared

    def _commit(self, tenant: Tenant, prepared: list[tuple]) -> None:
        """Store a transaction's prepared writes, all or none, in one step on the event loop: only
        dictionary stores here (2,000 orders and their customers in a few milliseconds)."""
        for kind, key, *_ in prepared:
            owner = self._owners.get((tenant.vendor, kind), {}).get(key)
            if owner is not None and owner != tenant.app:
                raise KeyError(f"{kind} {key} belongs to another app")
        stored = self._tenants.setdefault(tenant, {})
        for kind, key, *_ in prepared:  # values that move between written records are free first
            old = stored.get(kind, {}).get(key)
            if old is not None and old[2]:
                self._unfind(tenant, kind, key, old[2])
        for kind, key, record, frozen, values in prepared:
            if kind in INDEXES:
                self._put(tenant, kind, key, record, checked=True, frozen=frozen)
                continue
            stored.setdefault(kind, {})[key] = (frozen, {}, values)
            self._owners.setdefault((tenant.vendor, kind), {})[key] = tenant.app
            for field, value in values.items():
                self._unique.setdefault((tenant, kind, field), {})[value] = key

    async def owner(self, vendor: str, kind: str, key: str) -> str | None:
        return self._owners.get((vendor, kind), {}).get(key)

    async def apps(self, vendor: str, kind: str) -> list[str]:
        return sorted(set(self._owners.get((vendor, kind), {}).values()))

    async def reset(self, app: str | None = None, vendor: str | None = None) -> None:
        chosen = [t for t in self._tenants if (app is None or t.app == app) and (vendor is None or t.vendor == vendor)]
        for tenant in chosen:
            lock = self._locks.get(tenant)
            if lock is not None and not lock.locked():
                del self._locks[tenant]  # a forgotten app keeps nothing, not even its lock
            for kind, records in self._tenants.pop(tenant).items():
                self._indexes.pop((tenant, kind), None)
                for field in UNIQUE.get(kind, ()):
                    self._unique.pop((tenant, kind, field), None)
                owners = self._owners.get((tenant.vendor, kind), {})
                for key in records:
                    owners.pop(key, None)

    async def add(self, tenant: Tenant, kind: str, key: str, record: dict, *, keep: int | None = None) -> bool:
        """Store a record under a key no app of the vendor has yet; False (nothing stored) when one has.
        With `keep`, then `trim` to it."""
        await self._settled(tenant)
        if key in self._owners.get((tenant.vendor, kind), {}) or self._clash(tenant, kind, key, record):
            return False
        self._put(tenant, kind, key, record)
        if keep is not None:
            self._trim(tenant, kind, keep)
        return True

    async def replace(self, tenant: Tenant, kind: str, key: str, record: dict) -> bool:
        """Update a record the tenant has; False (nothing stored) when it has none (any more)."""
        await self._settled(tenant)
        if key not in self._tenants.get(tenant, {}).get(kind, {}) or self._clash(tenant, kind, key, record):
            return False
        self._put(tenant, kind, key, record)
        return True

    async def replace_many(self, tenant: Tenant, kind: str, records: dict[str, dict]) -> int:
        return sum([await self.replace(tenant, kind, key, record) for key, record in records.items()])

    async def count(self, tenant: Tenant, kind: str) -> int:
        return len(self._tenants.get(tenant, {}).get(kind, {}))

    async def page(
        self, tenant: Tenant, kind: str, index: str, *, reverse: bool, offset: int, limit: int
    ) -> list[dict]:
        entries = self._indexes.get((tenant, kind), {}).get(index)
        if entries is None:
            _check_index(kind, index)
            return []
        size = len(entries)
        start, stop = (max(0, size - offset - limit), max(0, size - offset)) if reverse else (offset, offset + limit)
        records = self._tenants[tenant][kind]
        return [_thaw(records[key][0]) for _, _, key in entries.islice(start, stop, reverse=reverse)]

    async def upto(self, tenant: Tenant, kind: str, index: str, bound: float) -> list[dict]:
        entries = self._indexes.get((tenant, kind), {}).get(index)
        if entries is None:
            _check_index(kind, index)
            return []
        records = self._tenants[tenant][kind]
        found = []
        for (first, *_), _, key in entries.irange(minimum=(((1, float("-inf")),),)):
            if first[0] != 1 or first[1] > bound:
                break
            found.append(_thaw(records[key][0]))
        return found

    async def trim(self, tenant: Tenant, kind: str, keep: int) -> int:
        """Delete the tenant's oldest records of `kind` (by first storing) until `keep` are left; how many went."""
        await self._settled(tenant)
        return self._trim(tenant, kind, keep)

    def _trim(self, tenant: Tenant, kind: str, keep: int) -> int:
        records = self._tenants.get(tenant, {}).get(kind, {})
        gone = list(islice(records, max(0, len(records) - keep)))
        for key in gone:
            self._delete(tenant, kind, key)
        return len(gone)

    async def counter(self, name: str) -> float:
        return self._counters.get(name, 0)

    async def incr(self, name: str, amount: float = 1) -> float:
        """Add `amount` to a named counter (0 when new) and return the new value."""
        self._counters[name] = self._counters.get(name, 0) + amount
        return self._counters[name]


class _MemoryTransaction:
    """A MemoryStore transaction's view (see Transaction): reads the tenant's records, which only the
    transaction may change while it runs, and keeps its writes for `_commit`."""

    def __init__(self, store: MemoryStore, tenant: Tenant) -> None:
        self._store = store
        self._tenant = tenant
        self.writes: dict[tuple[str, str], dict] = {}
        self._found: dict[tuple[str, str, str], str] = {}  # (kind, field, value) → key, of the writes

    def get(self, kind: str, key: str) -> dict | None:
        written = self.writes.get((kind, key))
        if written is not None:
            return written
        kept = self._store._tenants.get(self._tenant, {}).get(kind, {}).get(key)
        return _thaw(kept[0]) if kept is not None else None

    def find(self, kind: str, field: str, value: str) -> dict | None:
        unique_fields(kind, field)
        key = self._found.get((kind, field, value))
        if key is None:
            key = self._store._unique.get((self._tenant, kind, field), {}).get(value)
        record = self.get(kind, key) if key is not None else None
        return record if record is not None and unique_value(record, field) == value else None

    def count(self, kind: str) -> int:
        stored = self._store._tenants.get(self._tenant, {}).get(kind, {})
        return len(stored) + sum(1 for k, key in self.writes if k == kind and key not in stored)

    def put(self, kind: str, key: str, record: dict) -> None:
        self.writes[(kind, key)] = record
        for field in UNIQUE.get(kind, ()):
            value = unique_value(record, field)
            if value:
                self._found[(kind, field, value)] = key


def _check_index(kind: str, index: str) -> None:
    if index not in INDEXES.get(kind, {}):
        raise KeyError(f"{kind} have no index {index!r}")


def _freeze(record: dict) -> Any:
    """A stored, independent copy of `record`: pickled, or deep-copied when it cannot be."""
    try:
        return pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(record)


def _thaw(stored: Any) -> dict:
    """A fresh copy of a stored record, for the caller to keep or change."""
    return pickle.loads(stored) if type(stored) is bytes else copy.deepcopy(stored)


class NullStore:
    """The store of a `--stateless` server: remembers nothing."""

    shared = False

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def get(self, tenant: Tenant, kind: str, key: str) -> dict | None:
        return None

    def version(self, tenant: Tenant, kind: str, key: str) -> object | None:
        return None

    async def put(self, tenant: Tenant, kind: str, key: str, record: dict) -> None:
        pass

    async def add(self, tenant: Tenant, kind: str, key: str, record: dict, *, keep: int | None = None) -> bool:
        return True

    async def replace(self, tenant: Tenant, kind: str, key: str, record: dict) -> bool:
        return False

    async def replace_many(self, tenant: Tenant, kind: str, records: dict) -> int:
        return 0

    async def delete(self, tenant: Tenant, kind: str, key: str) -> bool:
        return False

    async def list(self, tenant: Tenant, kind: str) -> list[dict]:
        return []

    async def page(
        self, tenant: Tenant, kind: str, index: str, *, reverse: bool, offset: int, limit: int
    ) -> list[dict]:
        return []

    async def upto(self, tenant: Tenant, kind: str, index: str, bound: float) -> list[dict]:
        return []

    async def count(self, tenant: Tenant, kind: str) -> int:
        return 0

    async def trim(self, tenant: Tenant, kind: str, keep: int) -> int:
        return 0

    async def owner(self, vendor: str, kind: str, key: str) -> str | None:
        return None

    async def apps(self, vendor: str, kind: str) -> list[str]:
        return []

    async def reset(self, app: str | None = None, vendor: str | None = None) -> None:
        pass

    async def counter(self, name: str) -> float:
        return 0

    async def incr(self, name: str, amount: float = 1) -> float:
        return amount
