"""Voucherify's dialect: X-App-Id/X-App-Token (or Bearer) credentials, the
`{code, key, message, details, request_id}` error object, and the operations of
schemas/voucherify/. Each area of the API keeps its behaviour in its own
module (exports.py, …) and hands its operationId → handler map to the vendor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from ... import argtypes
from ...errors import ApiError
from ...ids import request_id
from ...options import Option
from ...spec import Operation, Spec, bundled_spec
from ...store import Store, TenantStore, VendorStore
from ...validation import Invalid
from ..base import Handler, Imported, Vendor
from ..common import bearer_token, same
from . import async_actions, data, exports, orders, transactions


class Voucherify(Vendor):
    name = "voucherify"
    contract = Imported(f"{__name__}.contract", "CONTRACT")  # the contract kit's dialect: data in contract.py

    data_recipes = data.RECIPES  # declared: the data engine imports them with the first rows made
    options = (
        Option(
            "app",
            "pin an app's credentials (repeatable); other app ids then get 401 "
            "(default: any app id is bound to the first token it is used with)",
            argtypes.pair,
            repeatable=True,
            metavar="ID:TOKEN",
            dest="apps",
        ),
        Option(
            "max-orders",
            "orders (and customers) kept per app; one more is refused with a 402",
            argtypes.whole(1),
            orders.MAX_ORDERS,
            metavar="N",
            dest="max_orders",
        ),
    )
    cors_headers = ("X-App-Id", "X-App-Token")
    status_names = exports.STATUS

    def __init__(
        self,
        spec: Spec | None = None,
        apps: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        max_orders: int = orders.MAX_ORDERS,
    ) -> None:
        self.spec = spec or bundled_spec("voucherify")
        self.apps = dict(apps or {})  # pinned app id → token (--app ID:TOKEN gives pairs)
        self._plans: dict[str, tuple[Operation, tuple]] = {}  # operation id → (operation, _auth_plan's answer)
        self.exports = exports.Exports(self.spec)
        self.async_actions = async_actions.AsyncActions(self.spec)
        self.orders = orders.Orders(self.spec, self.async_actions, max_orders)
        self.transactions = transactions.Transactions(self.exports)

    def handlers(self) -> dict[str, Handler]:
        return {
            **self.exports.handlers(),
            **self.orders.handlers(),
            **self.async_actions.handlers(),
            **self.transactions.handlers(),
        }

    async def export_records(self, store: TenantStore, exported_object: str) -> list[dict] | None:
        """The app's stored records an export reads instead of synthetic data (None: it has none)."""
        return await orders.stored_records(self.spec, store, exported_object)

    async def load_fixtures(self, directory: str, store: Store, ids: Any, clock: Any) -> None:
        """Customers, campaigns, vouchers and orders per app (fixtures.py); their tokens are pinned."""
        from .fixtures import load_into

        await load_into(directory, self, store=store, ids=ids, clock=clock)

    def fixture_recorder(self, directory: str) -> Any:
        """`mockserver proxy --record DIR`: the upstream's orders as fixtures (record.py)."""
        from .record import Recorder

        return Recorder(directory, self.spec)

    def fixture_options(self) -> dict[str, Any]:
        return {"apps": dict(self.apps)}

    def tenant_hint(self, request: web.Request) -> str | None:
        return request.headers.get("X-App-Id") or None

    def credential_headers(self, tenant: str, secret: str) -> dict[str, str]:
        return {"X-App-Id": tenant, "X-App-Token": secret}

    # -- credentials -----------------------------------------------------------
    def trusts_new_credentials(self) -> bool:
        return not self.apps  # trust on first use until apps are pinned

    async def authenticate(self, request: web.Request, operation: Operation, store: VendorStore) -> str | None:
        """The app a request acts for.

        An app is an (id, secret key) pair. With apps pinned by `--app`, only
        those apps exist, as on the real API; with none pinned, any app id is
        bound to the first key it is used with (trust on first use), so a wrong
        key is still refused. The key may come as X-App-Token or as
        `Authorization: Bearer <key>` (X-App-Id optional then).
        """
        secured, query_keys = self._auth_plan(operation)
        if not secured:
            return None
        if query_keys and _offered(request.query, query_keys):
            return None  # e.g. a download: its token is checked against the export it opens
        app_id = request.headers.get("X-App-Id", "").strip()
        key = request.headers.get("X-App-Token", "").strip() or bearer_token(request.headers.get("Authorization", ""))
        if not key:
            raise ApiError(
                401,
                "unauthorized",
                "Unauthorized",
                "Send X-App-Id and X-App-Token headers, or Authorization: Bearer <secret key>",
            )
        if not _credential(app_id) or not _credential(key):  # never stored or echoed: control bytes, 10 KB ids …
            raise ApiError(
                401,
                "unauthorized",
                "Unauthorized",
                f"The app id and secret key must be printable text of at most {MAX_CREDENTIAL} characters",
            )
        if not app_id:
            app_id = await self._app_of_key(key, store)
            if app_id is None:
                raise ApiError(401, "unauthorized", "Unauthorized", "Unknown bearer token; send X-App-Id with it")
            return app_id
        await self._check_key(app_id, key, store)
        return app_id

    def _auth_plan(self, operation: Operation) -> tuple[bool, tuple[tuple[str, ...], ...]]:
        """Whether the operation is secured, and the query parameter names of each of its security
        alternatives made only of query api keys: read off the spec once per operation."""
        plan = self._plans.get(operation.operation_id)
        if plan is None or plan[0] is not operation:
            schemes = self.spec.security_schemes
            query_keys = tuple(
                tuple(schemes[name]["name"] for name in requirement)
                for requirement in operation.security
                if requirement and all(schemes[name].get("in") == "query" for name in requirement)
            )
            plan = self._plans[operation.operation_id] = (operation, (operation.secured, query_keys))
        return plan[1]

    async def _check_key(self, app_id: str, key: str, owners: VendorStore) -> None:
        expected = self.apps.get(app_id)
        if expected is None and self.apps:
            raise ApiError(401, "unauthorized", "Unauthorized", f"Unknown app {app_id}")
        if expected is None:  # trust on first use: the app's bound key is in the store
            store = owners.tenant(app_id)
            stored = await store.get("credentials", app_id)
            if stored is None:
                if await self._bind(key, store):
                    return
                stored = await store.get("credentials", app_id)  # bound meanwhile
            expected = stored["token"]
        if not same(expected, key):
            raise ApiError(401, "unauthorized", "Unauthorized", f"Wrong secret key for app {app_id}")

    async def _bind(self, key: str, store: TenantStore) -> bool:
        """Bind a new app id to its first key; False when another request (maybe in
        another process sharing the store) bound it first. `add` makes both steps atomic."""
        if not await store.add("credentials", store.app, {"token": key}):
            return False
        # a bearer key names the first app bound to it; later apps sharing it need X-App-Id
        await store.add("app-keys", key, {"app_id": store.app})
        return True

    async def _app_of_key(self, key: str, store: VendorStore) -> str | None:
        for app_id, pinned in self.apps.items():
            if same(pinned, key):
                return app_id
        if self.apps:
            return None
        return await store.owner("app-keys", key)

    # -- errors ----------------------------------------------------------------
    def error_body(self, error: ApiError, request_id: str) -> dict:
        body = {
            "code": error.status,
            "key": error.key,
            "message": error.message,
            "details": error.details,
            "request_id": request_id,
        }
        if error.resource is not None:  # a 404 names what it did not find
            body["resource_type"], body["resource_id"] = error.resource
        return body

    def invalid(self, problem: Invalid, operation: Operation | None) -> ApiError:
        if problem.kind == "media_type":
            return ApiError(415, "unsupported_media_type", "Unsupported Media Type", problem.message)
        if problem.location in ("query", "path"):
            return ApiError(400, "invalid_query_params", "Invalid query params", problem.message)
        if problem.path.startswith(".parameters.fields"):
            return ApiError(
                400, "invalid_export_fields", "Invalid export fields", f"Property {problem.path}: {problem.message}"
            )
        where = f"Property {problem.path}: " if problem.path else ""
        return ApiError(400, "invalid_payload", "Invalid payload", where + problem.message)

    def request_id(self) -> str:
        return request_id("v-")


MAX_CREDENTIAL = 256


def _offered(query, alternatives: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the query has every parameter of one of the alternatives."""
    for names in alternatives:
        for name in names:
            if name not in query:
                break
        else:
            return True
    return False


def _credential(value: str) -> bool:
    """An app id or key the mock can store and echo: printable (no control characters or undecodable bytes)."""
    return len(value) <= MAX_CREDENTIAL and value.isprintable()
