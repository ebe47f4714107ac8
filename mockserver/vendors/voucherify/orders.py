"""Voucherify's Orders API: create (upsert), get, update, list and import.

Orders are kept in the store as the Order objects clients see, so an orders
export of the app reads exactly them (see `stored_records`). Every write is
an `OrderBook` working inside one store transaction (`TenantStore.transact`):
off the event loop, atomic however many requests (and processes) upsert the
same `source_id` at once, and a failing request changes nothing. The book
reads only the records it needs, by id or by `source_id` (indexed in every
store), so a request costs the same with 10 or 50,000 orders stored.

An app keeps at most `--max-orders` orders, and as many customers: an order
that would be one more is refused with Voucherify's answer to a request over
the plan's limits (402), and nothing of the request is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any

from aiohttp import web

from ...clock import iso
from ...errors import ApiError, not_found
from ...ids import Ids
from ...respond import json_response
from ...spec import Spec
from ...store import TenantStore, Transaction
from ..base import Call, Handler
from . import transactions
from .async_actions import AsyncActions

ORDERS = "orders"
CUSTOMERS = "customers"
SOURCE_ID = "source_id"  # what orders and customers are upserted by (store.UNIQUE indexes it)
CUSTOMER_FIELDS = ("source_id", "name", "description", "email", "phone", "birthday", "birthdate", "address", "metadata")
MAX_ORDERS = 50_000  # per app, the default of --max-orders


class Orders:
    def __init__(self, spec: Spec, async_actions: AsyncActions, max_orders: int | None = MAX_ORDERS) -> None:
        self.async_actions = async_actions
        self.default_status = spec.schema("OrderStatus")["enum"][0]  # CREATED
        self.max_orders = max_orders

    def handlers(self) -> dict[str, Handler]:
        return {
            "create-order": self.create_order,
            "get-order": self.get_order,
            "update-order": self.update_order,
            "list-orders": self.list_orders,
            "import-orders": self.import_orders,
        }

    def books(self, call: Call) -> Callable[[Transaction], OrderBook]:
        """An OrderBook for the request's transaction (the clock read here, on the event loop)."""
        return partial(
            OrderBook,
            ids=call.services.exports.ids,
            now=call.services.clock.now(),
            default_status=self.default_status,
            max_records=self.max_orders,
        )

    async def create_order(self, call: Call) -> web.Response:
        body, book = call.inputs.body or {}, self.books(call)  # no body: an order with nothing given
        order = await call.store.transact(lambda txn: book(txn).upsert(body))
        return json_response(order)

    async def get_order(self, call: Call) -> web.Response:
        ident = call.inputs.path["orderId"]
        order = await call.store.get(ORDERS, ident) or await call.store.find(ORDERS, SOURCE_ID, ident)
        if order is None:
            raise not_found("order", ident)
        return json_response(order)

    async def update_order(self, call: Call) -> web.Response:
        ident, body, books = call.inputs.path["orderId"], call.inputs.body or {}, self.books(call)

        def update(txn: Transaction) -> dict:
            book = books(txn)
            return book.update(book.require(ident), body)

        return json_response(await call.store.transact(update))

    async def list_orders(self, call: Call) -> web.Response:
        orders = await call.store.list(ORDERS)
        # filtering and sorting 50,000 orders takes a while: not on the event loop
        return json_response(await asyncio.to_thread(_listed, orders, call.inputs.query))

    async def import_orders(self, call: Call) -> web.Response:
        bodies, books = call.inputs.body or [], self.books(call)  # no body: nothing to import

        def import_all(txn: Transaction) -> None:
            book = books(txn)
            for index, body in enumerate(bodies):
                try:
                    book.upsert(body)
                except ApiError as exc:
                    raise ApiError(exc.status, exc.key, exc.message, f"Order [{index}]: {exc.details}") from None

        await call.store.transact(import_all)
        count = len(bodies)
        action = await self.async_actions.start(
            call,
            "ORDERS_IMPORT",
            {"message": f"{count} order(s) imported", "done_count": count, "failed_count": 0, "failed": []},
        )
        return json_response({"async_action_id": action.id})


def _listed(orders: list[dict], query: Mapping[str, Any]) -> dict:
    """A page of list-orders: filtered by created_at, sorted, sliced."""
    before, after = query.get("created_at[before]"), query.get("created_at[after]")
    if before:
        bound = _epoch(before, "Query created_at[before]")
        orders = [o for o in orders if _epoch(o["created_at"]) < bound]
    if after:
        bound = _epoch(after, "Query created_at[after]")
        orders = [o for o in orders if _epoch(o["created_at"]) > bound]
    key = query["order"].lstrip("-")
    orders.sort(key=lambda o: _epoch(o[key] or o["created_at"]), reverse=query["order"].startswith("-"))
    start = (query["page"] - 1) * query["limit"]
    return {
        "object": "list",
        "data_ref": "orders",
        "orders": orders[start : start + query["limit"]],
        "total": len(orders),
    }


@dataclass
class OrderBook:
    """An app's orders and customers for one request, read and written through one store
    transaction (called on a thread): what it writes is stored when the request succeeds, or not at all."""

    txn: Transaction
    ids: Ids
    now: float
    default_status: str
    max_records: int | None = None  # per kind (orders, customers); None: no cap
    _counts: dict[str, int] = field(default_factory=dict)  # kind → records once what is staged is stored

    def find(self, ident: str) -> dict | None:
        """The order with this id, or else with this source_id."""
        return self.txn.get(ORDERS, ident) or self.txn.find(ORDERS, SOURCE_ID, ident)

    def require(self, ident: str) -> dict:
        order = self.find(ident)
        if order is None:
            raise not_found("order", ident)
        return order

    def upsert(self, body: Mapping[str, Any], *, create_with_id: bool = False) -> dict:
        """Create an order, or update the one its `id` / `source_id` names.

        An unknown `id` is a 404, as in the API; fixtures may create orders
        with ids of their choosing (`create_with_id`).
        """
        body = given(body)
        if body.get("id") and not (create_with_id and self.find(body["id"]) is None):
            return self.update(self.require(body["id"]), body)
        existing = self.txn.find(ORDERS, SOURCE_ID, body[SOURCE_ID]) if body.get(SOURCE_ID) else None
        if existing is not None:
            return self.update(existing, body)
        self._one_more(ORDERS)
        return self._save(
            self._compute(
                {
                    "id": body.get("id") or self.ids.new("ord_"),
                    "status": self.default_status,
                    "created_at": self.created_at(),
                    "updated_at": None,
                },
                body,
                fresh=True,
            )
        )

    def update(self, order: dict, body: Mapping[str, Any]) -> dict:
        body = given(body)
        source_id = body.get(SOURCE_ID)
        other = self.txn.find(ORDERS, SOURCE_ID, source_id) if source_id else None
        if other is not None and other["id"] != order["id"]:
            raise ApiError(
                409,
                "duplicate_source_id",
                "Duplicated source_id",
                f"Property .source_id: another order already has source_id {source_id}",
            )
        return self._save(self._compute({**order, "updated_at": iso(self.now)}, body, fresh=False))

    def created_at(self) -> str:
        return iso(self.now)

    def _one_more(self, kind: str) -> None:
        """Count a record about to be created; 402 (Voucherify's "over your plan's limits") past the cap."""
        if self.max_records is None:
            return
        if kind not in self._counts:
            self._counts[kind] = self.txn.count(kind)
        if self._counts[kind] >= self.max_records:
            raise ApiError(
                402,
                "limit_exceeded",
                "Payment Required",
                f"This app keeps at most {self.max_records} {kind} (mockserver serve --max-orders); "
                "nothing of this request was stored",
            )
        self._counts[kind] += 1

    # -- computing an order ------------------------------------------------------
    def _compute(self, order: dict, body: Mapping[str, Any], *, fresh: bool) -> dict:
        if "items" in body:
            order["items"] = [_item(raw) for raw in body["items"]]
        order.setdefault("items", [])
        for name in ("source_id", "status", "metadata"):
            if name in body:
                order[name] = body[name]
        order.setdefault("source_id", None)
        order.setdefault("metadata", {})
        if "created_at" in body:
            order["created_at"] = iso(_epoch(body["created_at"], "Property .created_at"))
        if "amount" in body:
            order["amount"] = body["amount"]
        elif fresh or "items" in body:
            order["amount"] = sum(item["amount"] for item in order["items"])
        order["initial_amount"] = body.get("initial_amount", order["amount"])
        order["discount_amount"] = body.get("discount_amount", order.get("discount_amount", 0))
        order["items_discount_amount"] = sum(item.get("discount_amount", 0) for item in order["items"])
        order["total_discount_amount"] = order["discount_amount"] + order["items_discount_amount"]
        order["total_amount"] = max(order["amount"] - order["total_discount_amount"], 0)
        for role in ("customer", "referrer"):
            if body.get(role):
                order[f"{role}_id"] = self._customer_id(body[role])
            order.setdefault(f"{role}_id", None)
        if body.get("referrer_id"):
            order["referrer_id"] = body["referrer_id"]
        for role in ("customer", "referrer"):  # the vendor omits them for an order without one (never null)
            if order[f"{role}_id"]:
                order[role] = {"id": order[f"{role}_id"], "object": "customer"}
            else:
                order.pop(role, None)
        order["object"] = "order"
        order.setdefault("redemptions", {})
        return order

    def _customer_id(self, reference: Mapping[str, Any]) -> str | None:
        """A referenced customer's id; a `source_id` upserts the customer."""
        if reference.get("id"):
            return reference["id"]
        details = {name: reference[name] for name in CUSTOMER_FIELDS if name in reference}
        if not details:
            return None
        return self.upsert_customer(details)["id"]

    def upsert_customer(self, details: Mapping[str, Any]) -> dict:
        existing = self.txn.find(CUSTOMERS, SOURCE_ID, details[SOURCE_ID]) if details.get(SOURCE_ID) else None
        if existing is not None:
            customer = {**existing, **details, "updated_at": iso(self.now)}
        else:
            self._one_more(CUSTOMERS)
            customer = {
                "object": "customer",
                "source_id": None,
                **details,
                "created_at": self.created_at(),
                "updated_at": None,
            }
            customer.setdefault("id", self.ids.new("cust_"))
        self.txn.put(CUSTOMERS, customer["id"], customer)
        return customer

    def _save(self, order: dict) -> dict:
        self.txn.put(ORDERS, order["id"], order)
        return order


def given(value: Any) -> Any:
    """A body without its null properties: the official SDKs send null for "not given"."""
    if isinstance(value, Mapping):
        return {name: given(item) for name, item in value.items() if item is not None}
    if isinstance(value, list):
        return [given(item) for item in value]
    return value


def _item(raw: Mapping[str, Any]) -> dict:
    """An order line as Voucherify computes it: amount = price × quantity unless given."""
    item: dict[str, Any] = {"object": "order_item", **raw}
    price = raw.get("price", (raw.get("sku") or {}).get("price", (raw.get("product") or {}).get("price")))
    if price is not None:
        item["price"] = round(price)
    if "amount" not in raw:
        item["amount"] = round(price or 0) * raw.get("quantity", 1)
    discount = raw.get("discount_amount", 0)
    item["subtotal_amount"] = max(item["amount"] - discount, 0)
    return item


def _epoch(value: str, where: str = "created_at") -> float:
    """Seconds since the epoch of an ISO 8601 date-time (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, "invalid_payload", "Invalid payload", f"{where}: {value!r} is not an ISO 8601 date-time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


# -- what exports read instead of synthetic rows ----------------------------------
STORED_KINDS = {"order": ORDERS, "customer": CUSTOMERS, "voucher": transactions.VOUCHERS}


async def stored_records(spec: Spec, store: TenantStore, exported_object: str) -> list[dict] | None:
    """The app's stored records of an exported object as export rows, or None
    when it has none (then the export gets the synthetic data set).

    A row attribute is the record's property of that name, or a nested one
    (`address_city` is `address.city`); the attributes are the spec's
    `x-export-rows` schema of the object.
    """
    kind = STORED_KINDS.get(exported_object)
    records = await store.list(kind) if kind else []
    if not records:
        return None
    row_schema = spec.document.get("x-export-rows", {}).get(exported_object)
    attributes = list(spec.schema(row_schema)["properties"]) if row_schema else list(records[0])
    # 50,000 orders × their attributes take a while: not on the event loop
    return await asyncio.to_thread(
        lambda: [{name: _attribute(record, name) for name in attributes} for record in records]
    )


def _attribute(record: Mapping[str, Any], name: str) -> Any:
    if name in record:
        return record[name]
    head, _, rest = name.partition("_")
    nested = record.get(head)
    return nested.get(rest) if rest and isinstance(nested, Mapping) else None
