"""The `Prefer` request header, parsed and checked once per request.

Prism-compatible preferences answer straight from the spec:

    Prefer: code=404              a documented status, with its example or a generated body
    Prefer: example=<name>        a named example of the response
    Prefer: dynamic=true          a body generated from the response schema

Ours steer a real export on the operations that create one:

    Prefer: outcome=error         the export ends in ERROR instead of DONE
    Prefer: rows=N                the CSV has N rows
    Prefer: lifecycle=instant     instant | poll | time, for this export only

and `Prefer: delay=<ms>` waits before answering any operation. Preferences are
separated by commas (RFC 7240); `;` is accepted too. Anything unknown or
impossible is refused with a 400 that says what is allowed, so a typo never
silently does nothing.

The parser is ours: no well-kept library parses RFC 7240 (the standard
library and aiohttp do not), the grammar is a few lines, and the checks
against the operation are the part that matters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiohttp import web

from ..errors import ApiError
from ..lifecycle import MODES

MAX_DELAY_MS = 60_000
MAX_ROWS = 1_000_000
SPEC_KNOBS = ("code", "example", "dynamic")
EXPORT_KNOBS = ("outcome", "rows", "lifecycle")
KNOBS = (*SPEC_KNOBS, *EXPORT_KNOBS, "delay")
OUTCOMES = {"done": "done", "error": "failed"}  # Prefer value → lifecycle phase the export ends in


@dataclass(frozen=True)
class Prefer:
    """What one request asked for; every field None/False when it asked nothing."""

    code: int | None = None
    example: str | None = None
    dynamic: bool = False
    outcome: str | None = None  # lifecycle phase: done | failed
    rows: int | None = None
    delay_ms: int = 0
    lifecycle: str | None = None

    @property
    def from_spec(self) -> bool:
        """Whether the answer comes from the spec rather than from behaviour."""
        return self.code is not None or self.example is not None or self.dynamic


NOTHING = Prefer()
PREFER = web.RequestKey("prefer", Prefer)


def creates_export(handler):
    """Mark a vendor handler as one that creates an export, so the export
    preferences (outcome, rows, lifecycle) are allowed on its operation."""
    handler.creates_export = True
    return handler


def parse(
    headers: Iterable[str], *, creates_export: bool, stateless: bool = False, words: Mapping[str, str] | None = None
) -> Prefer:
    """Turn the request's Prefer header(s) into a Prefer; ApiError(400) when
    a preference is unknown, malformed, repeated or impossible here. `words`: the
    vendor's status word → lifecycle phase (Vendor.status_names), which `outcome`
    takes too (outcome=failed, outcome=ERROR …)."""
    pairs = _pairs(headers)
    if not pairs:
        return NOTHING
    values: dict = {}
    for name, value in pairs:
        if name not in KNOBS:
            raise invalid_prefer(f"Unknown preference {name!r}; allowed: {', '.join(KNOBS)}")
        if name in values:
            raise invalid_prefer(f"Preference {name!r} is given more than once")
        values[name] = _convert(name, value, words or {})
    export_knobs = [name for name in EXPORT_KNOBS if name in values]
    if export_knobs and not creates_export:
        raise invalid_prefer(f"Preference {export_knobs[0]!r} applies only to operations that create an export")
    if export_knobs and stateless:
        raise invalid_prefer(f"Preference {export_knobs[0]!r} needs a stateful server; this one runs --stateless")
    spec_knobs = [name for name in SPEC_KNOBS if name in values]
    if export_knobs and spec_knobs:
        raise invalid_prefer(
            f"Preference {export_knobs[0]!r} steers a real export and cannot be combined with "
            f"{spec_knobs[0]!r}, which answers from the spec"
        )
    if "delay" in values:
        values["delay_ms"] = values.pop("delay")
    return Prefer(**values)


def _pairs(headers: Iterable[str]) -> list[tuple[str, str]]:
    pairs = []
    for header in headers:
        for item in header.replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if not sep or not value:
                raise invalid_prefer(f"Preference {name!r} needs a value, as in {name}=<value>")
            pairs.append((name, value))
    return pairs


def _convert(name: str, value: str, words: Mapping[str, str]):
    if name == "code":
        return _integer(name, value, 100, 599)
    if name == "rows":
        return _integer(name, value, 0, MAX_ROWS)
    if name == "delay":
        return _integer(name, value, 0, MAX_DELAY_MS)
    if name == "dynamic":
        if value.lower() not in ("true", "false"):
            raise invalid_prefer("Preference 'dynamic' must be true or false")
        return value.lower() == "true"
    if name == "outcome":
        outcomes = {**{w.lower(): p for w, p in words.items() if p in OUTCOMES.values()}, **OUTCOMES}
        if value.lower() not in outcomes:
            raise invalid_prefer(f"Preference 'outcome' must be one of: {', '.join(outcomes)}")
        return outcomes[value.lower()]
    if name == "lifecycle":
        if value.lower() not in MODES:
            raise invalid_prefer(f"Preference 'lifecycle' must be one of: {', '.join(MODES)}")
        return value.lower()
    return value  # example: a name, checked against the spec by the answerer


def _integer(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise invalid_prefer(f"Preference {name!r} must be a whole number from {low} to {high}, not {value!r}")
    return int(value)


def invalid_prefer(details: str) -> ApiError:
    return ApiError(400, "invalid_prefer_header", "Invalid Prefer header", details)
