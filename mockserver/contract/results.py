"""What a contract run found: per operation and check, passes and failures.

Both sources of findings (schemathesis' built-in checks and our own) report
into one `Results`, so the text report, JUnit XML and the pytest plugin all
read the same thing.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

EXCERPT_CHARS = 600


@dataclass(frozen=True)
class Finding:
    """One failed expectation, with what a person needs to reproduce it."""

    check: str
    operation: str  # "METHOD /path/{template}", as schemathesis labels operations
    title: str
    message: str
    curl: str = ""
    status: int | None = None
    response: str = ""  # an excerpt of the offending response body

    @property
    def key(self) -> tuple[str, str, str]:
        return self.operation, self.check, self.title


@dataclass
class Results:
    """Thread-safe tally of (operation, check) → passes and findings."""

    passes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    findings: dict[tuple[str, str], list[Finding]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[tuple[str, str], str] = field(default_factory=dict)  # why a pair did not run
    errors: list[str] = field(default_factory=list)  # the run itself broke (network, schema, …)
    # shell variable in curl lines → what to set it to (a description in <>); empty: the live run's own
    variables: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def passed(self, operation: str, check: str) -> None:
        with self._lock:
            self.passes[(operation, check)] += 1

    def failed(self, finding: Finding) -> None:
        """Record a finding once; the same kind of failure on the same pair is not repeated."""
        with self._lock:
            known = self.findings[(finding.operation, finding.check)]
            if all(f.title != finding.title for f in known):
                known.append(finding)

    def skip(self, operation: str, check: str, reason: str) -> None:
        with self._lock:
            self.skipped.setdefault((operation, check), reason)

    def error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def pairs(self) -> list[tuple[str, str]]:
        """Every (operation, check) that ran or was skipped, sorted for stable reports."""
        keys = set(self.passes) | {k for k, v in self.findings.items() if v} | set(self.skipped)
        return sorted(keys)

    def outcome(self, operation: str, check: str) -> str:
        if self.findings.get((operation, check)):
            return "failed"
        if self.passes.get((operation, check)):
            return "passed"
        return "skipped" if (operation, check) in self.skipped else "not run"

    @property
    def failures(self) -> list[Finding]:
        return [f for key in sorted(self.findings) for f in self.findings[key]]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and bool(self.passes)

    def failed_checks(self) -> set[str]:
        return {f.check for f in self.failures}


def excerpt(text: str | bytes | None, limit: int = EXCERPT_CHARS) -> str:
    """The start of a response body, decoded leniently and cut to `limit` characters."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def printable(text: str) -> str:
    """Text a target or a recording supplied, as a terminal may show it: what is not printable (escape
    sequences, control characters) becomes its Python escape."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
