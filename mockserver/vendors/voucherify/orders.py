"""Voucherify's Orders API: create (upsert), get, update, list and import.

Orders are kept in the store as the Order objects clients see, so an orders
export of the app reads exactly them (see `stored_records`). Every write goes
through an `OrderBook`, which stages changes and commits them only when the
whole request succeeded: a failing request changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ...clock import iso
from ...errors import ApiError, not_found
from ...ids import Ids
from ...respond import json_response
from ...spec import Spec
from ...store import TenantStore
from ..base import Call, Handler
from . import transactions
from .async_actions import AsyncActions

ORDERS = "orders"
CUSTOMERS = "customers"
CUSTOMER_FIELDS = ("source_id", "name", "description", "email", "phone", "birthday", "birthdate", "address",
                   "metadata")


class Orders:
    def __init__(self, spec: Spec, async_actions: AsyncActions) -> None:
        self.async_actions = async_actions
        self.default_status = spec.schema("OrderStatus")["enum"][0]  # CREATED

    def handlers(self) -> dict[str, Handler]:
        return {
            "create-order": self.create_order,
            "get-order": self.get_order,
            "update-order": self.update_order,
            "list-orders": self.list_orders,
            "import-orders": self.import_orders,
        }

    async def book(self, call: Call) -> OrderBook:
        return await OrderBook.load(call.store, call.services.exports.ids, call.services.clock.now(),
                                    self.default_status)

    async def create_order(self, call: Call) -> web.Response:
        book = await self.book(call)
        order = book.upsert(call.inputs.body or {})  # no body: an order with nothing given
        await book.commit()
        return json_response(order)

    async def get_order(self, call: Call) -> web.Response:
        return json_response((await self.book(call)).require(call.inputs.path["orderId"]))

    async def update_order(self, call: Call) -> web.Response:
        book = await self.book(call)
        order = book.update(book.require(call.inputs.path["orderId"]), call.inputs.body or {})
        await book.commit()
        return json_response(order)

    async def list_orders(self, call: Call) -> web.Response:
        query = call.inputs.query
        orders = await call.store.list(ORDERS)
        before, after = query.get("created_at[before]"), query.get("created_at[after]")
        if before:
            orders = [o for o in orders if _epoch(o["created_at"]) < _epoch(before, "Query created_at[before]")]
        if after:
            orders = [o for o in orders if _epoch(o["created_at"]) > _epoch(after, "Query created_at[after]")]
        key = query["order"].lstrip("-")
        orders.sort(key=lambda o: _epoch(o[key] or o["created_at"]), reverse=query["order"].startswith("-"))
        start = (query["page"] - 1) * query["limit"]
        return json_response({"object": "list", "data_ref": "orders", "orders": orders[start:start + query["limit"]],
                              "total": len(orders)})

    async def import_orders(self, call: Call) -> web.Response:
        book = await self.book(call)
        bodies = call.inputs.body or []  # no body: nothing to import
        for index, body in enumerate(bodies):
            try:
                book.upsert(body)
            except ApiError as exc:
                raise ApiError(exc.status, exc.key, exc.message, f"Order [{index}]: {exc.details}") from None
        await book.commit()
        count = len(bodies)
        action = await self.async_actions.start(call, "ORDERS_IMPORT", {
            "message": f"{count} order(s) imported", "done_count": count, "failed_count": 0, "failed": []})
        return json_response({"async_action_id": action["id"]})


@dataclass
class OrderBook:
    """An app's orders and customers for one request: reads see staged writes,
    `commit()` stores them all (nothing is stored if the request fails first)."""

    store: TenantStore
    ids: Ids
    now: float
    default_status: str
    _staged: dict[tuple[str, str], dict] = field(default_factory=dict)
    _by_key: dict[str, dict[str, dict]] = field(default_factory=dict)  # kind → id or source_id → record

    @classmethod
    async def load(cls, store: TenantStore, ids: Ids, now: float, default_status: str) -> OrderBook:
        book = cls(store, ids, now, default_status)
        for kind in (ORDERS, CUSTOMERS):
            index = book._by_key[kind] = {}
            for record in await store.list(kind):
                book._index(kind, record, index)
        return book

    def find(self, ident: str) -> dict | None:
        return self._by_key[ORDERS].get(ident)

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
        existing = self.find(body["source_id"]) if body.get("source_id") else None
        if existing is not None:
            return self.update(existing, body)
        return self._save(self._compute({"id": body.get("id") or self.ids.new("ord_"), "status": self.default_status,
                                         "created_at": self.created_at(), "updated_at": None}, body, fresh=True))

    def update(self, order: dict, body: Mapping[str, Any]) -> dict:
        body = given(body)
        source_id = body.get("source_id")
        other = self.find(source_id) if source_id else None
        if other is not None and other["id"] != order["id"]:
            raise ApiError(409, "duplicate_source_id", "Duplicated source_id",
                           f"Property .source_id: another order already has source_id {source_id}")
        return self._save(self._compute({**order, "updated_at": iso(self.now)}, body, fresh=False))

    def created_at(self) -> str:
        return iso(self.now)

    async def commit(self) -> None:
        for (kind, key), record in self._staged.items():
            await self.store.put(kind, key, record)
        self._staged.clear()

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
        existing = self._by_key[CUSTOMERS].get(details["source_id"]) if details.get("source_id") else None
        if existing is not None:
            customer = {**existing, **details, "updated_at": iso(self.now)}
        else:
            customer = {"object": "customer", "source_id": None, **details, "created_at": self.created_at(),
                        "updated_at": None}
            customer.setdefault("id", self.ids.new("cust_"))
        self._stage(CUSTOMERS, customer)
        return customer

    def _save(self, order: dict) -> dict:
        self._stage(ORDERS, order)
        return order

    def _stage(self, kind: str, record: dict) -> None:
        index = self._by_key[kind]
        for key in [k for k, v in index.items() if v.get("id") == record["id"]]:
            del index[key]  # a changed source_id must not find the old record
        self._index(kind, record, index)
        self._staged[(kind, record["id"])] = record

    @staticmethod
    def _index(kind: str, record: dict, index: dict[str, dict]) -> None:
        index[record["id"]] = record
        if record.get("source_id"):
            index[record["source_id"]] = record


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
        raise ApiError(400, "invalid_payload", "Invalid payload",
                       f"{where}: {value!r} is not an ISO 8601 date-time") from None
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
    return [{name: _attribute(record, name) for name in attributes} for record in records]


def _attribute(record: Mapping[str, Any], name: str) -> Any:
    if name in record:
        return record[name]
    head, _, rest = name.partition("_")
    nested = record.get(head)
    return nested.get(rest) if rest and isinstance(nested, Mapping) else None
