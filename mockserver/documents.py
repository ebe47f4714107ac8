"""Read an API's documents from a folder: the OpenAPI document, its parts and its overlays.

A folder is either ours (schemas/<vendor>/: `openapi.yaml` whose relative `$ref`s name
paths and components in the YAML files beside it, bundled by mockserver.bundling) or a
vendor's document as published (YAML or JSON; OpenAPI 3.0/3.1 or Swagger 2.0, any file
name) beside one or more OpenAPI Overlay 1.0
files (`overlay: 1.0.0`, `actions: [{target, update | remove}]`) that add our `x-mock`
annotations without editing it. Overlays apply in file-name order, targets are RFC 9535
JSONPath queries (jsonpath-rfc9535) and every problem names its file: a bad folder is
one clear line, never a traceback.

The lowest layer of the spec loader: mockserver.spec reads through it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bundling import BundleError, bundle

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")
# LibYAML's parser when PyYAML has it (the same documents, several times faster: most of start-up)
SCHEMA_KEYS = (
    "type",
    "format",
    "enum",
    "items",
    "minimum",
    "maximum",
    "pattern",
    "default",
    "minLength",
    "maxLength",
    "collectionFormat",
)


class DocumentError(ValueError):
    """A folder, document or overlay that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class Folder:
    """What a folder holds: the document as published with the overlays applied (what schemathesis and
    other tools read), and its OpenAPI 3 form for our loader (None: the document is that already)."""

    document: dict[str, Any]
    openapi3: dict[str, Any] | None
    overlays: tuple[Path, ...]

    @property
    def annotated(self) -> bool:
        """Whether overlays made this a vendor of data (the generic engine serves it)."""
        return bool(self.overlays)


def load_yaml(text: str) -> Any:
    """yaml.safe_load(text), with LibYAML's parser when there is one. PyYAML is imported here: a folder
    read back from the cache (read_folder) is parsed by none, so a server starts without it."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def read_file(path: Path) -> Any:
    """A YAML or JSON file's data; DocumentError naming the file when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if path.suffix == ".json":
        parse, errors = json.loads, (ValueError,)
    else:
        import yaml

        parse, errors = load_yaml, (ValueError, yaml.YAMLError)
    try:
        return parse(text)
    except errors as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}{line}: {problem}"
        ) from None


_OVERLAY = re.compile(r'^overlay\s*:|"overlay"\s*:', re.MULTILINE)


def is_data_folder(folder: Path) -> bool:
    """Whether a folder holds an overlay (so the generic engine serves it, with no Python of its own).
    A look at the text, not a parse: the registry asks it of every bundled folder at start-up."""
    if not folder.is_dir():
        return False
    for path in _files(folder):
        try:
            if _OVERLAY.search(path.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def load_document(vendor_dir: Path) -> dict[str, Any]:
    """The folder's document bundled (only local `$ref`s) with its overlays applied."""
    return read_folder(vendor_dir).document


def read_folder(folder: Path) -> Folder:
    """Read `folder`: its OpenAPI document (its `$ref`s to the files beside it bundled), then its overlays in
    name order.

    The result is kept on disk (`cache_dir()`) under a key made of every file's name and bytes and
    of this module's and the bundler's: parsing the YAML and validating an overlaid document are
    most of a vendor's start-up, and a server (each of its workers) starts with the same files."""
    if not folder.is_dir():
        raise DocumentError(f"{folder}: no such folder")
    key = _folder_key(folder)
    cached = _cache_read(key)
    if isinstance(cached, Folder):
        return cached
    found = _read_folder(folder)
    _cache_write(key, found)
    return found


def cache_dir() -> Path | None:
    """Where parsed folders are kept: $MOCKSERVER_CACHE, else $XDG_CACHE_HOME/mockserver or
    ~/.cache/mockserver; `MOCKSERVER_CACHE=off` keeps none."""
    chosen = os.environ.get("MOCKSERVER_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "mockserver")


def _folder_key(folder: Path) -> str:
    """What a folder's reading depends on: its files' names and bytes, and the code that reads them
    (hashing a vendor's files takes a millisecond or two; a time stamp could miss a quick rewrite)."""
    digest = hashlib.sha256(f"{folder.resolve()}\0".encode())
    for path in (Path(__file__), Path(__file__).with_name("bundling.py"), *_files(folder)):
        try:
            digest.update(f"\0{path.name}\0".encode() + path.read_bytes())
        except OSError:
            digest.update(f"\0{path.name}\0unreadable".encode())  # read_file says what is wrong
    return digest.hexdigest()[:32]


def _cache_read(key: str) -> Any:
    where = cache_dir()
    if where is None:
        return None
    try:
        with open(where / f"folder-{key}.pickle", "rb") as file:
            return pickle.load(file)  # noqa: S301 - our own file, written below
    except Exception:  # noqa: BLE001 - missing, unreadable or from another version: read the folder
        return None


def _cache_write(key: str, found: Folder) -> None:
    """Written to a temporary file and renamed: a process (or worker) reading it meanwhile sees all or none."""
    where = cache_dir()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=".folder-", delete=False) as file:
            pickle.dump(found, file, pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, where / f"folder-{key}.pickle")
    except (OSError, pickle.PicklingError):  # a read-only home: no cache, the same result
        return


def _read_folder(folder: Path) -> Folder:
    documents, parts, overlays = [], [], []
    for path in _files(folder):
        data = read_file(path)
        kind = _kind(path, data)
        if kind == "overlay":
            overlays.append((path, data))
        elif kind == "document":
            documents.append((path, data))
        elif isinstance(data, dict):
            parts.append((path, data))
    main = [item for item in documents if item[0].name == "openapi.yaml"] or documents
    if not main:
        raise DocumentError(
            f"{folder}: no OpenAPI document (a YAML or JSON file with `openapi:` or `swagger:` at its top)"
        )
    if len(main) > 1:
        raise DocumentError(
            f"{folder}: more than one OpenAPI document ({', '.join(p.name for p, _ in main)}); keep one per folder"
        )
    path, _ = main[0]
    parsed = {file.resolve(): data for file, data in [*documents, *parts]}
    try:
        document, referenced = bundle(path, lambda file: parsed[file] if file in parsed else read_file(file))
    except BundleError as exc:
        raise DocumentError(str(exc)) from None
    for part_path, part in parts:
        if part_path.resolve() not in referenced and ("paths" in part or "components" in part):
            raise DocumentError(
                f"{part_path}: not referenced by {path.name} (list its paths and components there "
                f"with $ref: './{part_path.name}#/...')"
            )
    for overlay_path, overlay in overlays:
        document = apply_overlay(document, overlay, overlay_path)
    if overlays:
        validate_document(document, path)
    swagger = str(document.get("swagger", "")).startswith("2")
    openapi3 = as_openapi3(document) if swagger or overlays else None
    return Folder(document=document, openapi3=openapi3, overlays=tuple(p for p, _ in overlays))


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.suffix in DOCUMENT_SUFFIXES and path.is_file())


def _kind(path: Path, data: Any = None) -> str:
    """document | overlay | part, by the file's top-level keys."""
    if data is None:
        try:
            data = read_file(path)
        except DocumentError:
            return "part"
    if isinstance(data, dict) and "overlay" in data:
        return "overlay"
    if isinstance(data, dict) and ("openapi" in data or "swagger" in data):
        return "document"
    return "part"


# -- OpenAPI Overlay 1.0 ----------------------------------------------------------------------
def apply_overlay(document: dict[str, Any], overlay: Any, source: Path | str) -> dict[str, Any]:
    """`document` with the overlay's actions applied in order: `update` merges into every node the
    target selects (objects recursively, arrays appended), `remove: true` deletes them. A target that
    selects nothing is refused: a typo in a path would otherwise silently do nothing."""
    import jsonpath_rfc9535 as jsonpath  # noqa: PLC0415 - only folders with an overlay pay for it

    if not isinstance(overlay, dict) or not str(overlay.get("overlay", "")).startswith("1."):
        raise DocumentError(f"{source}: not an OpenAPI Overlay 1.x document (`overlay: 1.0.0` at its top)")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise DocumentError(f"{source}: `actions` must be a non-empty list")
    document = copy.deepcopy(document)
    for number, action in enumerate(actions, 1):
        where = f"{source}: action {number}"
        if not isinstance(action, dict) or not isinstance(action.get("target"), str):
            raise DocumentError(f"{where}: needs a `target` (a JSONPath such as $.paths['/exports'].post)")
        target = action["target"]
        remove, update = action.get("remove", False), action.get("update")
        if bool(remove) == (update is not None):
            raise DocumentError(f"{where} ({target}): needs exactly one of `update` or `remove: true`")
        try:
            nodes = list(jsonpath.find(target, document))
        except Exception as exc:  # noqa: BLE001 - the library's syntax errors, worded by it
            raise DocumentError(f"{where}: {target!r} is not a JSONPath: {exc}") from None
        if not nodes:
            raise DocumentError(f"{where}: {target} selects nothing in the document")
        if remove:
            for node in sorted(nodes, key=lambda n: str(n.location), reverse=True):  # later list items first
                parent = _at(document, node.location[:-1])
                key = node.location[-1] if node.location else None
                if key is None:
                    raise DocumentError(f"{where}: the document itself cannot be removed")
                del parent[key]
            continue
        for node in nodes:
            value = node.value
            if isinstance(value, dict) and isinstance(update, dict):
                _deep_merge(value, copy.deepcopy(update))
            elif isinstance(value, list):
                value.extend(copy.deepcopy(update) if isinstance(update, list) else [copy.deepcopy(update)])
            else:
                raise DocumentError(
                    f"{where}: {target} selects a {type(value).__name__}; `update` merges into "
                    "objects and appends to arrays"
                )
    return document


def _at(document: Any, location: tuple) -> Any:
    for key in location:
        document = document[key]
    return document


def _deep_merge(target: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key].extend(value)
        else:
            target[key] = value


def validate_document(document: dict[str, Any], source: Path) -> None:
    """The document (overlays applied) checked by openapi-spec-validator (2.0, 3.0 and 3.1), but for the
    `default` values: vendors publish defaults their own schemas do not allow (Voucherify's publication
    export fields default to `code`, which its fields enum lacks), and a mock serves a document as its
    vendor publishes it."""
    from openapi_spec_validator import validate  # noqa: PLC0415 - a second of imports, for folders only
    from openapi_spec_validator.shortcuts import get_validator_cls  # noqa: PLC0415
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError  # noqa: PLC0415

    try:
        checker = get_validator_cls(document)
        lenient = type(
            checker.__name__,
            (checker,),
            {"keyword_validators": {**checker.keyword_validators, "default": _AnyDefault}},
        )
        validate(document, cls=lenient)
    except OpenAPIValidationError as exc:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.path) or "the top"
        raise DocumentError(
            f"{source}: not a valid OpenAPI document at {path}: {exc.message.splitlines()[0]}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a $ref to nowhere, worded by the validator
        raise DocumentError(f"{source}: not a valid OpenAPI document: {str(exc).splitlines()[0]}") from None


# -- Swagger 2.0 → the OpenAPI 3 shape our loader reads ---------------------------------------
def as_openapi3(document: dict[str, Any]) -> dict[str, Any]:
    """A copy in the shape mockserver.spec reads: Swagger 2.0 converted, every operation named
    (`GET /path` when it has no operationId); the original is left as it is."""
    document = copy.deepcopy(document)
    if str(document.get("swagger", "")).startswith("2"):
        document = _from_swagger2(document)
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = (item or {}).get(method)
            if isinstance(operation, dict) and not operation.get("operationId"):
                operation["operationId"] = f"{method.upper()} {path}"
    return document


def _from_swagger2(document: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(document).replace('"#/definitions/', '"#/components/schemas/')
    document = json.loads(text)
    produces = document.get("produces") or ["application/json"]
    consumes = document.get("consumes") or ["application/json"]
    paths: dict[str, Any] = {}
    for path, item in (document.get("paths") or {}).items():
        converted: dict[str, Any] = {}
        if item.get("parameters"):
            converted["parameters"] = [_parameter(p) for p in item["parameters"] if p.get("in") != "body"]
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            operation = dict(operation)
            parameters = operation.get("parameters") or []
            body = next((p for p in parameters if p.get("in") == "body"), None)
            operation["parameters"] = [_parameter(p) for p in parameters if p.get("in") not in ("body", "formData")]
            if body is not None:
                media = operation.get("consumes") or consumes
                operation["requestBody"] = {
                    "required": bool(body.get("required")),
                    "content": {m: {"schema": body.get("schema", {})} for m in media},
                }
            responses = {}
            for status, response in (operation.get("responses") or {}).items():
                response = dict(response)
                schema = response.pop("schema", None)
                if schema is not None:
                    response["content"] = {m: {"schema": schema} for m in operation.get("produces") or produces}
                responses[str(status)] = response
            operation["responses"] = responses
            converted[method] = operation
        paths[path] = converted
    components = {
        "schemas": document.get("definitions") or {},
        "securitySchemes": {
            name: _scheme(scheme) for name, scheme in (document.get("securityDefinitions") or {}).items()
        },
    }
    servers = [{"url": document.get("basePath") or "/"}] if document.get("basePath") else []
    extras = {key: value for key, value in document.items() if key.startswith("x-")}
    return {
        "openapi": "3.0.3",
        "info": document.get("info") or {},
        "paths": paths,
        "components": components,
        **({"servers": servers} if servers else {}),
        **({"security": document["security"]} if "security" in document else {}),
        **extras,
    }


def _scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    """A Swagger 2.0 security definition in OpenAPI 3 words (basic → http basic)."""
    if isinstance(scheme, dict) and scheme.get("type") == "basic":
        return {**{k: v for k, v in scheme.items() if k != "type"}, "type": "http", "scheme": "basic"}
    return scheme


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    if "schema" in parameter:
        return parameter
    schema = {key: parameter[key] for key in SCHEMA_KEYS if key in parameter}
    return {**{k: v for k, v in parameter.items() if k not in SCHEMA_KEYS}, "schema": schema}


class _AnyDefault:
    """openapi-spec-validator's `default` keyword, checking nothing (see validate_document)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def __call__(self, schema: Any, value: Any) -> Iterator[Any]:
        return iter(())
