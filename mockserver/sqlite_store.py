"""A Store kept in one SQLite file (`mockserver serve --state FILE`), so what
clients created survives a restart.

Same interface and semantics as MemoryStore (the contract tests run against
both). Each write is its own committed transaction before the call returns,
and the vendor answers only after the call returns, so a crash or a SIGKILL
never loses anything a client was told about. WAL mode keeps reads cheap
while writing.
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
"""


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        # autocommit (isolation_level=None): every statement commits on its own
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()  # the server thread and a test thread may share the store
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def get(self, app: str, kind: str, key: str) -> dict | None:
        row = self._one("SELECT record FROM records WHERE kind = ? AND key = ? AND app = ?", (kind, key, app))
        return json.loads(row[0]) if row else None

    def put(self, app: str, kind: str, key: str, record: dict) -> None:
        text = json.dumps(record)
        with self._lock:
            row = self._db.execute("SELECT app FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
            if row is not None and row[0] != app:
                raise KeyError(f"{kind} {key} belongs to another app")
            # an update keeps the row (and so its place in list order), as a dict would
            self._db.execute("INSERT INTO records (kind, key, app, record) VALUES (?, ?, ?, ?) "
                             "ON CONFLICT (kind, key) DO UPDATE SET record = excluded.record", (kind, key, app, text))

    def delete(self, app: str, kind: str, key: str) -> bool:
        with self._lock:
            cursor = self._db.execute("DELETE FROM records WHERE kind = ? AND key = ? AND app = ?", (kind, key, app))
        return cursor.rowcount > 0

    def list(self, app: str, kind: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM records WHERE app = ? AND kind = ? ORDER BY rowid",
                                    (app, kind)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def owner(self, kind: str, key: str) -> str | None:
        row = self._one("SELECT app FROM records WHERE kind = ? AND key = ?", (kind, key))
        return row[0] if row else None

    def reset(self, app: str | None = None) -> None:
        with self._lock:
            if app is None:
                self._db.execute("DELETE FROM records")
            else:
                self._db.execute("DELETE FROM records WHERE app = ?", (app,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, sql: str, params: tuple) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()
