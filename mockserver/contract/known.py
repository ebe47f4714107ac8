"""The dialects the installed vendors speak, found through the vendor registry (entry points
`mockserver.vendors`): which contract `mockserver contract` checks by default, which names `--spec`
takes, and the dialect of a document that is not a bundled vendor's, recognised by its credentials.
The dialect itself (dialect.py) is data and knows no registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import registry
from ..spec import schemas_dir
from .dialect import BASIC, HEADER, HEADERS, Dialect


def known_dialects() -> dict[str, Dialect]:
    """Every installed vendor's dialect, by vendor name: through the vendor registry (entry points
    `mockserver.vendors`), each vendor class's `contract`."""
    found = {}
    for vendor in registry.available().values():
        dialect = getattr(vendor, "contract", None)
        if isinstance(dialect, Dialect):
            found[dialect.name] = dialect
    return found


def no_dialect_reason() -> str:
    """Why our checks cannot run on a contract that speaks no known dialect (they appear SKIPPED with it)."""
    known = ", ".join(sorted(known_dialects())) or "none installed"
    return (
        "the contract's authentication matches no dialect the kit knows (recognised by header names, Basic "
        f"or Bearer: {known}), so it cannot tell this API's exports, errors or tenants"
    )


def default_contract() -> str | None:
    """The contract `mockserver contract` checks without --spec: the dialect that says it is the default."""
    dialects = known_dialects()
    return next((name for name, d in dialects.items() if d.default_contract), next(iter(dialects), None))


def bundled_contracts() -> list[str]:
    """The contracts `--spec NAME` takes: the installed vendors with a dialect, and the bundled schema folders."""
    folders = {p.name for p in schemas_dir().iterdir() if (p / "openapi.yaml").is_file()}
    return sorted(folders | set(known_dialects()))


def dialect_for(document: dict[str, Any], name: str | None = None) -> Dialect | None:
    """The dialect of a contract: the bundled vendor `name`, else recognised by how the document says an
    app authenticates (header names; the Basic or Bearer scheme's name), whatever it calls its security
    schemes; the dialect comes back with the document's scheme names."""
    schemes = (document.get("components") or {}).get("securitySchemes") or document.get("securityDefinitions") or {}

    def named(header: str) -> str | None:
        return next(
            (
                key
                for key, scheme in schemes.items()
                if isinstance(scheme, dict)
                and scheme.get("type") == "apiKey"
                and scheme.get("in") == "header"
                and str(scheme.get("name", "")).lower() == header.lower()
            ),
            None,
        )

    def http(kind: str) -> str | None:
        allowed = (("http", kind),) + ((("basic", ""),) if kind == BASIC else ())  # OpenAPI 3, Swagger 2.0
        return next(
            (
                key
                for key, scheme in schemes.items()
                if isinstance(scheme, dict) and (scheme.get("type"), str(scheme.get("scheme", "")).lower()) in allowed
            ),
            None,
        )

    dialects = known_dialects()
    candidates = [dialects[name]] if name in dialects else list(dialects.values())
    for dialect in candidates:
        creds = dialect.credentials
        if creds.kind == HEADERS:
            id_key, token_key = named(creds.id_header), named(creds.token_header)
            if id_key and token_key:
                return replace(dialect, credentials=replace(creds, id_scheme=id_key, token_scheme=token_key))
            continue
        if creds.kind == HEADER:
            token_key = named(creds.token_header)
            if token_key and name in dialects:
                return replace(dialect, credentials=replace(creds, token_scheme=token_key))
            continue
        found = http(creds.kind)
        if found is not None and (name in dialects or creds.scheme in schemes):
            return replace(dialect, credentials=replace(creds, scheme=found))
    return None


def dialect_of(spec: Any) -> Dialect | None:
    """The dialect a contract (a loaded Spec) speaks: its vendor's when it is a bundled one, else the one
    recognised by its auth (a vendor of data's comes with its spec)."""
    return getattr(spec, "dialect", None) or dialect_for(spec.document, spec.name)
