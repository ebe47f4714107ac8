"""A Store kept in one SQLite file (`mockserver serve --state FILE`), so what
clients created survives a restart, and several processes (`--workers N`)
can share it.

Same interface and semantics as MemoryStore (the contract tests run against
every backend). Statements run on one thread of the store's own (sqlite3
blocks), never on the event loop; transactions (`transact`) on a second
thread with a connection of its own, so a long one does not hold up reads.
Three exceptions, `counter` (the shared clock's offset, read before every
request), `get` and `version` (a record by its key, as every GET of an
export reads it): one row read by its key on the event loop through a connection that
never waits (busy timeout 0; WAL readers take no lock a writer holds), a few
microseconds where a trip to the thread and back costs tens; when the file is
busy all the same (a WAL recovery), the thread reads it.
Each write (`put`, `add`, `replace`, `delete`) is committed before the call
returns, and the vendor answers only after the call returns, so a crash or a
SIGKILL never loses anything a client was told about. Writes that arrive
together share one transaction (group commit, `_drain`): one trip to the
store's thread, one lock taken, one commit (with `--state FILE`, one fsync)
for all of them, each still one statement whose outcome is its own; a
create's trim of the app's oldest records runs once per group, inside the
same transaction, so no reader ever sees more than the newest N. Every
check-and-write (`put` refusing another app's key, `add`, `replace`) is a
single statement, so it is atomic across processes too. WAL mode keeps
reads cheap while another process writes. Writers take turns at the
file's write lock (`_Turns`, two locks in a `-turns` file beside it), so a
process that commits group after group cannot starve another: SQLite's own
wait polls, sleeping up to 100 ms between tries, and a writer that retook
the lock at once kept another waiting for up to a second (two processes of
16 creates at a time: 330-1,136 ms at worst). Writers of other programs,
which take no turns, still wait up to `busy_seconds` for the lock.

Rows are keyed by (vendor, kind, key) and carry their app: tables of the
store before tenants were keyed by vendor (`records`) are left alone.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import orjson

from .store import INDEXES, UNIQUE, Tenant, Transaction, unique_fields, unique_value

log = logging.getLogger("mockserver")


def _field(name: str) -> str:
    return f"json_extract(record, '$.{name}')"  # names are ours (store.INDEXES): no quoting needed


def _text(name: str) -> str:
    return f"json_type(record, '$.{name}') = 'text' AND {_field(name)} != ''"


def _order(kind: str, index: str, reverse: bool) -> str:
    fields = INDEXES.get(kind, {}).get(index)
    if fields is None:
        raise KeyError(f"{kind} have no index {index!r}")
    way = " DESC" if reverse else ""
    return ", ".join(f"{_field(name)}{way}" for name in fields) + f", rowid{way}"


SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant_records (
    vendor TEXT NOT NULL,
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    app    TEXT NOT NULL,
    record TEXT NOT NULL,               -- the record as JSON
    PRIMARY KEY (vendor, kind, key)     -- keys are unique per kind within a vendor, as in MemoryStore
);
CREATE INDEX IF NOT EXISTS tenant_records_by_app ON tenant_records (vendor, app, kind);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value REAL NOT NULL
);
""" + "".join(
    # store.INDEXES as expression indexes: `page` walks one, LIMIT/OFFSET, without reading other records
    f"CREATE INDEX IF NOT EXISTS tenant_records_{kind}_{name} ON tenant_records "
    f"(vendor, app, kind, {', '.join(_field(f) for f in fields)});"
    for kind, indexes in INDEXES.items()
    for name, fields in indexes.items()
)
# store.UNIQUE as unique partial expression indexes: `find` reads one row, and no two records of a tenant share
# a value even when several processes write at once (text values only, as store.unique_value: NULLs never clash)
UNIQUE_INDEXES = [
    (
        f"tenant_records_{kind}_by_{field}",
        f"ON tenant_records (vendor, app, {_field(field)}) WHERE kind = '{kind}' AND {_text(field)}",
    )
    for kind, fields in UNIQUE.items()
    for field in fields
]
# an update keeps the row (and so its place in list order), as a dict would; another app's key is left alone
UPSERT = (
    "INSERT INTO tenant_records (vendor, kind, key, app, record) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (vendor, kind, key) DO UPDATE SET record = excluded.record "
    "WHERE tenant_records.app = excluded.app"
)
ADD = "INSERT INTO tenant_records (vendor, kind, key, app, record) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
OLDEST = (  # the rowids a trim to the newest N deletes
    "SELECT rowid FROM tenant_records WHERE vendor = ? AND app = ? AND kind = ? ORDER BY rowid DESC LIMIT -1 OFFSET ?"
)
GET = "SELECT record FROM tenant_records WHERE vendor = ? AND kind = ? AND key = ? AND app = ?"
COUNTER = "SELECT value FROM counters WHERE name = ?"
T = TypeVar("T")


class _Turns:
    """Fair turns at the SQLite file's write lock for one connection (one thread), whichever process or
    thread the others are in. Two locks on a `<file>-turns` file: the queue (byte 0) and the turn (byte 1).
    A writer takes the queue, then the turn, then lets the queue go, and writes; so at most one writer waits
    for the turn, holding the queue, and the one that just wrote, wanting the turn again, waits for the queue
    until that one has had its turn: two busy writers alternate. Open file description locks (Linux): held
    per open file, so each connection's are its own, and dropped by the kernel if the process dies. Without
    them (another OS, a read-only folder) `turn` takes none and SQLite's own wait alone decides."""

    QUEUE, TURN = 0, 1
    _FLOCK = struct.Struct("hhqqi0q")  # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None  # opened by each process itself: a forked copy would share its locks
        if hasattr(fcntl, "F_OFD_SETLKW"):
            try:
                self._fd = os.open(f"{path}-turns", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                log.warning("no fair turns between writers of %s: %s", path, error)

    def _set(self, kind: int, byte: int) -> None:
        fcntl.fcntl(self._fd, fcntl.F_OFD_SETLKW, self._FLOCK.pack(kind, os.SEEK_SET, byte, 1, 0))

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn (waiting for it as long as it takes) while the block writes. A lock that fails (it
        never has) costs fairness only: SQLite's own lock still keeps writers apart, so the block runs."""
        taken = self._fd is not None and self._take()
        try:
            yield
        finally:
            if taken:
                self._set(fcntl.F_UNLCK, self.TURN)

    def _take(self) -> bool:
        try:
            self._set(fcntl.F_WRLCK, self.QUEUE)
            try:
                self._set(fcntl.F_WRLCK, self.TURN)
            finally:
                self._set(fcntl.F_UNLCK, self.QUEUE)
        except OSError as error:
            log.warning("writers of %s write without taking turns: %s", self._path, error)
            return False
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _Write(NamedTuple):
    """One write waiting for the store's thread: its statement, and `trim` (vendor, app, kind, keep) when it
    is a create that keeps only the app's newest N; `future` gets the statement's row count (0 when a unique
    field clashed) or its error."""

    sql: str
    params: tuple
    trim: tuple | None
    future: asyncio.Future


class SqliteStore:
    shared = True  # other processes may open the same file

    def __init__(self, path: str | Path, *, durable: bool = True, busy_seconds: float = 30.0) -> None:
        """`durable=False` skips the fsync of each commit (a throwaway file, e.g. for --workers without --state):
        still safe against a crash of the process, not against one of the machine."""
        self.path = str(path)
        self._turns = _Turns(self.path)  # the store's thread's turns; the transactions' thread has its own
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mockserver-sqlite")  # the connection's only user
        self._db = self._thread.submit(self._connect, durable, busy_seconds).result()
        self._pending: list[_Write] = []  # writes for the next group commit (`_drain`), guarded by the lock
        self._pending_lock = threading.Lock()
        self._draining = False  # a `_drain` is scheduled or running: it takes what arrives meanwhile too
        # transactions (an import of 2,000 orders: a second or so) on a connection and thread of their own,
        # so the store's other calls (WAL: reads never wait for a writer) do not queue behind one
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="mockserver-sqlite-transactions")
        self._writer_db = self._writer.submit(self._connect, durable, busy_seconds).result()
        self._writer_turns = _Turns(self.path)
        # point reads (a counter, a record by key) on the event loop: never waits (timeout 0), never writes
        self._glances = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
        self._glances.execute("PRAGMA query_only = 1")

    def _connect(self, durable: bool, busy_seconds: float) -> sqlite3.Connection:
        # autocommit (isolation_level=None): every statement commits on its own
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_seconds)
        db.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
        db.execute("PRAGMA journal_mode=WAL")
        # not durable: no fsync at all, not even at WAL checkpoints (SQLite's "OFF": the data is safe if the process
        # crashes, not if the machine does); an insert took 22 µs of CPU where NORMAL's checkpoints made it 83
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        db.execute("BEGIN IMMEDIATE")  # two processes opening a new file at once create it once
        try:
            for statement in filter(str.strip, SCHEMA.split(";")):
                db.execute(statement)
            for name, definition in UNIQUE_INDEXES:
                try:
                    db.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} {definition}")
                except sqlite3.IntegrityError:  # a file written before values were unique: find them all the same
                    log.warning(
                        "state file %s has records sharing a value %s is unique by; not enforced there", self.path, name
                    )
                    db.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            db.close()
            raise
        return db

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work, *args)

    def _write(self, sql: str, params: tuple) -> int:
        """One statement, inside the caller's turn (and transaction, if any)."""
        try:
            return self._db.execute(sql, params).rowcount
        except sqlite3.IntegrityError:  # another record of the app has the value of a unique field
            return 0

    def _write_alone(self, sql: str, params: tuple) -> int:
        with self._turns.turn():
            return self._write(sql, params)

    async def _commit(self, sql: str, params: tuple, trim: tuple | None = None) -> int:
        """Run one write in the next group commit; its row count once that has committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._pending_lock:
            self._pending.append(_Write(sql, params, trim, future))
            idle, self._draining = not self._draining, True
        if idle:  # on the loop's next turn: the writes of the requests this turn runs join this one
            loop.call_soon(self._start_drain, loop)
        return await future

    def _start_drain(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            self._thread.submit(self._drain, loop)
        except RuntimeError as error:  # the store was closed: nothing more is written
            with self._pending_lock:
                group, self._pending, self._draining = self._pending, [], False
            _settle(group, [error] * len(group))

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the store's thread: commit the waiting writes, a group per transaction, until none wait. The
        group is taken once the turn is ours, so what arrived while another process wrote joins it."""
        while True:
            with self._pending_lock:
                if not self._pending:
                    self._draining = False
                    return
            with self._turns.turn():
                with self._pending_lock:
                    group, self._pending = self._pending, []
                try:
                    outcomes = self._group(group)
                except BaseException as error:  # the group could not be committed; with several, each alone
                    outcomes = [error] if len(group) == 1 else [self._alone(write) for write in group]
            loop.call_soon_threadsafe(_settle, group, outcomes)

    def _group(self, group: list[_Write]) -> list[int | BaseException]:
        """Commit the writes as one transaction, inside the caller's turn."""
        if len(group) == 1 and group[0].trim is None:  # one statement: a transaction of its own (autocommit)
            return [self._write(group[0].sql, group[0].params)]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            counts, added = [], False
            for index, write in enumerate(group):
                counts.append(self._write(write.sql, write.params))
                added = added or (write.trim is not None and counts[-1] > 0)
                # the trim once the creates of one tenant's kind in a row are in: the same records remain as
                # trimming after each, since every create is newer than what it would have trimmed
                following = group[index + 1].trim if index + 1 < len(group) else None
                if added and following != write.trim:
                    _trim(self._db, write.trim)
                    added = False
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return counts

    def _alone(self, write: _Write) -> int | BaseException:
        try:
            return self._group([write])[0]
        except BaseException as error:
            return error

    def _one(self, sql: str, params: tuple) -> tuple | None:
        return self._db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple) -> list[tuple]:
        return self._db.execute(sql, params).fetchall()

    def _write_all(self, sql: str, params: tuple) -> list[tuple]:
        with self._turns.turn():
            return self._all(sql, params)

    async def open(self) -> None:
        pass  # connected in __init__: a file that cannot be opened is reported at once

    async def get(self, tenant: Tenant, kind: str, key: str) -> dict | None:
        rows = await self._glance(GET, (tenant.vendor, kind, key, tenant.app))
        return json.loads(rows[0][0]) if rows else None

    async def _glance(self, sql: str, params: tuple) -> list[tuple]:
        """One row by its key, read on the event loop (see the module's docstring): fetchall, so the read ends
        (no WAL snapshot kept open). When the file is busy all the same (the busy timeout is 0), the store's
        thread reads it, waiting as long as it takes."""
        try:
            return self._glances.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return await self._run(self._all, sql, params)

    def version(self, tenant: Tenant, kind: str, key: str) -> str | None:
        """The record's stored text (Store.version): other processes write the file, so no object of ours
        stands for a revision, but equal texts are equal records, whoever wrote them. Read on the event loop
        as `get` reads (one row by key, never waiting); None when the file is busy or holds no such record."""
        try:
            rows = self._glances.execute(GET, (tenant.vendor, kind, key, tenant.app)).fetchall()
        except sqlite3.OperationalError:
            return None
        return rows[0][0] if rows else None

    async def put(self, tenant: Tenant, kind: str, key: str, record: dict) -> None:
        if await self._commit(UPSERT, (tenant.vendor, kind, key, tenant.app, _text_of(record))) == 0:
            raise KeyError(f"{kind} {key} belongs to another app")

    async def add(self, tenant: Tenant, kind: str, key: str, record: dict, *, keep: int | None = None) -> bool:
        row = (tenant.vendor, kind, key, tenant.app, _text_of(record))
        # with `keep`, the trim commits with the insert: no reader sees the app's N+1 newest
        return (
            await self._commit(ADD, row, None if keep is None else (tenant.vendor, tenant.app, kind, max(0, keep))) > 0
        )

    async def replace(self, tenant: Tenant, kind: str, key: str, record: dict) -> bool:
        return (
            await self._commit(
                "UPDATE tenant_records SET record = ? WHERE vendor = ? AND kind = ? AND key = ? AND app = ?",
                (_text_of(record), tenant.vendor, kind, key, tenant.app),
            )
            > 0
        )

    async def replace_many(self, tenant: Tenant, kind: str, records: dict[str, dict]) -> int:
        rows = [(_text_of(record), tenant.vendor, kind, key, tenant.app) for key, record in records.items()]
        return (
            await self._run(
                self._transaction,
                "UPDATE tenant_records SET record = ? WHERE vendor = ? AND kind = ? AND key = ? AND app = ?",
                rows,
            )
            if rows
            else 0
        )

    def _transaction(self, sql: str, rows: list[tuple]) -> int:
        with self._turns.turn():
            self._db.execute("BEGIN IMMEDIATE")  # one commit (one fsync) for them all
            try:
                changed = self._db.executemany(sql, rows).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return changed

    async def find(self, tenant: Tenant, kind: str, field: str, value: str) -> dict | None:
        unique_fields(kind, field)
        row = await self._run(self._one, *_finding(tenant, kind, field, value))
        return json.loads(row[0]) if row else None

    async def transact(self, tenant: Tenant, work: Callable[[Transaction], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._transact, tenant, work)

    def _transact(self, tenant: Tenant, work: Callable[[Transaction], T]) -> T:
        db = self._writer_db
        with self._writer_turns.turn():
            db.execute("BEGIN IMMEDIATE")  # the write lock, taken before the first read: no process writes between
            try:
                result = work(_SqliteTransaction(db, tenant))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return result

    async def delete(self, tenant: Tenant, kind: str, key: str) -> bool:
        return (
            await self._commit(
                "DELETE FROM tenant_records WHERE vendor = ? AND kind = ? AND key = ? AND app = ?",
                (tenant.vendor, kind, key, tenant.app),
            )
            > 0
        )

    async def list(self, tenant: Tenant, kind: str) -> list[dict]:
        return await self._run(
            self._records,
            "SELECT record FROM tenant_records WHERE vendor = ? AND app = ? AND kind = ? ORDER BY rowid",
            (tenant.vendor, tenant.app, kind),
        )

    def _records(self, sql: str, params: tuple) -> list[dict]:
        """Records decoded on the store's thread: 50,000 orders take a while, not on the event loop."""
        return [json.loads(row[0]) for row in self._db.execute(sql, params).fetchall()]

    async def page(
        self, tenant: Tenant, kind: str, index: str, *, reverse: bool, offset: int, limit: int
    ) -> list[dict]:
        rows = await self._run(
            self._all,
            "SELECT record FROM tenant_records WHERE vendor = ? AND app = ? "
            f"AND kind = ? ORDER BY {_order(kind, index, reverse)} LIMIT ? OFFSET ?",
            (tenant.vendor, tenant.app, kind, limit, offset),
        )
        return [json.loads(row[0]) for row in rows]

    async def upto(self, tenant: Tenant, kind: str, index: str, bound: float) -> list[dict]:
        first = _field(INDEXES.get(kind, {}).get(index, ("",))[0])
        rows = await self._run(
            self._all,
            "SELECT record FROM tenant_records WHERE vendor = ? AND app = ? "
            f"AND kind = ? AND {first} <= ? ORDER BY {_order(kind, index, False)}",
            (tenant.vendor, tenant.app, kind, bound),
        )
        return [json.loads(row[0]) for row in rows]

    async def count(self, tenant: Tenant, kind: str) -> int:
        row = await self._run(
            self._one,
            "SELECT COUNT(*) FROM tenant_records WHERE vendor = ? AND app = ? AND kind = ?",
            (tenant.vendor, tenant.app, kind),
        )
        return row[0]

    async def trim(self, tenant: Tenant, kind: str, keep: int) -> int:
        return await self._run(self._trim, (tenant.vendor, tenant.app, kind, max(0, keep)))

    def _trim(self, params: tuple) -> int:
        with self._turns.turn():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                trimmed = _trim(self._db, params)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return trimmed

    async def owner(self, vendor: str, kind: str, key: str) -> str | None:
        row = await self._run(
            self._one, "SELECT app FROM tenant_records WHERE vendor = ? AND kind = ? AND key = ?", (vendor, kind, key)
        )
        return row[0] if row else None

    async def apps(self, vendor: str, kind: str) -> list[str]:
        rows = await self._run(
            self._all,
            "SELECT DISTINCT app FROM tenant_records WHERE vendor = ? AND kind = ? ORDER BY app",
            (vendor, kind),
        )
        return [row[0] for row in rows]

    async def reset(self, app: str | None = None, vendor: str | None = None) -> None:
        where = " AND ".join(f"{name} = ?" for name, value in (("app", app), ("vendor", vendor)) if value is not None)
        params = tuple(value for value in (app, vendor) if value is not None)
        await self._run(self._write_alone, "DELETE FROM tenant_records" + (f" WHERE {where}" if where else ""), params)

    async def counter(self, name: str) -> float:
        rows = await self._glance(COUNTER, (name,))
        return rows[0][0] if rows else 0

    async def incr(self, name: str, amount: float = 1) -> float:
        # fetchall: the statement (and so its transaction) ends before the next one starts
        rows = await self._run(
            self._write_all,
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
            "DO UPDATE SET value = value + excluded.value RETURNING value",
            (name, amount),
        )
        return rows[0][0]

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._writer, _close, self._writer_db, self._writer_turns)
        self._writer.shutdown(wait=False)
        await self._run(_close, self._db, self._turns)  # on the thread: no later write finds the lock file's fd reused
        self._thread.shutdown(wait=False)
        self._glances.close()


def _close(db: sqlite3.Connection, turns: _Turns) -> None:
    db.close()
    turns.close()


def _text_of(record: dict) -> str:
    """A record as stored: orjson's text (3.5 µs for an export, where json.dumps took 28, on the event loop),
    json's for what orjson refuses (an int over 64 bits, a lone surrogate, a key that is not a string).
    Read back with json.loads either way, which keeps any integer whole."""
    try:
        return orjson.dumps(record).decode()
    except TypeError:
        return json.dumps(record)


def _trim(db: sqlite3.Connection, params: tuple) -> int:
    """Delete the tenant's oldest records of a kind beyond the newest N (params: vendor, app, kind, N), inside the
    caller's transaction. Two statements: `DELETE … WHERE rowid IN (subquery)` cost twice as much (its ephemeral
    table)."""
    oldest = db.execute(OLDEST, params).fetchall()
    return db.executemany("DELETE FROM tenant_records WHERE rowid = ?", oldest).rowcount if oldest else 0


def _settle(group: list[_Write], outcomes: list[int | BaseException]) -> None:
    """On the loop: each write's caller gets its outcome (unless it stopped waiting)."""
    for write, outcome in zip(group, outcomes, strict=True):
        if write.future.done():
            continue
        if isinstance(outcome, BaseException):
            write.future.set_exception(outcome)
        else:
            write.future.set_result(outcome)


def _finding(tenant: Tenant, kind: str, field: str, value: str) -> tuple[str, tuple]:
    """The statement that reads a record by a unique field (the kind written out, so the partial index is used)."""
    return (
        f"SELECT record FROM tenant_records WHERE vendor = ? AND app = ? AND kind = '{kind}' "
        f"AND {_text(field)} AND {_field(field)} = ?",
        (tenant.vendor, tenant.app, value),
    )


class _SqliteTransaction:
    """A SqliteStore transaction's view (see store.Transaction): statements on the store's thread, inside
    the open transaction, so reads see its writes and a ROLLBACK undoes them."""

    def __init__(self, db: sqlite3.Connection, tenant: Tenant) -> None:
        self._db = db
        self._tenant = tenant

    def get(self, kind: str, key: str) -> dict | None:
        row = self._db.execute(
            "SELECT record FROM tenant_records WHERE vendor = ? AND kind = ? AND key = ? AND app = ?",
            (self._tenant.vendor, kind, key, self._tenant.app),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def find(self, kind: str, field: str, value: str) -> dict | None:
        unique_fields(kind, field)
        if not unique_value({field: value}, field):
            return None
        row = self._db.execute(*_finding(self._tenant, kind, field, value)).fetchone()
        return json.loads(row[0]) if row else None

    def count(self, kind: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM tenant_records WHERE vendor = ? AND app = ? AND kind = ?",
            (self._tenant.vendor, self._tenant.app, kind),
        ).fetchone()[0]

    def put(self, kind: str, key: str, record: dict) -> None:
        try:
            changed = self._db.execute(
                UPSERT, (self._tenant.vendor, kind, key, self._tenant.app, _text_of(record))
            ).rowcount
        except sqlite3.IntegrityError:
            raise KeyError(f"another of the app's {kind} has that {'/'.join(UNIQUE.get(kind, ()))}") from None
        if changed == 0:
            raise KeyError(f"{kind} {key} belongs to another app")
