"""Find what our export checks need in any OpenAPI document, by meaning, not by name.

Teams hold the vendor's published document or their own, with other component
names, inline schemas, `oneOf` without a discriminator. An export is an object
with an `id` and a `status` whose enum holds the lifecycle's statuses; the
operation that creates one is a POST answering such an object; it is read by
a GET on a path with one more parameter, deleted by a DELETE there and listed
by a GET on the parent path answering an array of them. What cannot be found
raises `Skip` with the reason, so a check reports SKIPPED, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator

from ..spec import Operation, Spec
from .dialect import Operations


class Skip(Exception):
    """The check cannot run against this target or contract (the message says why)."""


def properties(schema: Any) -> dict[str, Any]:
    """The properties an object schema declares, through allOf and (merged) oneOf/anyOf branches."""
    if not isinstance(schema, dict):
        return {}
    found = dict(schema.get("properties") or {})
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(key) or []:
            for name, value in properties(branch).items():
                found.setdefault(name, value)
    return found


def enum_of(schema: Any) -> list[Any]:
    if not isinstance(schema, dict):
        return []
    if "const" in schema:
        return [schema["const"]]
    values = list(schema.get("enum") or [])
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(key) or []:
            values += [v for v in enum_of(branch) if v not in values]
    return values


def is_export(schema: Any, statuses: tuple[str, ...], wrapper: str | None = None) -> bool:
    """An object with an `id` and a `status` whose enum holds the lifecycle's words (inside `wrapper`)."""
    fields = properties(properties(schema).get(wrapper) if wrapper else schema)
    return "id" in fields and bool(set(enum_of(fields.get("status"))) & set(statuses))


def _json(responses: dict[str, dict[str, Any]], statuses: tuple[str, ...]) -> Any:
    for status in statuses:
        for media, schema in (responses.get(status) or {}).items():
            if media.split(";")[0].strip().endswith("json"):
                return schema
    return None


def _lists_exports(schema: Any, statuses: tuple[str, ...], wrapper: str | None) -> bool:
    return any(
        isinstance(value, dict) and value.get("type") == "array" and is_export(value.get("items"), statuses, wrapper)
        for value in properties(schema).values()
    )


@dataclass(frozen=True)
class ExportApi:
    creates: tuple[Operation, ...]  # POSTs answering a new export
    get: Operation  # reads one export (and, in Voucherify's shape, serves its download)
    id_param: str
    list: Operation | None
    delete: Operation | None

    def path(self, export_id: str) -> dict[str, str]:
        return {self.id_param: export_id}


def export_api(
    spec: Spec, statuses: tuple[str, ...], wrapper: str | None = None, named: Operations | None = None
) -> ExportApi:
    """The export operations of `spec`, whose exports say `statuses` (inside `wrapper`, e.g. `export`);
    the ones `named` by the vendor as they are."""
    if named is not None:
        return _named_api(spec, named)
    creates = tuple(
        op
        for op in spec.operations
        if op.method == "POST" and is_export(_json(op.responses, ("200", "201", "202")), statuses, wrapper)
    )
    if not creates:
        raise Skip(
            "the contract has no operation that creates an export (a POST answering an object with "
            f"`id` and a `status` of {'/'.join(statuses)})"
        )
    readers = [
        op
        for op in spec.operations
        if op.method == "GET"
        and is_export(_json(op.responses, ("200",)), statuses, wrapper)
        and [p for p in op.parameters if p.location == "path"]
        and op.path.endswith("}")
    ]
    if not readers:
        raise Skip("the contract has no GET that reads one export by id")
    get = min(readers, key=lambda op: op.path.count("/"))
    id_param = get.path.rsplit("{", 1)[1].rstrip("}")
    parent = get.path.rsplit("/", 1)[0]
    listing = next(
        (
            op
            for op in spec.operations
            if op.method == "GET"
            and op.path == parent
            and _lists_exports(_json(op.responses, ("200",)), statuses, wrapper)
        ),
        None,
    )
    delete = next((op for op in spec.operations if op.method == "DELETE" and op.path == get.path), None)
    return ExportApi(creates=creates, get=get, id_param=id_param, list=listing, delete=delete)


def _named_api(spec: Spec, named: Operations) -> ExportApi:
    def find(operation_id: str) -> Operation:
        try:
            return spec.operation(operation_id)
        except KeyError:
            raise Skip(f"the contract has no {operation_id} operation, which the dialect names") from None

    if not named.creates:
        raise Skip("the dialect names no operation that creates an export")
    get = find(named.read)
    ids = [p.name for p in get.parameters if p.location == "path"]
    if not ids:
        raise Skip(f"{named.read} takes no export id in its path")
    return ExportApi(
        creates=tuple(find(name) for name in named.creates),
        get=get,
        id_param=ids[-1],
        list=find(named.list) if named.list else None,
        delete=find(named.delete) if named.delete else None,
    )


def branches(schema: Any) -> list[dict[str, Any]]:
    """The alternatives of a request body: discriminator mapping, oneOf/anyOf, or the schema itself."""
    if not isinstance(schema, dict):
        return []
    mapping = (schema.get("discriminator") or {}).get("mapping")
    if mapping:
        return [branch for branch in mapping.values() if isinstance(branch, dict)]
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        return [branch for alternative in alternatives for branch in branches(alternative)]
    return [schema]


def kinds(schema: Any, tag: str | None) -> list[str]:
    """The kinds of export one create operation makes, by the values its `tag` field accepts."""
    out: list[str] = []
    if not tag:
        return out
    for branch in branches(schema):
        out += [value for value in enum_of(properties(branch).get(tag)) if isinstance(value, str) and value not in out]
    return out


def body_schema(operation: Operation) -> Any:
    """The schema of an operation's request body: its JSON one, else its first (a form)."""
    schemas = operation.body_schemas
    return schemas.get("application/json", next(iter(schemas.values()), None))


def branch_for(schema: Any, kind: str, tag: str) -> dict[str, Any] | None:
    return next((branch for branch in branches(schema) if kind in enum_of(properties(branch).get(tag))), None)


def declares(branch: Any, dotted: str) -> bool:
    """Whether a request branch has the property at `dotted` (keys between dots, e.g. `parameters.payout`)."""
    schema = branch
    for key in dotted.split("."):
        schema = properties(schema).get(key)
        if schema is None:
            return False
    return True


def required_examples(branch: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, example) of each property a branch requires and gives an `example` for, through the
    required objects in it: what a request of that kind cannot do without (a report run's `payout`)."""
    out: list[tuple[str, Any]] = []
    props = properties(branch)
    for name in branch.get("required") or () if isinstance(branch, dict) else ():
        schema = props.get(name)
        if not isinstance(schema, dict):
            continue
        if "example" in schema:
            out.append((prefix + name, schema["example"]))
        elif properties(schema):
            out += required_examples(schema, f"{prefix}{name}.")
    return out


def column_labels(spec: Any, kind: str, fields: list[str]) -> list[str]:
    """The CSV header a contract documents for these fields: each row attribute's `x-label` (the vendor's
    heading, e.g. `Voucher Type`) where its `x-export-rows` schema gives one, else the field name."""
    row = (spec.document.get("x-export-rows") or {}).get(kind)
    attributes = properties(spec.schema(row)) if isinstance(row, str) else {}
    return [str((attributes.get(name) or {}).get("x-label") or name) for name in fields]


def default_fields(operation: Operation, kind: str, tag: str, fields_at: str) -> list[str]:
    """The columns an export of `kind` has when no fields are requested, as the create schema documents
    them: the default of the body's `fields_at` property (dots between keys, e.g. `parameters.fields`)."""
    branch = branch_for(body_schema(operation), kind, tag)
    if branch is None:
        raise Skip(f"{operation.method} {operation.path} does not take {tag} {kind!r}")
    fields: Any = branch
    for key in fields_at.split("."):
        fields = properties(fields).get(key)
    default = fields.get("default") if isinstance(fields, dict) else None
    if not isinstance(default, list):
        raise Skip(f"the contract documents no default fields ({fields_at} default) for {kind} exports")
    return list(default)


def accepts(operation: Operation, body: Any) -> bool:
    schema = operation.body_schemas.get("application/json")
    if schema is None:
        return False
    try:
        return Draft7Validator(schema).is_valid(body)
    except Exception:  # noqa: BLE001 - a schema jsonschema cannot evaluate: do not guess
        return False


def generic_create(api: ExportApi, tag: str | None, stated: tuple[str, ...] = ()) -> Operation:
    """The create operation that names the kind of export in its body (`tag`, e.g. `exported_object`);
    with kinds `stated` by the dialect (the schema lists none), the first create taking `tag`."""
    for op in api.creates:
        if kinds(body_schema(op), tag):
            return op
    for op in api.creates if stated and tag else ():
        if any(tag.split(".")[0] in properties(branch) for branch in branches(body_schema(op))):
            return op
    raise Skip(
        f"no export-creating operation takes `{tag}` in its body"
        if tag
        else "the dialect names no body field that chooses the kind of export"
    )
