"""A vendor made of data: an OpenAPI document plus an overlay of `x-mock` annotations.

`folder_vendor(DIR)` is the Vendor class of a folder (docs/openapi-vendors.md): its
credentials come from the document's `securitySchemes` (security.py), its mounts from
`x-mock-mount` or else the `servers` path and the operations' shared path, its
validation from the schemas (the pipeline's), its answers from the response schemas
(render.py), and what a document cannot say (which operation creates, polls, lists,
cancels or downloads an export; status words; the error body; the file format; the row
schemas, as `x-export-rows`) from the annotations (annotations.py). The bundled folders
under schemas/ that hold an overlay are registered this way (mockserver.registry), and a
package may register one through the `mockserver.vendors` entry points:

    myapi = "mypackage:VENDOR"    # VENDOR = folder_vendor(Path(__file__).parent / "myapi")
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from aiohttp import web

from ... import argtypes, data, ids
from ...documents import Folder, read_folder
from ...errors import ApiError
from ...options import Option
from ...spec import Operation, Spec, spec_from_document
from ...store import VendorStore
from ...validation import Invalid
from ..base import MOUNT_KEY, Handler, Vendor
from ..common import PatternWords, form_problem
from ..forms import decode_form
from .accounts import AccountError, Accounts
from .annotations import KEY, AnnotationError, Api, Problem, Role, read_api, read_role
from .behaviour import FILES, Exports
from .render import fill
from .resources import Resources
from .security import Credentials, app_of

if TYPE_CHECKING:  # the type only: a vendor module loads without the server core
    from ...services import Services


NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_PLACEHOLDER = re.compile(r"^\{([a-z_]+)\}$")


class OpenApiVendor(Vendor):
    """The generic vendor; `folder_vendor` makes one subclass per folder (its name, options, dialect)."""

    folder: ClassVar[Path]

    def __init__(self, keys: tuple[str, ...] | list[str] = (), spec: Spec | None = None) -> None:
        self.spec = spec or folder_spec(self.name, self.folder)
        self.api: Api = read_api(self.spec.document)
        roles, resource_roles = {}, {}
        for op in self.spec.operations:
            where = f"{op.method} {op.path}"
            try:
                role = read_role(op.raw, where)
            except AnnotationError as exc:
                raise AnnotationError(f"{self.folder}: {exc}") from None
            if role is not None and role.resource is not None:
                _check_resource(self.folder, self.api, role, where)
                resource_roles[op.operation_id] = role
            elif role is not None:
                roles[op.operation_id] = role
        self.roles = roles  # the export operations' (the resources' are resource_roles)
        self.credentials = Credentials(self.spec.security_schemes, keys)
        # `x-mock.account`: an account id is the app, its secret bound to it (accounts.py)
        self.accounts = Accounts(self.api.account, self.spec.security_schemes, keys) if self.api.account else None
        # the request headers its clients send credentials in, for the CORS preflight's allow-list
        self.cors_headers = tuple(
            str(scheme["name"])
            for scheme in self.spec.security_schemes.values()
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header"
        )
        self.worded = PatternWords(self.spec)  # a pattern mismatch, worded by the schema's x-reads-as
        self.status_names = {phase: word for phase, word in self.api.statuses.items() if phase != "canceled"}
        self.app_is_secret = self.api.tenant == "key"  # the journal then files requests under a label
        self.exports = Exports(
            self.name,
            self.spec,
            self.api,
            roles,
            data.load_model(self.spec, self.data_recipes),
            self.prefixes[-1],
            filters_of=self.export_filters,
            refuse=self.invalid,
            account_of=self.accounts.account if self.accounts is not None else None,
        )
        self.resources = Resources(self.exports, resource_roles)  # x-mock.resources: plain stored ones
        if any(res.embed for res in self.api.resources.values()):
            self.exports.embed = self.resources.embed

    @classmethod
    def schema_dir(cls) -> Path:
        return cls.folder

    @property
    def prefixes(self) -> tuple[str, ...]:
        if self.spec.document.get(MOUNT_KEY) is not None:
            return super().prefixes
        return (_shared_prefix(self.name, [op.path for op in self.spec.operations]),)

    def handlers(self) -> dict[str, Handler]:
        return self.exports.handlers(self.resources.handlers())

    def export_filters(self, op: Operation, role: Role, body: Mapping[str, Any]) -> dict | None:
        """The data engine's filters a create's body asks for, as its role's `filters` say. An API whose
        filters follow a grammar no annotation states overrides this (Chargebee's bracketed operators)."""
        return self.exports.filters(role, body)

    def routes(self, prefix: str, services: Services) -> list[tuple[str, str, Any]]:
        """The file route, under the mount finished exports' URLs name."""
        if self.api.download != "file" or prefix != self.exports.mount:
            return []

        async def file(request: web.Request) -> web.StreamResponse:
            return await self.exports.file(services, request)

        return [("GET", FILES + "/{export}/{name}", file)]

    # -- credentials -----------------------------------------------------------------------------
    def trusts_new_credentials(self) -> bool:
        return not (self.accounts.pinned if self.accounts else self.credentials.pinned)

    async def authenticate(self, request: web.Request, operation: Operation, owners: VendorStore) -> str | None:
        if not operation.secured or self.credentials.signed(operation.security, request):
            return None
        if self.accounts is not None:
            return await self.accounts.authenticate(operation.security, request, owners)
        secret = self.credentials.presented(operation.security, request)
        if secret == "":
            return None
        if secret is None or not self.credentials.accepted(secret):
            presented = secret is not None or self.credentials.any_presented(operation.security, request)
            if presented:  # two keys, so that `messages` and `codes` can word them apart
                raise ApiError(401, "invalid_credentials", "Unauthorized", "The credentials are not valid")
            raise ApiError(401, "unauthorized", "Unauthorized", "No credentials were sent")
        return self._app(secret)

    def app_hint(self, request: web.Request) -> str | None:
        if self.accounts is not None:
            return self.accounts.account(request) or None
        for op in self.spec.operations[:1]:
            secret = self.credentials.presented(op.security, request)
            return self._app(secret) if secret else None
        return None

    def _app(self, secret: str) -> str:
        """`x-mock.tenant: key`: the credential itself (the journal labels it); else a digest of it."""
        return secret if self.app_is_secret else app_of(secret)

    def credential_headers(self, app: str, secret: str) -> dict[str, str]:
        security = next((op.security for op in self.spec.operations if op.secured), ())
        if self.accounts is not None:
            return self.accounts.headers(app, secret, security)
        return self.credentials.headers(security, secret)

    # -- errors ----------------------------------------------------------------------------------
    def error_body(self, error: ApiError, request_id: str) -> dict:
        status = str(error.status)
        categories = self.api.categories
        category = next((categories[k] for k in (error.key, status, "default") if k in categories), error.key.upper())
        values = {
            "status": error.status,
            "key": error.key,
            "code": self.api.codes.get(error.key, error.key),
            "title": error.message,
            "details": error.details,
            "param": error.param,
            "request_id": request_id,
            "category": category,
            "resource_type": error.resource[0] if error.resource else None,  # what a 404 did not find
            "resource_id": error.resource[1] if error.resource else None,
            "account": error.account if isinstance(error, AccountError) else None,
        }
        template = self.api.messages.get(error.key) or self.api.messages.get(status)
        values["message"] = fill(template, values) if template else error.details
        return fill(self.api.error, values)

    def decode_form(self, raw: bytes) -> Any:
        """A form body's bracketed names as nested objects, its lists as `x-mock.form` says they are written."""
        return decode_form(raw, self.api.form)

    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        if self.api.problems:
            return self._worded(problem, operation)
        where = f"body{problem.path}" if problem.location == "body" else f"{problem.location} parameter"
        return ApiError(
            problem.status,
            problem.kind,
            "Invalid request",
            f"Invalid {where}: {problem.message}",
            param=problem.path.lstrip(".") or None,
        )

    def _worded(self, problem: Invalid, operation: Operation | None) -> ApiError:
        """A problem worded as `x-mock.problems` says (a kind it does not word reads as `invalid`)."""
        details, param = self.worded(problem.message), problem.path.lstrip(".") or None
        if problem.kind == "media_type":
            kind, param = "media-type", None
        elif problem.location in ("query", "path"):
            kind = problem.kind if problem.kind in ("missing", "unknown") else "parameter"
        elif problem.kind == "missing" and not problem.path and operation is not None:  # no body at all
            schema = next(iter(operation.body_schemas.values()), None) or {}
            param = next(iter(schema.get("required") or ()), None)
            kind = "missing" if param else "request"
        else:
            form = operation is not None and any(media != "application/json" for media in operation.body_schemas)
            about = form_problem(problem)
            param = (about.unknown or about.missing or about.param or None) if form else param
            if about.unknown or about.missing:
                kind = "unknown" if about.unknown else "missing"
            elif not param:
                kind = "request"
            else:
                kind = problem.kind if problem.kind in ("missing", "malformed") else "invalid"
        wording = self._at(problem) or self.api.problems.get(kind) or self.api.problems.get("invalid")
        if wording is None:
            return ApiError(problem.status, problem.kind, "Invalid request", details, param=param)
        template = wording.message if problem.path or wording.root is None else wording.root
        message = fill(template, {"param": param or "", "details": details, "path": problem.path})
        return ApiError(problem.status, wording.key, wording.title, message, param=param)

    def _at(self, problem: Invalid) -> Problem | None:
        """The wording of `x-mock.problems` for the body path a problem is at or under (the longest)."""
        if problem.location != "body" or not problem.path or not self.api.problem_paths:
            return None
        under = [
            at for at in self.api.problem_paths if problem.path == at or problem.path.startswith((f"{at}.", f"{at}["))
        ]
        return self.api.problem_paths[max(under, key=len)] if under else None

    def request_id(self) -> str:
        style = self.api.request_id
        if style == "uuid":
            return str(uuid.uuid4())
        return ids.request_id(style if style != "hex" else "")


def _check_resource(folder: Path, api: Api, role: Role, where: str) -> None:
    """An operation's `resource` names one of `x-mock.resources`, and a download one with a capability URL."""
    res = api.resources.get(str(role.resource))
    if res is None:
        known = ", ".join(api.resources) or "none"
        raise AnnotationError(f"{folder}: {where}: x-mock.resource {role.resource!r} is unknown; known: {known}")
    if role.role == "download" and (res.capability is None or res.refers is None):
        raise AnnotationError(f"{folder}: {where}: a download of {res.name} needs its `capability` and `refers`")


@cache
def folder_spec(name: str, folder: Path) -> Spec:
    """A folder's Spec as the generic vendor serves it: operations at their full paths (the `servers`
    path before each), read once per process."""
    found = read_folder(folder)
    return spec_from_document(name, found.document, _served(found))


def _served(found: Folder) -> dict[str, Any]:
    document = found.openapi3 or found.document
    base = _server_path(document)
    if not base:
        return document
    return {**document, "paths": {base + path: item for path, item in (document.get("paths") or {}).items()}}


def _server_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
    path = urlsplit(url).path if "://" in url else url
    return "/" + path.strip("/") if path.strip("/") and "{" not in path else ""


def _shared_prefix(name: str, paths: list[str]) -> str:
    """The path segments every operation's path starts with (up to a parameter, and never a whole path)."""
    parents = [path.strip("/").split("/")[:-1] for path in paths]
    shared: list[str] = []
    for parts in zip(*parents):
        if len(set(parts)) != 1 or "{" in parts[0]:
            break
        shared.append(parts[0])
    if not shared:
        raise AnnotationError(f"{name}: its operations share no path prefix to mount at; declare {MOUNT_KEY}")
    return "/" + "/".join(shared)


def folder_name(folder: Path) -> str:
    """The vendor name of a folder: its document's `x-mock.name`, else the folder's name."""
    named = (read_folder(folder).document.get(KEY) or {}).get("name")
    name = str(named or folder.resolve().name).lower()
    if not NAME.match(name):
        raise AnnotationError(
            f"{folder}: {name!r} cannot name a vendor (lower-case letters, digits and -); set x-mock.name"
        )
    return name


def folder_vendor(folder: Path | str, name: str | None = None) -> type[OpenApiVendor]:
    """The Vendor class of a folder holding an OpenAPI document and its overlay."""
    folder = Path(folder)
    name = name or folder_name(folder)
    option = Option(
        f"{name}-key",
        f"pin a credential of {name} (repeatable); others then get 401 (default: any "
        "credentials are a tenant of their own)",
        argtypes.text,
        repeatable=True,
        metavar="KEY",
        dest="keys",
    )
    title = "".join(part.capitalize() for part in name.split("-"))
    return type(
        f"{title}Vendor",
        (OpenApiVendor,),
        {"name": name, "folder": folder, "options": (option,), "__module__": __name__, "contract": _LazyDialect()},
    )


class _LazyDialect:
    """The class's contract dialect, derived from its document on first use (contract.py)."""

    def __get__(self, instance: Any, owner: type[OpenApiVendor]) -> Any:
        from .contract import dialect_of_folder  # noqa: PLC0415 - the contract kit's modules, when asked

        value = dialect_of_folder(owner.name, folder_spec(owner.name, owner.folder))
        owner.contract = value
        return value
