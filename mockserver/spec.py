"""Load a vendor's OpenAPI document once, resolve it, and describe its operations.

Everything per-request code needs from the spec (routes, parameter and body
validators, response schemas) is computed here at start-up, so a request only
looks things up.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

from .documents import HTTP_METHODS, load_document, read_folder

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "Parameter",
    "Spec",
    "bundled_spec",
    "bundled_specs",
    "load_document",
    "load_spec",
    "resolve",
    "schemas_dir",
    "spec_from_document",
]
SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


def schemas_dir() -> Path:
    """Where the bundled schemas live (next to the package, or installed with it)."""
    installed = Path(__file__).resolve().parent / "schemas"
    return installed if installed.is_dir() else SCHEMAS_DIR


def bundled_specs() -> tuple[str, ...]:
    """Names of the bundled schema folders (each has an openapi.yaml), sorted."""
    return tuple(sorted(folder.name for folder in schemas_dir().iterdir() if (folder / "openapi.yaml").is_file()))


def resolve(doc: dict[str, Any]) -> dict[str, Any]:
    """Inline every local `$ref` and turn OpenAPI 3.0 `nullable` into JSON Schema.

    The result shares sub-objects between the places that referenced them, so
    it costs little memory; our schemas have no recursive references.
    """
    doc = copy.deepcopy(doc)
    cache: dict[str, Any] = {}

    def target(ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, not {ref!r}")
        if ref not in cache:
            node: Any = doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            cache[ref] = None  # marks "being resolved" to catch cycles
            cache[ref] = walk(node)
        elif cache[ref] is None:
            raise ValueError(f"recursive $ref {ref!r} is not supported")
        return cache[ref]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node and isinstance(node["$ref"], str):
                return target(node["$ref"])
            out = {key: walk(value) for key, value in node.items()}
            if out.get("nullable") is True:
                _make_nullable(out)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    resolved = walk(doc)
    # discriminator mappings name schemas by $ref string: swap in the schemas
    for schema in _all_dicts(resolved):
        mapping = (schema.get("discriminator") or {}).get("mapping")
        if mapping:
            schema["discriminator"] = dict(schema["discriminator"])
            schema["discriminator"]["mapping"] = {key: target(ref) for key, ref in mapping.items()}
    return resolved


def _path_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{pattern}$")


def _make_nullable(schema: dict) -> None:
    """OpenAPI 3.0 `nullable: true` → JSON Schema that also takes null."""
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
    elif kind is None and "enum" not in schema:
        # composed schemas (allOf/anyOf/oneOf) carry no type of their own
        rest = {key: value for key, value in schema.items() if key not in ("nullable", "description")}
        for key in rest:
            del schema[key]
        schema["anyOf"] = [{"type": "null"}, rest]


def _all_dicts(node: Any):
    seen: set[int] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True, eq=False)
class Operation:
    """One method on one path, as the spec describes it (hashed by identity: what is compiled from it is
    cached by it)."""

    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body_required: bool
    body_schemas: dict[str, dict[str, Any]]  # media type -> schema
    responses: dict[str, dict[str, Any]]  # status -> {media type -> schema}
    security: tuple[dict[str, list], ...]  # alternatives; each maps scheme name -> scopes
    raw: dict[str, Any] = field(repr=False, compare=False)

    @cached_property
    def secured(self) -> bool:
        """Asked by every request: worked out once (cached_property writes the instance's __dict__)."""
        return any(requirement for requirement in self.security)


@dataclass
class Spec:
    """A vendor's contract: the merged document, its resolved form and operations."""

    name: str
    document: dict[str, Any]
    resolved: dict[str, Any]
    operations: list[Operation]
    dialect: Any = field(default=None, repr=False)  # the contract kit's dialect, when its loader knows it

    @cached_property
    def text(self) -> str:
        """The document as JSON text, made once per Spec (read-only after loading): every app built on it
        looks names up in it, and dumping Stripe's document costs 2.5 ms an app."""
        return json.dumps(self.document, default=str)

    @property
    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return self.resolved.get("components", {}).get("securitySchemes", {})

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def schema(self, name: str) -> dict[str, Any]:
        """A resolved component schema by name."""
        return self.resolved["components"]["schemas"][name]

    def match(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request path belongs to (fixed paths win)."""
        candidates = [op for op in self.operations if op.method == method.upper() and _path_regex(op.path).match(path)]
        candidates.sort(key=lambda op: op.path.count("{"))
        return candidates[0] if candidates else None

    def check_response(self, operation: Operation, status: int, media_type: str | None, body: Any) -> None:
        """Raise if a response is not one the spec documents (tests and the contract kit use this)."""
        documented = operation.responses.get(str(status), operation.responses.get("default"))
        if documented is None:
            raise AssertionError(f"{operation.operation_id}: status {status} is not documented")
        if not documented:
            if body not in (None, b"", ""):
                raise AssertionError(f"{operation.operation_id}: {status} documents no body")
            return
        if media_type not in documented:
            raise AssertionError(f"{operation.operation_id}: {status} documents {list(documented)}, not {media_type}")
        if media_type == "application/json":
            Draft7Validator(documented[media_type], format_checker=FormatChecker()).validate(body)


def load_spec(name: str, directory: Path | None = None) -> Spec:
    """Load `schemas/<name>/` (or another folder) into a Spec: its files bundled, its overlays applied
    (mockserver.documents; a bad one raises DocumentError naming the file)."""
    folder = read_folder(directory or schemas_dir() / name)
    return spec_from_document(name, folder.document, folder.openapi3)


@cache
def bundled_spec(name: str) -> Spec:
    """A bundled vendor's Spec, loaded once per process and shared by every app built in it (a Spec is
    read-only after loading; tests that build many apps keep one copy, not one per app)."""
    return load_spec(name)


def spec_from_document(name: str, document: dict[str, Any], openapi3: dict[str, Any] | None = None) -> Spec:
    """A Spec of one already-loaded document (e.g. a single-file contract); `openapi3`: its OpenAPI 3
    form to read operations from when `document` is kept as written in another (Swagger 2)."""
    resolved = resolve(document if openapi3 is None else openapi3)
    return Spec(name=name, document=document, resolved=resolved, operations=_operations(resolved))


def _operations(resolved: dict[str, Any]) -> list[Operation]:
    global_security = resolved.get("security") or []
    operations = []
    for path, item in (resolved.get("paths") or {}).items():
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = {(p["name"], p["in"]): p for p in [*shared, *(op.get("parameters") or [])]}
            body = op.get("requestBody") or {}
            responses = {
                str(status): {ctype: media.get("schema", {}) for ctype, media in (resp.get("content") or {}).items()}
                for status, resp in (op.get("responses") or {}).items()
            }
            security = op.get("security", global_security)
            operations.append(
                Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    parameters=tuple(
                        Parameter(p["name"], p["in"], bool(p.get("required")), p.get("schema", {}))
                        for p in params.values()
                    ),
                    body_required=bool(body.get("required")),
                    body_schemas={
                        ctype: media.get("schema", {}) for ctype, media in (body.get("content") or {}).items()
                    },
                    responses=responses,
                    security=tuple(security),
                    raw=op,
                )
            )
    return operations
