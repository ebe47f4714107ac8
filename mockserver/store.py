"""Where the mock keeps what clients create, behind one small interface.

Records are JSON-like dicts filed by (app id, kind, key): kinds are
"exports", "credentials" and whatever later features add. Keys are unique per
kind across apps, so a download token can find its export's owner. Every
backend (memory, SQLite, Redis) passes the same contract tests.

Several processes may share one persistent store (`serve --workers N`, or
replicas on one Redis), so every write that depends on what is stored is one
atomic step of the backend: `put` refuses another app's key, `add` stores
only a key nobody has (new ids, first-use bindings), `replace` only a record
that still exists (so a lifecycle step never brings back a deleted export).
Counters (`counter`/`incr`) are kept apart from records and survive `reset`:
the mock clock's offset and the id streams of the processes live there.
`shared` says whether other processes may see the store.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from itertools import islice
from types import MappingProxyType
from typing import Any, Protocol


class Store(Protocol):
    def get(self, app: str, kind: str, key: str) -> dict | None: ...
    def put(self, app: str, kind: str, key: str, record: dict) -> None: ...
    def delete(self, app: str, kind: str, key: str) -> bool: ...
    def list(self, app: str, kind: str) -> list[dict]: ...
    def owner(self, kind: str, key: str) -> str | None: ...
    def reset(self, app: str | None = None) -> None: ...
    def add(self, app: str, kind: str, key: str, record: dict) -> bool: ...
    def replace(self, app: str, kind: str, key: str, record: dict) -> bool: ...
    def count(self, app: str, kind: str) -> int: ...
    def trim(self, app: str, kind: str, keep: int) -> int: ...
    def counter(self, name: str) -> float: ...
    def incr(self, name: str, amount: float = 1) -> float: ...


class MemoryStore:
    """The default store: a dict per app, copies in and out so no caller can
    change a stored record behind the store's back. A record is kept pickled
    (a deep copy that is quicker to make and smaller to keep than a dict),
    beside its top-level scalars for `summaries`."""

    shared = False  # one process's memory

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # a subclass that changes what get or list give would be bypassed by summaries: it has none
        if ("get" in cls.__dict__ or "list" in cls.__dict__) and "summaries" not in cls.__dict__:
            cls.summaries = None

    def __init__(self) -> None:
        self._apps: dict[str, dict[str, dict[str, dict]]] = {}
        self._owners: dict[str, dict[str, str]] = {}
        self._counters: dict[str, float] = {}

    def get(self, app: str, kind: str, key: str) -> dict | None:
        kept = self._apps.get(app, {}).get(kind, {}).get(key)
        return _thaw(kept[0]) if kept is not None else None

    def put(self, app: str, kind: str, key: str, record: dict) -> None:
        owner = self._owners.setdefault(kind, {}).get(key)
        if owner is not None and owner != app:
            raise KeyError(f"{kind} {key} belongs to another app")
        self._apps.setdefault(app, {}).setdefault(kind, {})[key] = (_freeze(record), _scalars(record))
        self._owners[kind][key] = app

    def delete(self, app: str, kind: str, key: str) -> bool:
        records = self._apps.get(app, {}).get(kind, {})
        if key not in records:
            return False
        del records[key]
        del self._owners[kind][key]
        return True

    def list(self, app: str, kind: str) -> list[dict]:
        return [_thaw(kept[0]) for kept in self._apps.get(app, {}).get(kind, {}).values()]

    def summaries(self, app: str, kind: str) -> list[Mapping[str, Any]]:
        """Each record's top-level scalar properties (strings, numbers, booleans,
        nulls), in `list` order, read-only: a cheap look over many records,
        without copying any. Only this store has it; callers fall back to `list`."""
        return [kept[1] for kept in self._apps.get(app, {}).get(kind, {}).values()]

    def owner(self, kind: str, key: str) -> str | None:
        return self._owners.get(kind, {}).get(key)

    def reset(self, app: str | None = None) -> None:
        apps = list(self._apps) if app is None else [app]
        for name in apps:
            for kind, records in self._apps.pop(name, {}).items():
                for key in records:
                    self._owners[kind].pop(key, None)

    def add(self, app: str, kind: str, key: str, record: dict) -> bool:
        """Store a record under a key no app has yet; False (nothing stored) when one has."""
        if key in self._owners.get(kind, {}):
            return False
        self.put(app, kind, key, record)
        return True

    def replace(self, app: str, kind: str, key: str, record: dict) -> bool:
        """Update a record the app has; False (nothing stored) when it has none (any more)."""
        if key not in self._apps.get(app, {}).get(kind, {}):
            return False
        self.put(app, kind, key, record)
        return True

    def count(self, app: str, kind: str) -> int:
        return len(self._apps.get(app, {}).get(kind, {}))

    def trim(self, app: str, kind: str, keep: int) -> int:
        """Delete the app's oldest records of `kind` (by first storing) until `keep` are left; how many went."""
        records = self._apps.get(app, {}).get(kind, {})
        gone = list(islice(records, max(0, len(records) - keep)))
        for key in gone:
            self.delete(app, kind, key)
        return len(gone)

    def counter(self, name: str) -> float:
        return self._counters.get(name, 0)

    def incr(self, name: str, amount: float = 1) -> float:
        """Add `amount` to a named counter (0 when new) and return the new value."""
        self._counters[name] = self._counters.get(name, 0) + amount
        return self._counters[name]


def _freeze(record: dict) -> Any:
    """A stored, independent copy of `record`: pickled, or deep-copied when it cannot be."""
    try:
        return pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(record)


_SCALARS = (str, int, float, bool, type(None))


def _scalars(record: dict) -> Mapping[str, Any]:
    if not isinstance(record, dict):
        return MappingProxyType({})
    return MappingProxyType({name: value for name, value in record.items() if type(value) in _SCALARS})


def _thaw(stored: Any) -> dict:
    """A fresh copy of a stored record, for the caller to keep or change."""
    return pickle.loads(stored) if type(stored) is bytes else copy.deepcopy(stored)
