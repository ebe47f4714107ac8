"""The contract kit's dialect of a folder vendor, derived from its document and annotations.

Credentials come from the first security scheme the operations use (bearer-like schemes and
HTTP Basic carry a token alone; two apiKey headers an id and a token), the error shape from
the `x-mock.error` template (its keys are required, the one holding `{request_id}` is the
request id, the one holding `{message}` is text, `{status}` repeats the HTTP status).
"""

from __future__ import annotations

from typing import Any

from ...contract import dialect as d
from .annotations import read_api, read_role
from .render import view_name


def dialect_of_folder(vendor: Any) -> d.Dialect | None:
    from . import folder_spec  # noqa: PLC0415 - the package imports this module's owner lazily too

    spec = folder_spec(vendor.name, vendor.folder)
    credentials = _credentials(spec)
    if credentials is None:
        return None
    template = read_api(spec.document).error
    if not isinstance(template, dict):
        return None
    marks = {key: value for key, value in template.items() if isinstance(value, str)}
    errors = d.ErrorShape(
        required=tuple(template),
        status_field=next((k for k, v in marks.items() if v == "{status}"), None),
        request_id_field=next((k for k, v in marks.items() if v == "{request_id}"), None),
        text=tuple(k for k, v in marks.items() if "{message}" in v),
    )
    protocol = _protocol(spec)
    free = [name for name in (protocol.kind_field, protocol.fields_field) if name and _free_text(spec, name)]
    unstated = (
        {
            "positive_data_acceptance": (
                f"the export's {' and '.join(free)} are checked against the exported objects' row schemas "
                "(x-export-rows), which the request schema does not list; name it in --checks to run it anyway"
            )
        }
        if free
        else {}
    )
    return d.Dialect(
        name=vendor.name, credentials=credentials, errors=errors, exports=protocol, unstated_rules=unstated
    )


def _free_text(spec, field: str) -> bool:
    """Whether the create body's `field` (dots between keys) takes any text: no enum lists its words."""
    create = next((op for op in spec.operations if (op.raw.get("x-mock") or {}).get("role") == "create"), None)
    schema: Any = (create.body_schemas.get("application/json") or {}) if create else {}
    for key in field.split("."):
        schema = _properties(schema).get(key) or {}
    if schema.get("type") == "array":
        schema = schema.get("items") or {}
    return not schema.get("enum")


def _protocol(spec) -> d.ExportProtocol:
    """The export protocol as the annotations state it: status words, where the URL and the request's
    object and fields are, the file's media type."""
    api = read_api(spec.document)
    words = api.statuses
    running = (words["running"],) if words["running"] != words["scheduled"] else ()
    roles = {op.operation_id: read_role(op.raw, op.operation_id) for op in spec.operations}
    create = next((op for op in spec.operations if getattr(roles[op.operation_id], "role", None) == "create"), None)
    status = next((op for op in spec.operations if getattr(roles[op.operation_id], "role", None) == "status"), None)
    body = _properties((create.body_schemas.get("application/json") or {}) if create else {})
    role = roles[create.operation_id] if create else None
    answer = _properties(((status.responses.get("200") or {}).get("application/json") or {}) if status else {})
    url = next(
        (name for name, sub in answer.items() if sub.get("x-mock-value") == "url" or view_name(name) == "url"), "url"
    )
    downloads = [op for op in spec.operations if getattr(roles[op.operation_id], "role", None) == "download"]
    numeric = any(
        p.schema.get("type") == "integer" for op in spec.operations for p in op.parameters if p.location == "path"
    )
    return d.ExportProtocol(
        statuses=d.Statuses(pending=(words["scheduled"],), running=running, done=words["done"], failed=words["failed"]),
        kind_field=(role.object if role and role.object else _named(body, "object")),
        fields_field=(role.fields if role and role.fields else _named(body, "fields")),
        url=url,
        download_operation=downloads[0].operation_id if downloads and api.download == "operation" else None,
        media=api.file.media_type,
        download_with_key=bool(downloads)
        and api.download == "operation"
        and roles[downloads[0].operation_id].auth == "key",
        unknown_id="1" + "0" * 9 if numeric else api.id_prefix + "0" * api.id_length,
    )


def _properties(schema: Any) -> dict[str, Any]:
    """An object schema's properties, through allOf and the branches of oneOf/anyOf."""
    if not isinstance(schema, dict):
        return {}
    found = dict(schema.get("properties") or {})
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(key) or []:
            for name, value in _properties(branch).items():
                found.setdefault(name, value)
    return found


def _named(properties: dict[str, Any], meaning: str) -> str | None:
    return next((name for name in properties if view_name(name) == meaning), None)


def _credentials(spec) -> d.Credentials | None:
    used = next((requirement for op in spec.operations for requirement in op.security if requirement), None)
    if not used:
        return None
    schemes = spec.security_schemes
    names = [name for name in used if name in schemes]
    kinds = [schemes[name] for name in names]
    if len(names) == 1:
        scheme = kinds[0]
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            return d.Credentials("basic", scheme=names[0])
        if scheme.get("type") in ("http", "oauth2", "openIdConnect"):
            return d.Credentials("bearer", scheme=names[0])
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            return d.Credentials("header", token_header=scheme["name"], token_scheme=names[0])
        return None
    headers = [s for s in kinds if s.get("type") == "apiKey" and s.get("in") == "header"]
    if len(names) == 2 and len(headers) == 2:
        return d.Credentials(
            "headers",
            id_header=headers[0]["name"],
            token_header=headers[1]["name"],
            id_scheme=names[0],
            token_scheme=names[1],
        )
    return None
