"""Voucherify, on the generic engine (mockserver.vendors.openapi) for what its overlay states:
schemas/voucherify/overlay.yaml says its credentials (an app is its X-App-Id and the secret key bound
to it, sent as X-App-Token or as a Bearer token alone; trust on first use until `--app ID:TOKEN` pins
apps), its `{code, key, message, details, request_id}` error object, how it words a request's
problems, its request ids and its export statuses.

The engine also serves its exports (create, get, list, delete, and the file Get Export answers given
the token of `result.url`), renders its Export object from the response schema and echoes the
parameters an export runs with. Python stays for what goes beyond: the transaction exports' scopes
(transactions.py: the path's voucher, member or campaign, looked up in the app's fixtures, handed to
the engine's create), orders and their import (orders.py), async actions (async_actions.py), its row
recipes (data/), fixtures and their recording, and the `--app`/`--max-orders` options.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ... import argtypes
from ...options import Option
from ...spec import Spec, bundled_spec, schemas_dir
from ...store import Store, TenantStore
from ..base import Handler, Imported
from ..openapi import OpenApiVendor
from . import async_actions, data, exports, orders, transactions


class Voucherify(OpenApiVendor):
    name = "voucherify"
    folder = schemas_dir() / "voucherify"
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

    def __init__(
        self,
        spec: Spec | None = None,
        apps: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        max_orders: int = orders.MAX_ORDERS,
    ) -> None:
        super().__init__(spec=spec or bundled_spec("voucherify"))
        assert self.accounts is not None  # the overlay's x-mock.account
        self.apps = self.accounts.pinned  # pinned app id → token (--app ID:TOKEN gives pairs; fixtures add theirs)
        self.apps.update(dict(apps or {}))
        self.engine = self.exports  # the generic engine's export operations, as the overlay's roles say
        exports.check_statuses(self.spec, self.api)
        self.async_actions = async_actions.AsyncActions(self.spec)
        self.orders = orders.Orders(self.spec, self.async_actions, max_orders)
        self.transactions = transactions.Transactions(self.engine)

    def handlers(self) -> dict[str, Handler]:
        engine = self.engine.handlers()
        return {
            **{operation: engine[operation] for operation in self.engine.roles},
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
