"""The options of a contract run, checked before anything starts.

Kept free of schemathesis imports, so `mockserver --help` stays fast and the
CLI can say what is missing when schemathesis is not installed.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class App:
    """Credentials of one tenant; `label` names the shell variable holding its token in reports.
    How they travel (headers, Basic, Bearer) is the dialect's (dialect.Credentials)."""

    app_id: str
    token: str
    label: str = "APP_TOKEN"


DEFAULT_MAX_EXAMPLES = 10
DEFAULT_WORKERS = 2  # schemathesis worker threads, where `threads_can_parse`


def threads_can_parse(version: tuple[int, ...] | None = None) -> bool:
    """Whether this CPython builds ASTs safely in two threads at once.

    Hypothesis parses source code while it generates (filters, composite strategies), so each
    schemathesis worker thread calls `ast.parse`. Until 3.11.8 and 3.12.2, CPython kept one recursion
    counter per interpreter for building ASTs; a garbage collection could hand the GIL to another parsing
    thread mid-build, and one of them failed at random with "SystemError: AST constructor recursion depth
    mismatch" (CPython gh-106905). There the kit runs one worker rather than report a random error."""
    version = version or tuple(sys.version_info[:3])
    return version >= (3, 12, 2) or (3, 11, 8) <= version < (3, 12)


ONE_WORKER_NOTE = (
    "this Python can fail schemathesis' worker threads at random (CPython gh-106905, fixed in "
    "3.11.8 and 3.12.2), so the run uses one worker"
)


def split_names(values: list[str] | None) -> list[str] | None:
    """Check names as the CLI and the pytest plugin take them: repeated, space- or comma-separated."""
    if not values:
        return None
    names = [name.strip() for value in values for name in value.replace(",", " ").split()]
    return [name for name in names if name] or None


class ContractUsageError(ValueError):
    """The options cannot describe a run (bad URL, unknown spec or check …)."""


@dataclass
class ContractOptions:
    """What `mockserver contract` and the pytest plugin ask for."""

    base_url: str
    spec: str | None = None  # a bundled vendor name, or a path to a schema folder or file (None: the default dialect's)
    app_id: str | None = None  # None: a fresh random app (fine against the mock)
    app_token: str | None = None
    other_app: tuple[str, str] | None = None  # the second tenant of tenant_isolation
    max_examples: int = DEFAULT_MAX_EXAMPLES
    checks: list[str] | None = None  # None: every applicable check
    seed: int | None = None
    workers: int = DEFAULT_WORKERS
    coverage: bool = False  # schemathesis' coverage phase: thorough, but minutes on our schemas
    poll_timeout: float = 30.0
    operations: list[str] | None = None  # operationIds schemathesis tests (default: all); our checks pick their own
    apps: tuple[App, App] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ContractUsageError(f"--base-url must be an http(s) URL, not {self.base_url!r}")
        if (self.app_id is None) != (self.app_token is None):
            raise ContractUsageError("--app-id and --app-token go together")
        if self.max_examples < 1:
            raise ContractUsageError("--max-examples must be 1 or more")
        if self.workers < 1:
            raise ContractUsageError("--workers must be 1 or more")
        if self.poll_timeout <= 0:
            raise ContractUsageError("the poll timeout must be positive")
        app_id = self.app_id or f"contract-{uuid.uuid4().hex[:12]}"
        main = App(app_id, self.app_token or uuid.uuid4().hex, "APP_TOKEN")
        other_id, other_token = self.other_app or (f"{app_id}-other", uuid.uuid4().hex)
        self.apps = (main, App(other_id, other_token, "OTHER_APP_TOKEN"))
