"""Where the mock keeps what clients create, behind one small interface.

Records are JSON-like dicts filed by (app id, kind, key): kinds are
"exports", "credentials" and whatever later features add. Keys are unique per
kind across apps, so a download token can find its export's owner. Every
backend (memory now, persistent ones later) passes the same contract tests.
"""

from __future__ import annotations

import copy
from typing import Protocol


class Store(Protocol):
    def get(self, app: str, kind: str, key: str) -> dict | None: ...
    def put(self, app: str, kind: str, key: str, record: dict) -> None: ...
    def delete(self, app: str, kind: str, key: str) -> bool: ...
    def list(self, app: str, kind: str) -> list[dict]: ...
    def owner(self, kind: str, key: str) -> str | None: ...
    def reset(self, app: str | None = None) -> None: ...


class MemoryStore:
    """The default store: a dict per app, copies in and out so no caller can
    change a stored record behind the store's back."""

    def __init__(self) -> None:
        self._apps: dict[str, dict[str, dict[str, dict]]] = {}
        self._owners: dict[str, dict[str, str]] = {}

    def get(self, app: str, kind: str, key: str) -> dict | None:
        record = self._apps.get(app, {}).get(kind, {}).get(key)
        return copy.deepcopy(record) if record is not None else None

    def put(self, app: str, kind: str, key: str, record: dict) -> None:
        owner = self._owners.setdefault(kind, {}).get(key)
        if owner is not None and owner != app:
            raise KeyError(f"{kind} {key} belongs to another app")
        self._apps.setdefault(app, {}).setdefault(kind, {})[key] = copy.deepcopy(record)
        self._owners[kind][key] = app

    def delete(self, app: str, kind: str, key: str) -> bool:
        records = self._apps.get(app, {}).get(kind, {})
        if key not in records:
            return False
        del records[key]
        del self._owners[kind][key]
        return True

    def list(self, app: str, kind: str) -> list[dict]:
        return [copy.deepcopy(r) for r in self._apps.get(app, {}).get(kind, {}).values()]

    def owner(self, kind: str, key: str) -> str | None:
        return self._owners.get(kind, {}).get(key)

    def reset(self, app: str | None = None) -> None:
        apps = list(self._apps) if app is None else [app]
        for name in apps:
            for kind, records in self._apps.pop(name, {}).items():
                for key in records:
                    self._owners[kind].pop(key, None)
