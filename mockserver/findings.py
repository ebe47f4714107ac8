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


def filter_findings(obj: Any, filters: Any, path: str = "") -> list[Finding]:
    """What an export's filters ask that the vendor documents no error for, though it is
    probably a mistake: a key the exported object (a data.model.ObjectModel) has no field
    or attribute for (e.g. `stauts`), and a text operand for a number or boolean field,
    which the mock reads in the field's type (data.filters)."""
    if not isinstance(filters, Mapping):
        return []
    found = []
    for key, condition in filters.items():
        if key == "junction":
            continue
        ignored = obj.filter_ignored(key)
        if ignored:
            found.append(
                Finding("body", f"{path}.{key}", f"'{key}' is not applied (the file is not filtered by it): {ignored}")
            )
            continue
        attribute = obj.attribute(obj.filter_target(key))
        if attribute is None and key in obj.filter_aliases:  # declared by the schema, whatever it reads
            continue
        if attribute is None:
            expected = ", ".join(sorted({*obj.filter_aliases, *obj.exported}))
            found.append(
                Finding(
                    "body",
                    f"{path}.{key}",
                    f"'{key}' is not a filterable field of {obj.name} (it matches no record); "
                    f"expected one of: {expected}",
                )
            )
            continue
        kind = _OPERAND_KINDS.get(attribute.type) if not attribute.is_date else None
        conditions = condition.get("conditions") if isinstance(condition, Mapping) else None
        if kind is None or not isinstance(conditions, Mapping):
            continue
        for op, operand in conditions.items():
            if op in _TYPELESS:
                continue
            text = next(
                (item for item in (operand if isinstance(operand, list) else [operand]) if isinstance(item, str)), None
            )
            if text is not None:
                found.append(
                    Finding(
                        "body",
                        f"{path}.{key}.conditions.{op}",
                        f"{text[:40]!r} is text, but {key} is a {kind}: the mock reads it as a {kind} "
                        f"(and matches nothing if it does not read as one); send a JSON {kind}",
                    )
                )
    return found[:MAX_FINDINGS]


_OPERAND_KINDS = {"integer": "number", "number": "number", "boolean": "boolean"}
_TYPELESS = ("$is_unknown", "$has_value")  # take true/false whatever the field's type


def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: one X-Mock-Warning per finding (streamed downloads too)."""
    for finding in found(request):
        response.headers.add(HEADER, finding.header())


NONE: tuple[()] = ()  # what the app's front middleware files for each request before any finding


def found(request: web.Request) -> list[Finding] | tuple[()]:
    """The request's findings so far. The app's front middleware files NONE for every request, since a
    Request's `in`, `get` or `[]` of a missing key raises and catches a KeyError (~1.4 µs) and this is
    asked twice per answer (the journal, the X-Mock-Warning headers); a request built elsewhere has none."""
    try:
        return request[WARNINGS]
    except KeyError:
        return NONE


def note(request: web.Request, findings: list[Finding]) -> None:
    """Keep and log the request's findings (the caller has already refused them in strict mode)."""
    if not findings:
        return
    kept = found(request)
    if kept is NONE:
        kept = request[WARNINGS] = []
    for finding in findings[: MAX_FINDINGS - len(kept)]:
        kept.append(finding)
        log.warning("%s %s: %s", request.method, request.path, finding.text())
