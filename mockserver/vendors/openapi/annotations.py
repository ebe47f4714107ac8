"""The `x-mock` vocabulary, read once into typed settings (docs/openapi-vendors.md).

At the document's top, `x-mock` says what holds for the whole API (status words, error
body, file format, ids, idempotency header, the objects an export may name); on an
operation, `x-mock` gives its role (create, status, list, cancel, delete, download, file; with `resource`,
what it does to a plain stored resource of `resources`) and
how its request maps onto the data engine. Every key has a default that suits the common
shape, so a small overlay suffices; an unknown key or role is refused by name (a typo
must not silently do nothing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...lifecycle import PHASES
from ..forms import ListStyle
from .paging import PAGING_KEYS, STYLES, Paging

KEY = "x-mock"
ROLES = ("create", "status", "list", "cancel", "delete", "download", "file")
# what an operation does to a plain stored resource (`x-mock.resources`, named by the operation's `resource`)
RESOURCE_ROLES = ("create", "retrieve", "list", "update", "delete", "download")
STATUSES = {
    "scheduled": "PENDING",
    "running": "PROCESSING",
    "done": "COMPLETE",
    "failed": "FAILED",
    "canceled": "CANCELED",
}
ERROR = {"status": "{status}", "error": "{key}", "message": "{message}", "requestId": "{request_id}"}
FORMATS = {
    "csv": ("text/csv", "csv"),
    "tsv": ("text/tab-separated-values", "tsv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
COMPRESSIONS = {"none": None, "gzip": ("application/gzip", "gz"), "zip": ("application/zip", "zip")}
API_KEYS = (
    "name",
    "statuses",
    "error",
    "categories",
    "messages",
    "request-id",
    "ids",
    "file",
    "formats",
    "objects",
    "idempotency-header",
    "idempotency",
    "download",
    "codes",
    "tenant",
    "url-expires",
    "max-in-process",
    "form",
    "problems",
    "paging",
    "expand",
    "refuse-unknown-query",
    "account",
    "file-document",
    "not-found",
    "resources",
)
FORM_KEYS = ("list-operators", "indexed", "empty-brackets", "extra-chars", "example")
# what a request's problem is about: its Content-Type, a query or path parameter, a body parameter the
# operation does not take, one it lacks, a malformed one, a value of the wrong form, the body as a whole
PROBLEMS = ("media-type", "parameter", "unknown", "missing", "malformed", "invalid", "request")
PROBLEM_KEYS = ("key", "message", "title", "root")
OPERATION_KEYS = (
    "role",
    "object",
    "fields",
    "name",
    "format",
    "filters",
    "order",
    "id",
    "status",
    "items",
    "auth",
    "scope",
    "echo",
    "defaults",
    "resource",
)
IDEMPOTENCY_KEYS = (
    "header",
    "replayed-header",
    "original-request-header",
    "window",
    "max-length",
    "max-keys",
    "per",
    "mismatch",
    "replay",
    "operations",
    "errors",
)
EXPAND_KEYS = ("param", "max-levels", "list", "errors")
DOCUMENT_KEYS = ("id-prefix", "expires")
NOT_FOUND_KEYS = ("noun", "key", "message", "param")
# what a 404 does not find: an export (its id in a path or a list's cursor), a finished export's file document
NOT_FOUND_KINDS = ("export", "file")
RESOURCE_KEYS = ("ids", "refers", "metadata", "expires", "capability", "embed", "not-found")
# what a resource's `refers` property names: an export, or a finished export's file document
REFERENCE_KINDS = ("export", "file")
EXPIRES_KEYS = ("property", "now", "never", "errors")
EXPIRY_ERRORS = {
    "past": "must be a time in the future; got {value}",
    "expired": "the {noun} has expired: it cannot be changed",
}
FILTER_KEYS = ("at", "field", "operator", "value", "values", "high", "operators")


class AnnotationError(ValueError):
    """An `x-mock` annotation that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class FileFormat:
    """How an export's file is written: rows as CSV or TSV, then maybe gzip or a zip holding the file;
    `name` and `member` are templates of the file's name and of the rows' file inside a zip (no
    extension; None: the export's name, else `export-<id>`)."""

    format: str = "csv"
    compression: str = "none"
    name: str | None = None
    member_name: str | None = None
    media: str | None = None  # the media type it is sent as (None: its format's or compression's)

    @property
    def media_type(self) -> str:
        if self.media is not None:
            return self.media
        packed = COMPRESSIONS[self.compression]
        return packed[0] if packed else FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        packed = COMPRESSIONS[self.compression]
        ext = FORMATS[self.format][1]
        return f"{ext}.gz" if self.compression == "gzip" else packed[1] if packed else ext

    @property
    def member(self) -> str:
        """The extension of the rows' file (inside a zip)."""
        return FORMATS[self.format][1]


@dataclass(frozen=True)
class FilterMap:
    """A request's list of conditions (`[{field, operator, value}]`) read as the engine's filters."""

    at: str
    field: str = "field"
    operator: str = "operator"
    value: str = "value"
    values: str = "values"
    high: str = "high"
    operators: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # request word → engine operator(s)


@dataclass(frozen=True)
class Refusal:
    """How a refused idempotency key is answered: the error key and templates of the message and the
    `param` (`{header}`, `{idempotency_key}`, `{max_length}`; no param: the error names none)."""

    key: str
    message: str
    param: str | None = None


# what an idempotency key is refused for: its form, another operation or other parameters than it was
# first used with (`mismatch: refuse`), a first request still running (`replay: answer`)
IDEMPOTENCY_REFUSALS = {
    "invalid": Refusal("invalid", "{header} must be 1 to {max_length} characters", "{header}"),
    "other-operation": Refusal(
        "idempotency_error",
        "The idempotency key '{idempotency_key}' was first used on another operation; send another key",
    ),
    "other-request": Refusal(
        "idempotency_error",
        "The idempotency key '{idempotency_key}' was first used with other parameters; send another key",
    ),
    "in-use": Refusal(
        "idempotency_key_in_use",
        "A request with the idempotency key '{idempotency_key}' is still running; retry once it has finished",
    ),
}


EXPAND_REFUSALS = {
    "too-deep": Refusal("not_expandable", "At most {max_levels} levels of a property can be expanded"),
    "not-expandable": Refusal("not_expandable", "The property {part} cannot be expanded"),
    "in-list": Refusal("not_expandable", "The property {part} cannot be expanded; try {list}.{part}"),
}


@dataclass(frozen=True)
class FileDocument:
    """`file-document`: a finished export's file is a document of its own (Stripe's File), read by the `file`
    role and nested in the export where a property stands for its URL: its id is the export's with
    `id_prefix` in place of `ids.prefix`, and it says it is kept `expires` seconds (`expires_at`)."""

    id_prefix: str | None = None
    expires: float | None = None


@dataclass(frozen=True)
class NotFound:
    """How a 404 of a missing export or file is worded: its noun, error key and templates of the message
    (`{noun}`, `{id}`) and of `param` (`{param}`: the path parameter or cursor that named it)."""

    noun: str
    key: str = "not_found"
    message: str = "Cannot find {noun} with id {id}"
    param: str | None = None


@dataclass(frozen=True)
class Expand:
    """`expand`: the parameter naming properties of the answer to expand, how deep, and where a list's
    items are (a path enters them by this property's name)."""

    param: str = "expand"
    max_levels: int = 4
    list: str = "data"
    errors: Mapping[str, Refusal] = dataclasses.field(default_factory=lambda: dict(EXPAND_REFUSALS))


@dataclass(frozen=True)
class Idempotency:
    """An idempotency key: a request carrying a key seen before answers as the first one did."""

    header: str
    replayed_header: str | None = None  # a header set to `true` on an answer that replays
    original_header: str | None = None  # a header naming the first request's id on an answer that replays
    window: float | None = None  # seconds a key replays (None: as long as its export lives)
    max_length: int | None = None  # a longer key (or one of blanks, or not printable) is a 400
    max_keys: int | None = None  # keys a tenant keeps (its oldest go first; None: all)
    per: str = "key"  # key: the key alone picks the export | request: the key, the operation and its body
    mismatch: str = "replay"  # per key, another request under a key: replay (its first answer) | refuse (400)
    replay: str = "export"  # export: the export as it is now | answer: the first answer as it was sent
    operations: str = "create"  # which operations take a key: create (the creates) | post (every POST)
    errors: Mapping[str, Refusal] = dataclasses.field(default_factory=lambda: dict(IDEMPOTENCY_REFUSALS))


@dataclass(frozen=True)
class Problem:
    """How a kind of request problem is worded: the error key (`{key}`, `{code}`), its title (`{title}`)
    and a message template (`{param}`: the parameter, in form notation for a form body; `{path}`: where
    in the body, as the validator names it, `.parameters.fields[0]`; `{details}`: what is wrong), and
    `root`, the template of a problem about the body as a whole (no path)."""

    key: str
    message: str = "{details}"
    title: str = "Invalid request"
    root: str | None = None  # None: `message`


@dataclass(frozen=True)
class Expiry:
    """`expires`: the property holding when a resource stops working (epoch seconds, or a date-time), the
    words that set it to now and clear it (an update's), and the details of its refusals (`past`: a time
    not in the future, `{value}`; `expired`: changing it once passed, `{noun}`)."""

    property: str = "expires_at"
    now: str | None = None
    never: str | None = None
    errors: Mapping[str, str] = dataclasses.field(default_factory=lambda: dict(EXPIRY_ERRORS))


@dataclass(frozen=True)
class Capability:
    """`capability`: a resource's public URL, `<origin><download path>` with a fresh token of `length`
    letters and digits in its path (the URL is its only credential); its 404 once unknown or expired."""

    length: int = 64
    not_found: NotFound = NotFound("link", message="No such {noun}: it does not exist or has expired")


@dataclass(frozen=True)
class Resource:
    """A plain stored resource beside the exports (`x-mock.resources.<name>`): kept per tenant under its
    name, created, retrieved, listed, updated, deleted and downloaded by the operations naming it."""

    name: str
    id_prefix: str = ""
    id_length: int = 24
    refers: str | None = None  # the body property naming another resource
    refers_to: str = "file"  # what it names: `file` (a finished export's file document) or `export`
    metadata: str | None = None  # the property merged on update (an empty value unsets a key, empty text all)
    expires: Expiry | None = None
    capability: Capability | None = None
    embed: str | None = None  # the referenced document's property listing its newest resources
    embed_limit: int = 10
    not_found: NotFound | None = None


@dataclass(frozen=True)
class Role:
    """What one operation does to exports, and where its request says what."""

    role: str
    object: str | None = None  # body path naming the exported object (None: the object-like field)
    fields: str | None = None  # body path listing the columns
    name: str | None = None  # body path of the export's name
    format: str | None = None  # body path choosing the file format (a word of `formats`)
    filters: FilterMap | str | None = None  # a condition list, or a body path holding engine filters
    order: str | None = None  # body path of the sort (a field, `-field` for descending; first of a list)
    id: str | None = None  # the path parameter holding the export id (None: the only one)
    status: int | None = None  # the answer's status (None: the first 2xx the operation documents)
    items: str | None = None  # list: the answer's property holding the exports (None: the first array)
    auth: str = "key"  # download: key (the API's credentials) | token (the URL's token alone)
    scope: Mapping[str, str] = dataclasses.field(default_factory=dict)  # row attribute → body path pinning it
    echo: str | None = None  # create: body path of the parameters echoed as the export runs them (echo.py)
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # echo: the server's defaults shown
    resource: str | None = None  # the `x-mock.resources` entry the operation acts on (None: exports)


@dataclass(frozen=True)
class Api:
    """What holds for the whole API."""

    name: str | None = None
    statuses: Mapping[str, str] = dataclasses.field(default_factory=lambda: dict(STATUSES))
    error: Any = dataclasses.field(default_factory=lambda: dict(ERROR))
    # error key, HTTP status or "default" → the word {category} stands for (None: none)
    categories: Mapping[str, str | None] = dataclasses.field(default_factory=dict)
    messages: Mapping[str, str] = dataclasses.field(default_factory=dict)  # HTTP status → the message it words
    request_id: str = "uuid"  # uuid | hex | <prefix>- (a prefix before random hex)
    id_prefix: str = ""
    id_length: int = 24
    file: FileFormat = FileFormat()
    # request word → file (None: a format the mock refuses to write)
    formats: Mapping[str, FileFormat | None] = dataclasses.field(default_factory=dict)
    objects: Mapping[str, str] = dataclasses.field(default_factory=dict)  # request word → exported object
    idempotency: Idempotency | None = None
    download: str = "file"  # where finished exports are fetched: file (the mock's file route) | operation
    # error key → the API's code ({code}; None: no code)
    codes: Mapping[str, str | None] = dataclasses.field(default_factory=dict)
    tenant: str = "digest"  # digest: a tenant is a digest of the credentials | key: the credential itself
    url_expires: float | None = None  # seconds a finished export's download URL works (None: for ever)
    max_in_process: int | None = None  # exports of a tenant in process at once (`time` lifecycle); then 429
    form: ListStyle = ListStyle(indexed=True, empty_brackets=True)  # how form bodies write lists
    problems: Mapping[str, Problem] = dataclasses.field(default_factory=dict)  # kind of problem → its wording
    paging: Paging = Paging()  # how lists page: by offset, or after or before an item's id
    expand: Expand | None = None  # every operation takes paths of its answer to expand (None: none)
    refuse_unknown_query: tuple[str, ...] = ()  # methods whose undeclared query parameters are a 400
    # body path → the wording of any problem at or under it (before its kind's)
    problem_paths: Mapping[str, Problem] = dataclasses.field(default_factory=dict)
    account: str | None = None  # the apiKey scheme whose value names the tenant (accounts.py)
    document: FileDocument | None = None  # a finished export's file is a document of its own (None: a URL)
    not_found: Mapping[str, NotFound] = dataclasses.field(default_factory=dict)  # 404 wording per kind
    resources: Mapping[str, Resource] = dataclasses.field(default_factory=dict)  # plain stored resources

    @property
    def idempotency_header(self) -> str | None:
        return self.idempotency.header if self.idempotency else None


def read_api(document: Mapping[str, Any]) -> Api:
    raw = _mapping(document.get(KEY) or {}, "the document's x-mock")
    _known(raw, API_KEYS, "the document's x-mock")
    statuses = {
        **STATUSES,
        **{str(k): str(v) for k, v in _mapping(raw.get("statuses") or {}, "x-mock.statuses").items()},
    }
    unknown = set(statuses) - {*PHASES, "canceled"}
    if unknown:
        raise AnnotationError(
            f"x-mock.statuses: {', '.join(sorted(unknown))} is no phase; phases: {', '.join((*PHASES, 'canceled'))}"
        )
    ids = _mapping(raw.get("ids") or {}, "x-mock.ids")
    formats = {
        str(word): (None if spec is None else _file(spec, f"x-mock.formats.{word}"))
        for word, spec in _mapping(raw.get("formats") or {}, "x-mock.formats").items()
    }
    tenant = str(raw.get("tenant", "digest"))
    if tenant not in ("digest", "key"):
        raise AnnotationError(f"x-mock.tenant must be digest or key, not {tenant!r}")
    download = str(raw.get("download", "file"))
    if download not in ("file", "operation"):
        raise AnnotationError(f"x-mock.download must be file or operation, not {download!r}")
    return Api(
        name=raw.get("name"),
        statuses=statuses,
        error=raw.get("error", dict(ERROR)),
        categories={
            str(k): None if v is None else str(v)
            for k, v in _mapping(raw.get("categories") or {}, "x-mock.categories").items()
        },
        messages={str(k): str(v) for k, v in _mapping(raw.get("messages") or {}, "x-mock.messages").items()},
        request_id=str(raw.get("request-id", "uuid")),
        id_prefix=str(ids.get("prefix", "")),
        id_length=int(ids.get("length", 24)),
        file=_file(raw.get("file") or {}, "x-mock.file"),
        formats=formats,
        objects={str(k): str(v) for k, v in _mapping(raw.get("objects") or {}, "x-mock.objects").items()},
        idempotency=_idempotency(raw),
        download=download,
        codes={
            str(k): None if v is None else str(v) for k, v in _mapping(raw.get("codes") or {}, "x-mock.codes").items()
        },
        tenant=tenant,
        url_expires=_number(raw.get("url-expires"), "x-mock.url-expires"),
        max_in_process=_count(raw.get("max-in-process"), "x-mock.max-in-process"),
        form=_form(raw.get("form")),
        problems=_problems(raw.get("problems"), body_paths=False),
        problem_paths=_problems(raw.get("problems"), body_paths=True),
        account=None if raw.get("account") is None else str(raw["account"]),
        paging=_paging(raw.get("paging")),
        expand=_expand(raw.get("expand")),
        refuse_unknown_query=tuple(
            str(m).upper() for m in _list(raw.get("refuse-unknown-query"), "refuse-unknown-query")
        ),
        document=_document(raw.get("file-document")),
        not_found=_not_found(raw.get("not-found")),
        resources=_resources(raw.get("resources")),
    )


def _resources(raw: Any) -> dict[str, Resource]:
    spec = _mapping(raw or {}, "x-mock.resources")
    found = {}
    for name, entry in spec.items():
        where = f"x-mock.resources.{name}"
        entry = _mapping(entry or {}, where)
        _known(entry, RESOURCE_KEYS, where)
        ids = _mapping(entry.get("ids") or {}, f"{where}.ids")
        _known(ids, ("prefix", "length"), f"{where}.ids")
        refers = _mapping(entry.get("refers") or {}, f"{where}.refers")
        _known(refers, ("property", "to"), f"{where}.refers")
        to = str(refers.get("to", "file"))
        if to not in REFERENCE_KINDS:
            raise AnnotationError(f"{where}.refers.to must be {' or '.join(REFERENCE_KINDS)}, not {to!r}")
        if refers and not refers.get("property"):
            raise AnnotationError(f"{where}.refers needs `property`, the body property naming the {to}")
        embed = _mapping(entry.get("embed") or {}, f"{where}.embed")
        _known(embed, ("property", "limit"), f"{where}.embed")
        if embed and (not refers or not embed.get("property")):
            raise AnnotationError(f"{where}.embed needs `property` and a `refers` whose document lists it")
        wording = None if entry.get("not-found") is None else _wording(entry["not-found"], f"{where}.not-found", name)
        found[str(name)] = Resource(
            name=str(name),
            id_prefix=str(ids.get("prefix", "")),
            id_length=_count(ids.get("length", 24), f"{where}.ids.length") or 24,
            refers=None if not refers else str(refers["property"]),
            refers_to=to,
            metadata=None if entry.get("metadata") is None else str(entry["metadata"]),
            expires=_expiry(entry.get("expires"), f"{where}.expires"),
            capability=_capability(entry.get("capability"), f"{where}.capability"),
            embed=None if not embed else str(embed["property"]),
            embed_limit=_count(embed.get("limit", 10), f"{where}.embed.limit") or 10,
            not_found=wording,
        )
    return found


def _expiry(raw: Any, where: str) -> Expiry | None:
    if raw is None:
        return None
    spec = _mapping(raw, where)
    _known(spec, EXPIRES_KEYS, where)
    errors = _mapping(spec.get("errors") or {}, f"{where}.errors")
    _known(errors, tuple(EXPIRY_ERRORS), f"{where}.errors")
    return Expiry(
        property=str(spec.get("property", "expires_at")),
        now=None if spec.get("now") is None else str(spec["now"]),
        never=None if spec.get("never") is None else str(spec["never"]),
        errors={**EXPIRY_ERRORS, **{str(k): str(v) for k, v in errors.items()}},
    )


def _capability(raw: Any, where: str) -> Capability | None:
    if raw is None:
        return None
    spec = _mapping(raw, where)
    _known(spec, ("length", "not-found"), where)
    length = _count(spec.get("length", 64), f"{where}.length") or 64
    if length < 32:
        raise AnnotationError(f"{where}.length must be at least 32: the token is the URL's only credential")
    wording = None if spec.get("not-found") is None else _wording(spec["not-found"], f"{where}.not-found", "link")
    return Capability(length, wording or Capability.not_found)


def _document(raw: Any) -> FileDocument | None:
    if raw is None:
        return None
    spec = _mapping(raw, "x-mock.file-document")
    _known(spec, DOCUMENT_KEYS, "x-mock.file-document")
    prefix = spec.get("id-prefix")
    return FileDocument(
        None if prefix is None else str(prefix), _number(spec.get("expires"), "x-mock.file-document.expires")
    )


def _not_found(raw: Any) -> dict[str, NotFound]:
    spec = _mapping(raw or {}, "x-mock.not-found")
    _known(spec, NOT_FOUND_KINDS, "x-mock.not-found")
    return {str(kind): _wording(wording, f"x-mock.not-found.{kind}", str(kind)) for kind, wording in spec.items()}


def _wording(raw: Any, where: str, noun: str) -> NotFound:
    """A 404's wording, `{noun, key, message, param}` (`noun` when it names none)."""
    wording = _mapping(raw, where)
    _known(wording, NOT_FOUND_KEYS, where)
    param = wording.get("param")
    return NotFound(
        str(wording.get("noun", noun)),
        str(wording.get("key", "not_found")),
        str(wording.get("message", NotFound.message)),
        None if param is None else str(param),
    )


def _list(value: Any, key: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AnnotationError(f"x-mock.{key} must be a list, not {type(value).__name__}")
    return value


def _expand(raw: Any) -> Expand | None:
    if raw is None:
        return None
    spec = _mapping(raw, "x-mock.expand")
    _known(spec, EXPAND_KEYS, "x-mock.expand")
    return Expand(
        param=str(spec.get("param", "expand")),
        max_levels=_count(spec.get("max-levels", 4), "x-mock.expand.max-levels"),
        list=str(spec.get("list", "data")),
        errors=_refusals(spec.get("errors"), EXPAND_REFUSALS, "x-mock.expand.errors"),
    )


def _paging(raw: Any) -> Paging:
    spec = _mapping(raw or {}, "x-mock.paging")
    _known(spec, PAGING_KEYS, "x-mock.paging")
    style = str(spec.get("style", "offset"))
    if style not in STYLES:
        raise AnnotationError(f"x-mock.paging.style must be {' or '.join(STYLES)}, not {style!r}")
    names = {key: str(spec[key]) for key in PAGING_KEYS[1:] if spec.get(key) is not None}
    return Paging(style=style, **names)


def _form(raw: Any) -> ListStyle:
    spec = _mapping(raw or {}, "x-mock.form")
    _known(spec, FORM_KEYS, "x-mock.form")
    return ListStyle(
        operators=tuple(str(word) for word in spec.get("list-operators") or ()),
        indexed=bool(spec.get("indexed", True)),
        empty_brackets=bool(spec.get("empty-brackets", True)),
        extra_chars=str(spec.get("extra-chars", "")),
        example=str(spec.get("example", "a[b][c]")),
    )


def _problems(raw: Any, *, body_paths: bool) -> dict[str, Problem]:
    """The wordings per kind of problem, or (`body_paths`) those per body path: keys starting with `.`."""
    spec = _mapping(raw or {}, "x-mock.problems")
    _known({k: v for k, v in spec.items() if not str(k).startswith(".")}, PROBLEMS, "x-mock.problems")
    found = {}
    for kind, wording in spec.items():
        if str(kind).startswith(".") != body_paths:
            continue
        wording = _mapping(wording, f"x-mock.problems.{kind}")
        _known(wording, PROBLEM_KEYS, f"x-mock.problems.{kind}")
        if not wording.get("key"):
            raise AnnotationError(f"x-mock.problems.{kind} needs `key`, the error key it is answered with")
        found[str(kind)] = Problem(
            str(wording["key"]),
            str(wording.get("message", "{details}")),
            str(wording.get("title", "Invalid request")),
            None if wording.get("root") is None else str(wording["root"]),
        )
    return found


def _idempotency(raw: Mapping[str, Any]) -> Idempotency | None:
    if raw.get("idempotency-header") is not None and raw.get("idempotency") is not None:
        raise AnnotationError("x-mock: give idempotency-header or idempotency, not both")
    if raw.get("idempotency-header") is not None:
        return Idempotency(str(raw["idempotency-header"]))
    if raw.get("idempotency") is None:
        return None
    spec = _mapping(raw["idempotency"], "x-mock.idempotency")
    _known(spec, IDEMPOTENCY_KEYS, "x-mock.idempotency")
    if not spec.get("header"):
        raise AnnotationError("x-mock.idempotency needs `header`, the request header holding the key")
    per = _word(spec, "per", ("key", "request"))
    mismatch = _word(spec, "mismatch", ("replay", "refuse"))
    if per == "request" and mismatch == "refuse":
        raise AnnotationError("x-mock.idempotency: mismatch: refuse needs per: key (per request, another is new)")
    return Idempotency(
        header=str(spec["header"]),
        replayed_header=spec.get("replayed-header"),
        original_header=spec.get("original-request-header"),
        window=_number(spec.get("window"), "x-mock.idempotency.window"),
        max_length=_count(spec.get("max-length"), "x-mock.idempotency.max-length"),
        max_keys=_count(spec.get("max-keys"), "x-mock.idempotency.max-keys"),
        per=per,
        mismatch=mismatch,
        replay=_word(spec, "replay", ("export", "answer")),
        operations=_word(spec, "operations", ("create", "post")),
        errors=_refusals(spec.get("errors"), IDEMPOTENCY_REFUSALS, "x-mock.idempotency.errors"),
    )


def _word(spec: Mapping[str, Any], name: str, words: tuple[str, ...]) -> str:
    """One of `words` (the first is the default) for an `x-mock.idempotency` key."""
    word = str(spec.get(name, words[0]))
    if word not in words:
        raise AnnotationError(f"x-mock.idempotency.{name} must be {' or '.join(words)}, not {word!r}")
    return word


def _refusals(raw: Any, defaults: Mapping[str, Refusal], where: str) -> dict[str, Refusal]:
    """The wording of refusals per kind, `{key, message, param}` each, over `defaults`."""
    spec = _mapping(raw or {}, where)
    _known(spec, tuple(defaults), where)
    found = dict(defaults)
    for kind, wording in spec.items():
        wording = _mapping(wording, f"{where}.{kind}")
        _known(wording, ("key", "message", "param"), f"{where}.{kind}")
        if not wording.get("key") or not wording.get("message"):
            raise AnnotationError(f"{where}.{kind} needs `key` and `message`")
        param = wording.get("param")
        found[str(kind)] = Refusal(str(wording["key"]), str(wording["message"]), None if param is None else str(param))
    return found


def _count(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AnnotationError(f"{where} must be a whole number from 1, not {value!r}")
    return value


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise AnnotationError(f"{where} must be a positive number of seconds, not {value!r}")
    return float(value)


def read_role(operation: Mapping[str, Any], where: str) -> Role | None:
    """The operation's role, or None when it has none (it is answered from its responses)."""
    raw = operation.get(KEY)
    if raw is None:
        return None
    raw = _mapping(raw, f"{where}: x-mock")
    _known(raw, OPERATION_KEYS, f"{where}: x-mock")
    role, resource = raw.get("role"), raw.get("resource")
    roles = ROLES if resource is None else RESOURCE_ROLES
    if role not in roles:
        of = "" if resource is None else f" of a resource ({resource})"
        raise AnnotationError(f"{where}: x-mock.role{of} must be one of {', '.join(roles)}, not {role!r}")
    filters = raw.get("filters")
    if isinstance(filters, Mapping):
        _known(filters, FILTER_KEYS, f"{where}: x-mock.filters")
        if "at" not in filters:
            raise AnnotationError(f"{where}: x-mock.filters needs `at`, the body path of the condition list")
        filters = FilterMap(
            **{k: v for k, v in filters.items() if k != "operators"}, operators=dict(filters.get("operators") or {})
        )
    auth = str(raw.get("auth", "key"))
    if auth not in ("key", "token"):
        raise AnnotationError(f"{where}: x-mock.auth must be key or token, not {auth!r}")
    return Role(
        role=role,
        object=raw.get("object"),
        fields=raw.get("fields"),
        name=raw.get("name"),
        format=raw.get("format"),
        filters=filters,
        order=raw.get("order"),
        id=raw.get("id"),
        status=int(raw["status"]) if "status" in raw else None,
        items=raw.get("items"),
        auth=auth,
        scope={str(k): str(v) for k, v in _mapping(raw.get("scope") or {}, f"{where}: x-mock.scope").items()},
        echo=None if raw.get("echo") is None else str(raw["echo"]),
        defaults=dict(_mapping(raw.get("defaults") or {}, f"{where}: x-mock.defaults")),
        resource=None if resource is None else str(resource),
    )


def _file(spec: Any, where: str) -> FileFormat:
    spec = _mapping(spec, where)
    _known(spec, ("format", "compression", "name", "member", "media-type"), where)
    fmt, compression = str(spec.get("format", "csv")), str(spec.get("compression", "none"))
    if fmt not in FORMATS:
        raise AnnotationError(f"{where}.format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if compression not in COMPRESSIONS:
        raise AnnotationError(f"{where}.compression must be one of {', '.join(COMPRESSIONS)}, not {compression!r}")
    name, member = spec.get("name"), spec.get("member")
    media = spec.get("media-type")
    return FileFormat(
        fmt,
        compression,
        None if name is None else str(name),
        None if member is None else str(member),
        None if media is None else str(media),
    )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AnnotationError(f"{where} must be an object, not {type(value).__name__}")
    return value


def _known(raw: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    unknown = [key for key in raw if key not in keys]
    if unknown:
        raise AnnotationError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(keys)}")
