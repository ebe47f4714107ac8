"""A Store kept in one SQLite file (`mockserver serve --state FILE`), so what
clients created survives a restart, and several processes (`--workers N`)
can share it.

Same interface and semantics as MemoryStore (the contract tests run against
every backend). Each write is one statement, its own committed transaction
before the call returns, and the vendor answers only after the call returns,
so a crash or a SIGKILL never loses anything a client was told about. Every
check-and-write (`put` refusing another app's key, `add`, `replace`) is a
single statement, so it is atomic across processes too. WAL mode keeps reads
cheap while another process writes; a writer waits up to `busy_seconds` for
another's lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    app    TEXT NOT NULL,
    record TEXT NOT NULL,          -- the record as JSON
    PRIMARY KEY (kind, key)        -- keys are unique per kind across apps, as in MemoryStore
);
CREATE INDEX IF NOT EXISTS records_by_app ON records (app, kind);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""
# an update keeps the row (and so its place in list order), as a dict would; another app's key is left alone
UPSERT = ("INSERT INTO records (kind, key, app, record) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (kind, key) DO UPDATE SET record = excluded.record WHERE records.app = excluded.app")


class SqliteStore:
    shared = True  # other processes may open the same file

    def __init__(self, path: str | Path, *, durable: bool = True, busy_seconds: float = 30.0) -> None:
        """`durable=False` skips the fsync of each commit (a throwaway file, e.g. for --workers without --state):
        still safe against a crash of the process, not against one of the machine."""
        self.path = str(path)
        # autocommit (isolation_level=None): every statement commits on its own
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_seconds)
        self._lock = threading.Lock()  # the server thread and a test thread may share the store
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # two processes opening a new file at once create it once
            try:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    self._db.execute(statement)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def get(self, app: str, kind: str, key: str) -> dict | None:
        row = self._one("SELECT record FROM records WHERE kind = ? AND key = ? AND app = ?", (kind, key, app))
        return json.loads(row[0]) if row else None

    def put(self, app: str, kind: str, key: str, record: dict) -> None:
        if self._write(UPSERT, (kind, key, app, json.dumps(record))) == 0:
            raise KeyError(f"{kind} {key} belongs to another app")

    def add(self, app: str, kind: str, key: str, record: dict) -> bool:
        return self._write("INSERT INTO records (kind, key, app, record) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           (kind, key, app, json.dumps(record))) > 0

    def replace(self, app: str, kind: str, key: str, record: dict) -> bool:
        return self._write("UPDATE records SET record = ? WHERE kind = ? AND key = ? AND app = ?",
                           (json.dumps(record), kind, key, app)) > 0

    def delete(self, app: str, kind: str, key: str) -> bool:
        return self._write("DELETE FROM records WHERE kind = ? AND key = ? AND app = ?", (kind, key, app)) > 0

    def list(self, app: str, kind: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM records WHERE app = ? AND kind = ? ORDER BY rowid",
                                    (app, kind)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def count(self, app: str, kind: str) -> int:
        return self._one("SELECT COUNT(*) FROM records WHERE app = ? AND kind = ?", (app, kind))[0]

    def trim(self, app: str, kind: str, keep: int) -> int:
        return self._write("DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE app = ? AND kind = ? "
                           "ORDER BY rowid DESC LIMIT -1 OFFSET ?)", (app, kind, max(0, keep)))

    def owner(self, kind: str, key: str) -> str | None:
        row = self._one("SELECT app FROM records WHERE kind = ? AND key = ?", (kind, key))
        return row[0] if row else None

    def reset(self, app: str | None = None) -> None:
        if app is None:
            self._write("DELETE FROM records", ())
        else:
            self._write("DELETE FROM records WHERE app = ?", (app,))

    def counter(self, name: str) -> float:
        row = self._one("SELECT value FROM counters WHERE name = ?", (name,))
        return row[0] if row else 0

    def incr(self, name: str, amount: float = 1) -> float:
        with self._lock:  # fetchall: the statement (and so its transaction) ends before the lock is let go
            rows = self._db.execute("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
                                    "DO UPDATE SET value = value + excluded.value RETURNING value",
                                    (name, amount)).fetchall()
        return rows[0][0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def _one(self, sql: str, params: tuple) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()
