"""The contract kit's dialect of a folder vendor, derived from its document and annotations.

Credentials come from the first security scheme the operations use (bearer-like schemes and
HTTP Basic carry a token alone; two apiKey headers an id and a token), the error shape from
the `x-mock.error` template (its keys are required, the one holding `{request_id}` is the
request id, the one holding `{message}` is text, `{status}` repeats the HTTP status).
"""

from __future__ import annotations

from typing import Any

from ...contract import dialect as d
from ...spec import Spec
from .annotations import read_api, read_role
from .render import view_name


def dialect_of_folder(name: str, spec: Spec) -> d.Dialect | None:
    """The dialect of the vendor `name` whose document (with its overlay applied) is `spec`; None when
    its credentials are of a kind the kit cannot send."""
    credentials = _credentials(spec)
    if credentials is None:
        return None
    template = read_api(spec.document).error
    if not isinstance(template, dict):
        return None
    marks = {key: value for key, value in template.items() if isinstance(value, str)}
    # a key whose template is one placeholder that may have no value is left out then: not required
    optional = {"{param}", *(["{category}"] if None in read_api(spec.document).categories.values() else [])}
    errors = d.ErrorShape(
        required=tuple(key for key in template if marks.get(key) not in optional),
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
    return d.Dialect(name=name, credentials=credentials, errors=errors, exports=protocol, unstated_rules=unstated)


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
    """The export protocol as the annotations state it: the operations by role, status words, where the
    status, the URL, the request's object and fields are, whether a create answers a locator, the kinds
    of export and the file's media type; what a create body and a bad request look like."""
    api = read_api(spec.document)
    words = api.statuses
    running = (words["running"],) if words["running"] != words["scheduled"] else ()
    read = {op.operation_id: read_role(op.raw, op.operation_id) for op in spec.operations}
    roles = {op_id: role if role is None or role.resource is None else None for op_id, role in read.items()}

    def having(role: str) -> list:
        return [op for op in spec.operations if getattr(roles[op.operation_id], "role", None) == role]

    creates, readers, downloads = having("create"), having("status"), having("download")
    create = creates[0] if creates else None
    # the read that says the API's own status words and holds the download (HubSpot's task status, not its
    # export record, whose `exportState` has words of its own)
    status = next((op for op in readers if _named_in(_answer(op), "url")), readers[0] if readers else None)
    request = (create.body_schemas.get("application/json") or {}) if create else {}
    body = _properties(request)
    role = roles[create.operation_id] if create else None
    answer = _properties(_answer(status))
    url = _url_path(answer)
    numeric = any(
        p.schema.get("type") == "integer" for op in spec.operations for p in op.parameters if p.location == "path"
    )
    kind_field = role.object if role and role.object else _named(body, "object")
    media, create_body = _file(api, role, body)
    by_key = bool(downloads) and api.download == "operation" and roles[downloads[0].operation_id].auth == "key"
    by_token = bool(downloads) and api.download == "operation" and roles[downloads[0].operation_id].auth == "token"
    listed, deleted = having("list"), having("delete")
    return d.ExportProtocol(
        statuses=d.Statuses(pending=(words["scheduled"],), running=running, done=words["done"], failed=words["failed"]),
        operations=d.Operations(
            creates=tuple(op.operation_id for op in creates),
            read=status.operation_id,
            list=listed[0].operation_id if listed else None,
            delete=deleted[0].operation_id if deleted else None,
        )
        if create and status
        else None,
        status_field=next((name for name, sub in answer.items() if _is_status(name, sub)), "status"),
        status_link=_link(_answer(create), "status_url") if create else None,
        kind_field=kind_field,
        kinds=_kinds(spec, api, request, kind_field),
        objects=dict(api.objects),
        fields_field=(role.fields if role and role.fields else _named(body, "fields")),
        create_body=create_body,
        url=url,
        download_operation=downloads[0].operation_id if downloads and api.download == "operation" else None,
        media=media,
        download_with_key=by_key,
        # a signed URL (a download operation opened by its token) is refused with 403, the file route with 401
        wrong_token_status=(401, 403, 404) if by_key else (403,) if by_token else (401,),
        downloads=(d.Download(operation=create.operation_id, wrong_token=True),) if create else (),
        download_every_kind=True,
        bad_requests=(d.BadRequest(body={}, what="create an export with an empty body", operation=create.operation_id),)
        if create and _refuses_empty(request)
        else (),
        unknown_id="1" + "0" * 9 if numeric else api.id_prefix + "0" * api.id_length,
    )


def _url_path(answer: dict[str, Any]) -> str:
    """Where a finished export's download URL sits, dotted: the property standing for it, or inside the file
    document such a property is (`result.url`: an object without `x-mock-value`, render.py)."""
    for name, sub in answer.items():
        if sub.get("x-mock-value") == "url":
            return name
        if view_name(name) == "url" or sub.get("x-mock-file"):
            inner = _properties(sub)
            return f"{name}.{_url_path(inner)}" if inner and "x-mock-value" not in sub else name
    return "url"


def _answer(op) -> Any:
    """An operation's first 2xx JSON answer schema ({} when it has none)."""
    if op is None:
        return {}
    for status in sorted(s for s in op.responses if s.isdigit() and s.startswith("2")):
        for media, schema in (op.responses.get(status) or {}).items():
            if media.split(";")[0].strip().endswith("json"):
                return schema or {}
    return {}


def _named_in(schema: Any, meaning: str) -> bool:
    return any(
        sub.get("x-mock-value") == meaning or view_name(name) == meaning for name, sub in _properties(schema).items()
    )


def _is_status(name: str, sub: Any) -> bool:
    """The property holding the API's own status words (not one with an `x-mock-status` table of its own)."""
    return (
        isinstance(sub, dict)
        and "x-mock-status" not in sub
        and (sub.get("x-mock-value") == "status" or view_name(name) == "status")
    )


def _link(schema: Any, placeholder: str) -> str | None:
    """Where (dots between keys) an answer's `x-mock-value` puts the `placeholder` URL: a locator's status link."""
    for name, sub in _properties(schema).items():
        value = sub.get("x-mock-value") if isinstance(sub, dict) else None
        if isinstance(value, str) and "{" + placeholder + "}" in value:
            return name
        if isinstance(value, dict):
            inner = next((k for k, v in value.items() if isinstance(v, str) and "{" + placeholder + "}" in v), None)
            if inner is not None:
                return f"{name}.{inner}"
        deeper = _link(sub, placeholder) if isinstance(sub, dict) and sub.get("properties") else None
        if deeper:
            return f"{name}.{deeper}"
    return None


def _kinds(spec, api, request: Any, kind_field: str | None) -> tuple[str, ...]:
    """The words a create names its rows by when its schema lists none: one per exported object, the
    first word `x-mock.objects` maps onto it, else the `x-export-rows` names themselves."""
    if not kind_field:
        return ()
    rows = list(spec.document.get("x-export-rows") or {})
    words: dict[str, str] = {}
    for word, rows_name in api.objects.items():
        words.setdefault(rows_name, word)
    return tuple(words.get(name, name) for name in rows)


def _file(api, role, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The download's media type, and the format word a create asks for so that it is the API's file
    (a format whose word comes first in the schema may be one the mock refuses to write)."""
    path = role.format if role and role.format else _named(body, "format")
    if not path or not api.formats:
        return api.file.media_type, {}
    served = [(word, file) for word, file in api.formats.items() if file is not None]
    if not served:
        return api.file.media_type, {}
    word, file = next(((w, f) for w, f in served if f == api.file), served[0])
    chosen: dict[str, Any] = {}
    holder = chosen
    *parents, last = path.split(".")
    for key in parents:
        holder = holder.setdefault(key, {})
    holder[last] = word
    return file.media_type, chosen


def _refuses_empty(schema: Any) -> bool:
    """Whether the create's schema refuses an empty object (it requires something), so {} must be a 400."""
    if not isinstance(schema, dict):
        return False
    if schema.get("required"):
        return True
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        return all(_refuses_empty(branch) for branch in alternatives)
    return any(_refuses_empty(part) for part in schema.get("allOf") or ())


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
