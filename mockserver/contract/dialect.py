"""What differs between vendors for the contract kit, as data the vendor provides.

A vendor package describes its API to the kit with one `Dialect` (its
`contract` attribute, e.g. mockserver/vendors/<name>/contract.py): how an app
proves who it is (`Credentials`), what an error body must hold (`ErrorShape`)
and how its bulk exports work (`ExportProtocol`: which operations create, read,
list, delete and download, where the status sits and its words per phase,
the response wrapper, the download's media type and token, the requests that
exercise filters and provoke 400s). The checks (checks.py) are one engine that
reads this data; no check knows a vendor.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .options import App

HEADERS, HEADER, BASIC, BEARER = "headers", "header", "basic", "bearer"


@dataclass(frozen=True)
class Credentials:
    """How an app proves who it is: two headers (an app id and its token), one header (a token alone),
    HTTP Basic with the token as the user name, or a Bearer token. With one header, Basic or Bearer the
    token alone names the tenant (the app id is only a label in reports). `scheme` names the security
    scheme of the bundled schema that carries them (Basic/Bearer); `dialect_for` rewrites it to the name
    another document uses."""

    kind: Literal["headers", "header", "basic", "bearer"]
    id_header: str = ""
    token_header: str = ""
    scheme: str = ""  # Basic/Bearer: the security scheme's name
    id_scheme: str = ""  # headers: the security schemes' names, when not the header names
    token_scheme: str = ""

    @property
    def token_only(self) -> bool:
        return self.kind != HEADERS

    def headers(self, app: App) -> dict[str, str]:
        if self.kind == BASIC:
            return {"Authorization": "Basic " + base64.b64encode(f"{app.token}:".encode()).decode()}
        if self.kind == BEARER:
            return {"Authorization": f"Bearer {app.token}"}
        if self.kind == HEADER:
            return {self.token_header: app.token}
        return {self.id_header: app.app_id, self.token_header: app.token}

    def secret_headers(self) -> set[str]:
        """Request headers (lower case) whose values are secrets, for reports of recorded traffic."""
        return {"authorization"} | ({self.token_header.lower()} if self.kind in (HEADERS, HEADER) else set())


@dataclass(frozen=True)
class ErrorShape:
    """What every 4xx body holds. `envelope`: the key of a nested error object (`{"error": {…}}`, and
    nothing else at the top); the other fields are read inside it. `status_field` repeats the HTTP
    status; `request_id_field` is a non-empty string, unique per error; `text` fields are non-empty
    strings; `optional_text` are strings when present; `choices` limit a field to a set of words."""

    required: tuple[str, ...]
    status_field: str | None = None
    request_id_field: str | None = None
    envelope: str | None = None
    text: tuple[str, ...] = ()
    optional_text: tuple[str, ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def problem(self, status: int, body: Any) -> str | None:
        """Why a 4xx body is not this error object, or None when it is."""
        if not isinstance(body, dict):
            return f"the body is not a JSON object but {type(body).__name__}"
        where = ""
        if self.envelope:
            if set(body) != {self.envelope}:
                return f"the body is not a JSON object holding exactly `{self.envelope}`"
            body, where = body[self.envelope], f"{self.envelope}."
            if not isinstance(body, dict):
                return f"`{self.envelope}` is not an object"
        missing = [key for key in self.required if key not in body]
        if missing:
            return f"the error object lacks {', '.join(where + key for key in missing)}"
        if self.status_field and body.get(self.status_field) != status:
            return f"`{where}{self.status_field}` is {body.get(self.status_field)!r}, not the HTTP status {status}"
        for name, words in self.choices.items():
            if body.get(name) not in words:
                return f"`{where}{name}` is {body.get(name)!r}, not one of {', '.join(words)}"
        for name in (*self.text, *((self.request_id_field,) if self.request_id_field else ())):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                return f"`{where}{name}` is missing or empty"
        for name in self.optional_text:
            if name in body and not isinstance(body[name], str):
                return f"`{where}{name}` is not a string"
        return None

    def request_id(self, body: Any) -> Any:
        if not self.request_id_field or not isinstance(body, dict):
            return None
        inner = body.get(self.envelope) if self.envelope else body
        return inner.get(self.request_id_field) if isinstance(inner, dict) else None


@dataclass(frozen=True)
class Statuses:
    """The status words of an export per phase; a status never moves back to an earlier phase."""

    pending: tuple[str, ...]  # what a new export says
    running: tuple[str, ...]
    done: str
    failed: str

    @property
    def rank(self) -> dict[str, int]:
        ranks = {word: 0 for word in self.pending}
        ranks.update({word: 1 for word in self.running})
        return {**ranks, self.done: 2, self.failed: 2}

    @property
    def final(self) -> tuple[str, str]:
        return self.done, self.failed

    def all(self) -> tuple[str, ...]:
        return (*self.pending, *self.running, self.done, self.failed)


@dataclass(frozen=True)
class Expect:
    """A promise about the rows of a download: `column`'s values lie in `allowed`, are at least `floor`,
    or are timestamps from the body's `since` up to (not including) its `before` (paths to Unix times in
    the create body, dots between keys); `name` is how the request said it (`order[status][in]`), for
    the finding's title."""

    column: str
    name: str
    allowed: tuple[str, ...] = ()
    floor: float | None = None
    since: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class Prepare:
    """A read before each create whose answer fills parts of the body (e.g. an interval within the data a
    report type has): GET `operation` with its path parameter `path_param` set to the kind of export,
    then for each (body path, answer field, seconds) put the answer's value plus the seconds there."""

    operation: str
    path_param: str
    fill: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class Download:
    """One download scenario of csv_download: create with `body` (None: the least the operation requires)
    through `operation` (an operationId; None: the create that names the kind in its body), expect the
    `fields` as columns (None: the documented defaults), rows that keep `expect` and follow `order`
    (`-created_at`: newest first); `wrong_token`: also try the URL with a wrong token."""

    body: Mapping[str, Any] | None = None
    operation: str | None = None
    fields: tuple[str, ...] | None = None
    expect: tuple[Expect, ...] = ()
    order: str | None = None
    wrong_token: bool = False


@dataclass(frozen=True)
class BadRequest:
    """A request error_shape sends to provoke a 400: `body` to `operation` (None: the create that names
    the kind in its body; with `with_kind` the body also names its first kind)."""

    body: Mapping[str, Any]
    what: str
    operation: str | None = None
    with_kind: bool = False


@dataclass(frozen=True)
class Operations:
    """The export operations by operationId, where the vendor states them (a vendor of data's roles)
    rather than leaving the kit to find them by meaning."""

    creates: tuple[str, ...]
    read: str
    list: str | None = None
    delete: str | None = None


@dataclass(frozen=True)
class ExportProtocol:
    """How the vendor's bulk exports work. Operations not named are found by meaning (meaning.py): a
    create is a POST answering an export (an object with `id` and `status`, inside `wrapper` if
    given), read by a GET one path parameter deeper, listed on the parent path, deleted there.
    A create may instead answer a locator (`status_link`: the id and the URL the export is read at,
    no status yet, as HubSpot's task locator); the checks then poll that URL."""

    statuses: Statuses
    wrapper: str | None = None  # the key an export sits under in answers (`{"export": {…}}`)
    operations: Operations | None = None  # named; None: found by meaning
    status_field: str = "status"  # where a read answer holds the status word (dots between keys)
    status_link: str | None = None  # a create answering a locator: where it holds the status URL
    kinds: tuple[str, ...] = ()  # the words `kind_field` takes when the request schema lists none
    objects: Mapping[str, str] = field(default_factory=dict)  # a kind word → its rows (x-export-rows)
    create_body: Mapping[str, Any] = field(default_factory=dict)  # what every create body also says
    kind_field: str | None = None  # the body field a generic create names the kind of export by
    fields_field: str | None = None  # where a create body lists the columns it asks for (dots between keys)
    url: str = "result.url"  # where a finished export's download URL sits (dots between keys)
    later: tuple[tuple[str, str], ...] = ()  # (field, earlier field): a finished export's timestamps in order
    done_fields: tuple[str, ...] = ()  # fields a done export has
    failed_fields: tuple[str, ...] = ()  # fields a failed export has (why it failed)
    download_operation: str | None = None  # the operation serving the URL (None: the read operation)
    media: str = "text/plain"  # of the download: a CSV, or application/zip of CSVs
    download_with_key: bool = False  # the URL needs the app's credentials (else its token alone)
    token_param: str = "token"  # the URL's query parameter holding its token (when not with the key)
    wrong_token_status: tuple[int, ...] = (401,)  # a download with a wrong token
    list_query: Mapping[str, Any] = field(default_factory=lambda: {"limit": 100})
    unknown_id: str = "0" * 24  # an export id the target cannot know
    prepare: Prepare | None = None
    downloads: tuple[Download, ...] = ()
    download_every_kind: bool = False  # also one default download per kind of export (per create operation)
    bad_requests: tuple[BadRequest, ...] = ()

    def unwrap(self, body: Any) -> dict:
        inner = body.get(self.wrapper) if self.wrapper and isinstance(body, dict) else body
        return inner if isinstance(inner, dict) else {}

    def url_of(self, export: dict) -> Any:
        return dig(export, self.url)

    def status_of(self, export: dict) -> Any:
        return dig(export, self.status_field)

    def rows_of(self, kind: str | None) -> str | None:
        """The rows (an `x-export-rows` name) an export of `kind` holds."""
        return self.objects.get(kind, kind) if kind is not None else None

    @property
    def holder(self) -> str:
        """The field that holds the download (null or absent until done)."""
        return self.url.split(".")[0]


def dig(value: Any, path: str) -> Any:
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class Dialect:
    name: str
    credentials: Credentials
    errors: ErrorShape
    exports: ExportProtocol | None = None  # None: the vendor has no bulk exports the checks know
    form_lists: Literal["json", "indexed", "brackets"] = "json"  # lists in form bodies: a[]=, a[0]=, or JSON
    default_contract: bool = False  # `mockserver contract` checks this one when --spec is not given
    # checks the vendor fails by rules no OpenAPI schema can state: check name → why. A run with the
    # default checks reports them SKIPPED with the reason; naming one in --checks runs it anyway.
    unstated_rules: Mapping[str, str] = field(default_factory=dict)

    def schemathesis_auth(self, app: App) -> dict[str, Any]:
        """The `auth.openapi` table of a schemathesis config, so its auth checks know the credentials."""
        kind, scheme = self.credentials.kind, self.credentials.scheme
        if kind == BASIC:
            return {scheme: {"username": app.token, "password": ""}}
        if kind == BEARER:
            return {scheme: {"bearer": app.token}}
        creds = self.credentials
        if kind == HEADER:
            return {creds.token_scheme or creds.token_header: {"api_key": app.token}}
        return {
            creds.id_scheme or creds.id_header: {"api_key": app.app_id},
            creds.token_scheme or creds.token_header: {"api_key": app.token},
        }

    def headers(self, app: App) -> dict[str, str]:
        """The headers that make a request `app`'s."""
        return self.credentials.headers(app)

    def error_problem(self, status: int, body: Any) -> str | None:
        return self.errors.problem(status, body)
