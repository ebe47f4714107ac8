"""Transaction and points-expiration exports of vouchers, loyalty cards and campaigns.

Each call creates an ordinary export (the engine's create, as the overlay's role
says) whose rows are scoped to the card and/or campaign in the path, and whose
`parameters.filters` echo the scope the way Voucherify does.

How the mock knows vouchers and campaigns: an app whose fixtures define
vouchers (campaigns) knows exactly those, and any other code (campaign) is a
404. An app without any accepts every code and campaign, as the synthetic
data set has them all, so SDK tests need no set-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ...control.prefer import creates_export
from ...errors import not_found
from ...store import TenantStore
from ..base import Call, Handler
from ..openapi.behaviour import Exports
from .exports import voucher_id

VOUCHERS = "vouchers"
CAMPAIGNS = "campaigns"


class Transactions:
    def __init__(self, engine: Exports) -> None:
        self.engine = engine

    def handlers(self) -> dict[str, Handler]:
        return {
            "export-voucher-transactions": self.export_voucher_transactions,
            "export-loyalty-card-transactions": self.export_card_transactions,
            "export-loyalty-campaign-card-transactions": self.export_card_transactions,
            "export-loyalty-campaign-transactions": self.export_campaign_transactions,
            "export-campaign-transactions": self.export_campaign_transactions,
            "create-points-expiration-export": self.export_points_expiration,
        }

    @creates_export
    async def export_voucher_transactions(self, call: Call) -> web.Response:
        # Voucherify echoes `filters.voucher_id.conditions.$in: [code]` here, but the
        # official Python SDK 6.x cannot parse that (it caps each value at one
        # character) while it requires `filters`: only the sent filters are echoed.
        # The rows are still the voucher's.
        voucher = await require_voucher(call.store, call.inputs.path["code"])
        return await self._schedule(call, {}, {"voucher_id": voucher["id"]})

    @creates_export
    async def export_card_transactions(self, call: Call) -> web.Response:
        """One loyalty card's transactions, optionally within a named campaign."""
        member = call.inputs.path["memberId"]
        card = await require_voucher(call.store, member)
        echo = {"voucher_id": _in(member)}
        scope = {"voucher_id": card["id"]}
        if "campaignId" in call.inputs.path:
            campaign = call.inputs.path["campaignId"]
            echo["campaign_id"] = _in(campaign)
            scope["campaign_id"] = (await require_campaign(call.store, campaign))["id"]
        return await self._schedule(call, echo, scope)

    @creates_export
    async def export_campaign_transactions(self, call: Call) -> web.Response:
        # Voucherify echoes `campaign_id: {conditions: {$in: [campaignId]}}` here, but
        # the official Python SDK 6.x caps each of those values at one character
        # and would fail to parse the answer: only the sent filters are echoed.
        campaign = await require_campaign(call.store, call.inputs.path["campaignId"])
        return await self._schedule(call, {}, {"campaign_id": campaign["id"]})

    @creates_export
    async def export_points_expiration(self, call: Call) -> web.Response:
        name = call.inputs.path["campaignId"]
        campaign = await require_campaign(call.store, name)
        return await self._schedule(call, {"campaign_id": _in(name)}, {"campaign_id": campaign["id"]})

    async def _schedule(self, call: Call, scope_filters: dict, scope: dict) -> web.Response:
        """Fields default to this operation's own default (campaign exports have
        no `campaign_id` column); the echo adds the scope to the sent filters."""
        sent = (call.inputs.body or {}).get("parameters") or {}
        default = None
        if not sent.get("fields"):
            default = list(
                schema_lookup(call.operation.body_schemas["application/json"], "parameters", "fields", "default")
            )
        role = self.engine.roles[call.operation.operation_id]
        shown = {**(sent.get("filters") or {}), **scope_filters}
        return await self.engine.create(
            call.operation, role, call, scope=scope, shown_filters=shown, fields_default=default
        )


def schema_lookup(schema: Mapping[str, Any], *names: str) -> Any:
    """Follow property names (then a keyword) into a resolved schema, through
    the `anyOf`/`allOf` wrappers that nullable properties get."""
    name, rest = names[0], names[1:]
    if rest and name in schema.get("properties", {}):
        return schema_lookup(schema["properties"][name], *rest)
    if not rest and name in schema:
        return schema[name]
    for part in [*schema.get("anyOf", []), *schema.get("allOf", [])]:
        found = schema_lookup(part, *names)
        if found is not None:
            return found
    return None


def _in(value: str) -> dict:
    return {"conditions": {"$in": [value]}}


async def require_voucher(store: TenantStore, code: str) -> dict:
    """The app's voucher with this code or id; 404 only for apps that define vouchers."""
    return await _require(
        store, VOUCHERS, code, ("id", "code"), "voucher", lambda: {"id": voucher_id(code), "code": code}
    )


async def require_campaign(store: TenantStore, name: str) -> dict:
    """The app's campaign with this id or name; 404 only for apps that define campaigns."""
    return await _require(
        store, CAMPAIGNS, name, ("id", "name"), "campaign", lambda: {"id": campaign_id(name), "name": name}
    )


async def _require(store: TenantStore, kind: str, ident: str, keys: tuple[str, ...], noun: str, synthetic) -> dict:
    records = await store.list(kind)
    if not records:
        return synthetic()
    for record in records:
        if any(record.get(key) == ident for key in keys):
            return record
    raise not_found(noun, ident)


def campaign_id(name: str) -> str:
    """The campaign id a name stands for: ids pass through, names map to a stable `camp_` id."""
    if name.startswith("camp_"):
        return name
    return "camp_" + hashlib.sha256(name.encode()).hexdigest()[:24]


def voucher_record(
    voucher: Mapping[str, Any], campaigns: Mapping[str, dict], customers: Mapping[str, dict], created_at: str
) -> dict:
    """A fixture voucher as stored: named like the voucher export's row attributes."""
    campaign = campaigns.get(voucher.get("campaign") or "")
    customer = customers.get(voucher.get("customer") or "")
    return {
        "id": voucher.get("id") or voucher_id(voucher["code"]),
        "code": voucher["code"],
        "voucher_type": voucher.get("type"),
        "category": voucher.get("category"),
        "active": voucher.get("active", True),
        "campaign": campaign["name"] if campaign else None,
        "campaign_id": campaign["id"] if campaign else None,
        "customer_id": customer["id"] if customer else None,
        "customer_source_id": customer.get("source_id") if customer else None,
        "metadata": voucher.get("metadata", {}),
        "created_at": created_at,
        "updated_at": None,
    }
