"""The interface every vendor implements: one package, one schema folder.

The pipeline (mockserver.pipeline) does route → authenticate → validate →
behave → respond for every operation of the vendor's spec; a vendor supplies
only what differs between APIs. What it must supply: `name`, `spec`,
`handlers()`, `authenticate()`, `error_body()`, `invalid()`, `request_id()`.
Everything else has a default that suits a vendor which does not need it.

A vendor is found through the entry-point group `mockserver.vendors`
(mockserver.registry) and built from the run's settings with
`from_settings(settings)`, which hands it the values of its own `options`.
The members below are the stable surface; docs/architecture.md walks through
adding a vendor with them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..errors import ApiError
from ..findings import note
from ..ids import request_id
from ..spec import Operation, Spec, schemas_dir
from ..store import TenantStore, VendorStore
from ..validation import Finding, Inputs, Invalid

if TYPE_CHECKING:
    from ..data import Recipes
    from ..options import Option, Settings
    from ..services import Services
    from ..store import Store


class Imported:
    """A class attribute imported when first read (`module`'s `name`): the contract kit's dialect, which a
    server never reads, is not imported by serving (its start-up is what its first client waits for)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __get__(self, instance: Any, owner: type) -> Any:
        return getattr(import_module(self.module), self.name)


MOUNT_KEY = "x-mock-mount"  # the root of a vendor's openapi.yaml: the path prefixes it is served under


@dataclass
class Call:
    """One request on its way through the pipeline."""

    request: web.Request
    operation: Operation
    app_id: str | None
    inputs: Inputs
    request_id: str
    services: Services
    owners: VendorStore  # this vendor's part of the store (download tokens find their app here)
    store: TenantStore | None  # the records of the app the request acts for (None: an unsecured operation)

    def warn(self, found: list[Finding]) -> None:
        """Findings of behaviour code (e.g. a filter on no field): answered with X-Mock-Warning
        headers in the default mode, refused (400, the vendor's shape) in strict mode."""
        if found and self.services.settings.strict:
            raise found[0].invalid()
        note(self.request, found)


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


class Vendor(ABC):
    """One served API. One instance per served vendor, shared by all its mounts."""

    name: ClassVar[str] = ""
    # CLI flags / mockserver.yaml keys of this vendor (mockserver.options.Option); their values reach
    # the constructor as keyword arguments named by each option's `dest` (see from_settings)
    options: ClassVar[tuple[Option, ...]] = ()
    # request headers this vendor's clients send (added to the CORS preflight's allow-list)
    cors_headers: ClassVar[tuple[str, ...]] = ()
    # whether the app authenticate() returns is the credential itself (an API key): the journal
    # then files the request under a label of it (mockserver.redact.label), never the key
    app_is_secret: ClassVar[bool] = False
    spec: Spec

    # -- extension points of the other engines --------------------------------------------------
    # CONTRACT ENGINE (mockserver/contract/): the dialect of this vendor's export protocol, as data
    # (credentials, error shape, create/poll/download operations, status words). None: the contract
    # kit has no dialect for it.
    contract: ClassVar[Any] = None
    # DATA ENGINE (mockserver/data/): the vendor's row recipes for synthetic exports, declared
    # (mockserver.data.Recipes: the objects, and the module that makes them, imported with the first rows
    # made). None: rows come from the schema alone (`x-recipe: schema`); anything else fails at start-up.
    data_recipes: ClassVar[Recipes | None] = None

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings) -> Vendor:
        """The vendor for a run: its own options' values (settings.vendor_options[name]) as keywords."""
        return cls(**settings.vendor_options.get(cls.name, {}))

    @classmethod
    def schema_dir(cls) -> Path:
        """Where the vendor's schema folder is (default: the bundled schemas/<name>/)."""
        return schemas_dir() / cls.name

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The path prefixes it is mounted at, most specific first: `x-mock-mount` of its openapi.yaml
        (e.g. [/v1/reporting, /v1/files]); without one, the first segment of its operations' paths."""
        declared = self.spec.document.get(MOUNT_KEY)
        if declared is None:
            declared = sorted({"/" + op.path.strip("/").split("/")[0] for op in self.spec.operations})
        if isinstance(declared, str):
            declared = [declared]
        prefixes = tuple("/" + str(p).strip("/") for p in declared)
        if not prefixes or any(p == "/" for p in prefixes):
            raise ValueError(f"{self.name}: {MOUNT_KEY} must list path prefixes such as /v1, not {declared!r}")
        return tuple(sorted(prefixes, key=len, reverse=True))

    # -- the pipeline's steps --------------------------------------------------------------------
    @abstractmethod
    def handlers(self) -> dict[str, Handler]:
        """operationId → behaviour. Every operation of the spec needs one."""

    def routes(
        self, prefix: str, services: Services
    ) -> list[tuple[str, str, Callable[..., Awaitable[web.StreamResponse]]]]:
        """Routes beside the spec's operations under `prefix`: (method, path, aiohttp handler), e.g. the
        files a finished export's URL names when they are not one of the API's operations. Default: none."""
        return []

    @abstractmethod
    async def authenticate(self, request: web.Request, operation: Operation, owners: VendorStore) -> str | None:
        """The app (app id, API key …) the request acts for; None for an unsecured operation; raise
        ApiError(401) when it has no valid credentials. `owners` is this vendor's part of the store
        (credentials bound on first use live there)."""

    def app_hint(self, request: web.Request) -> str | None:
        """Who the request claims to be before authentication (rate-limit key, the journal's claimed
        app when credentials are refused). Default: nobody."""
        return None

    def credential_headers(self, app: str, secret: str) -> dict[str, str]:
        """The headers a client of this vendor sends as `app` with `secret` (tests, the pytest plugin)."""
        return {"Authorization": f"Bearer {secret}"}

    def trusts_new_credentials(self) -> bool:
        """Whether credentials never seen before are accepted (a mock's default; a real API never does).
        /__mock/health says it, so the contract kit knows refusals of invented credentials cannot hold."""
        return False

    def decode_form(self, raw: bytes) -> Any:
        """Decode an application/x-www-form-urlencoded body (vendors that take one)."""
        raise Invalid("body", "", "Form bodies are not accepted here", status=415, kind="media_type")

    # -- errors ----------------------------------------------------------------------------------
    @abstractmethod
    def error_body(self, error: ApiError, request_id: str) -> dict:
        """The vendor's error object for `error`."""

    @abstractmethod
    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        """Word a contract violation as this vendor would."""

    def request_id(self) -> str:
        return request_id(self.name[:2] + "-")

    def response_headers(self, request: web.Request, request_id: str) -> Mapping[str, str]:
        """Headers of every answer under the vendor's paths, errors and streamed downloads too (Stripe's
        `Request-Id`, which its SDKs read). Default: none."""
        return {}

    # -- lifecycle and data ----------------------------------------------------------------------
    # lifecycle phase (scheduled, running, done, failed) → the vendor's status word; the admin API's
    # forced status accepts either
    status_names: ClassVar[Mapping[str, str]] = {}

    async def load_fixtures(self, directory: str, store: Store, ids: Any, clock: Any) -> None:
        """Store the data sets of `serve --fixtures DIR` (default: this vendor takes none); raise
        mockserver.errors.FixtureError naming the file and property of a bad one."""
        return None

    def fixture_recorder(self, directory: str) -> Any:
        """`mockserver proxy --record DIR`: an observer of the proxy's exchanges (mockserver.proxy.Exchange)
        that writes what the upstream answered as fixtures load_fixtures reads; None: it records none."""
        return None

    def fixture_options(self) -> dict[str, Any]:
        """What loading fixtures changed in this instance, as its constructor's keywords: `--workers`
        loads fixtures once in the parent and builds each worker's vendor with these."""
        return {}

    async def export_records(self, store: TenantStore, exported_object: str) -> list[dict] | None:
        """The tenant's stored records an export reads instead of synthetic data (None: it has none)."""
        return None
