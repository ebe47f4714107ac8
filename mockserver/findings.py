"""Findings: what the mock accepts, as the vendor does, but is probably a mistake.

An unknown body property, a filter on a field the exported object does not
have: the real API ignores them, so the mock answers as it would, and tells
the client with one `X-Mock-Warning` header per finding, an entry in the
request journal and a log line. With `--strict` a finding is refused instead
(400 in the vendor's error shape). See docs/strict-mode.md.

The validator (mockserver.validation) finds unknown body properties; behaviour
code adds its own findings through `Call.warn` (e.g. unknown filter fields).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .validation import MAX_FINDINGS, Finding

log = logging.getLogger("mockserver")
HEADER = "X-Mock-Warning"
WARNINGS = web.RequestKey("mock_warnings", list)  # the request's findings, in order


def unknown_filter_fields(obj: Any, filters: Any, path: str = "") -> list[Finding]:
    """Filter keys the exported object (a data.model.ObjectModel) has no field or attribute for,
    e.g. `stauts`: the vendor documents no error, so they are findings, not 400s."""
    if not isinstance(filters, Mapping):
        return []
    found = []
    for key in filters:
        if key == "junction" or key in obj.filter_aliases or obj.attribute(obj.filter_target(key)) is not None:
            continue
        expected = ", ".join(sorted({*obj.filter_aliases, *obj.exported}))
        found.append(Finding("body", f"{path}.{key}",
                             f"'{key}' is not a filterable field of {obj.name} (it matches no record); "
                             f"expected one of: {expected}"))
    return found[:MAX_FINDINGS]


def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: one X-Mock-Warning per finding (streamed downloads too)."""
    for finding in request.get(WARNINGS, ()):
        response.headers.add(HEADER, finding.header())


def note(request: web.Request, findings: list[Finding]) -> None:
    """Keep and log the request's findings (the caller has already refused them in strict mode)."""
    if not findings:
        return
    kept = request.get(WARNINGS)
    if kept is None:
        kept = request[WARNINGS] = []
    for finding in findings[:MAX_FINDINGS - len(kept)]:
        kept.append(finding)
        log.warning("%s %s: %s", request.method, request.path, finding.text())
