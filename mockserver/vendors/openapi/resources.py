"""Plain stored resources beside the exports (`x-mock.resources`, docs/openapi-vendors.md).

A resource is kept per tenant under its name: made by a `create` (its id `ids.prefix` + letters and
digits, its creation time, the body's properties), read by `retrieve`, paged by `list` as the API's
lists are (filtered by any declared query parameter naming one of its properties or flags), changed by
`update` (properties replaced, `metadata` merged), forgotten by `delete`. What a document cannot say is
annotated: the property naming another resource (`refers`: a finished export's file document or an
export; a create naming a missing one is a 400 worded as that one's 404, and the property expands into
its answer), when it stops working (`expires`, and the `expired` flag), a public capability URL
(`<origin><download path>` with a fresh token: the `download` operation sends the referenced file to
anyone holding it, the token finding its tenant through the store's owner lookup) and the referenced
document's list of its newest resources (`embed`). Answers are the response schemas filled from the
resource's view (render.py): `id`, `created_at`, `expires_at`, `expired`, `url`, and its properties by name.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ...clock import parse_iso
from ...errors import ApiError, not_found
from ...exports import ExportRecord
from ...respond import json_response, no_content, origin
from ...spec import Operation
from ...store import TenantStore
from ...validation import Invalid
from ..base import Call, Handler
from .annotations import Resource, Role
from .behaviour import Exports, _id_param, _json_schema, _success, _whole, _with_items, missing_error
from .expand import expanded
from .paging import id_page
from .render import fill, merged, render

_ALPHABET = string.ascii_letters + string.digits


class Resources:
    """The handlers of the operations acting on `x-mock.resources`, beside the engine's exports."""

    def __init__(self, exports: Exports, roles: Mapping[str, Role]) -> None:
        self.exports, self.api = exports, exports.api
        self.roles = dict(roles)
        self.ops = {op.operation_id: op for op in exports.spec.operations if op.operation_id in self.roles}

    def handlers(self) -> dict[str, Handler]:
        made: dict[str, Handler] = {}
        for op_id, role in self.roles.items():
            act = partial(getattr(self, role.role), self.ops[op_id], role, self.api.resources[str(role.resource)])

            async def handle(call: Call, act: partial = act) -> web.StreamResponse:
                return await act(call)

            made[op_id] = handle
        return made

    # -- operations ------------------------------------------------------------------------------
    async def create(self, op: Operation, role: Role, res: Resource, call: Call) -> web.Response:
        body = dict(call.inputs.body) if isinstance(call.inputs.body, Mapping) else {}
        if res.refers and body.get(res.refers) is not None:  # a missing reference: a 400 about the parameter
            try:
                await self._referenced(call, call.store, res, str(body[res.refers]))
            except ApiError as exc:
                raise ApiError(400, exc.key, exc.message, exc.details, param=exc.param) from None
        now = call.services.clock.now()
        record = {k: v for k, v in body.items() if k != self._expand_param}
        record.update(id=call.services.exports.ids.new(res.id_prefix, res.id_length), created=int(now))
        if res.expires is not None:
            given = body.get(res.expires.property)
            record[res.expires.property] = None if given is None else self._expiry(op, res, given, now)
        if res.metadata is not None:
            record[res.metadata] = _merged({}, body.get(res.metadata))
        if res.capability is not None:
            record["token"] = _token(res.capability.length)
            while not await call.store.add(_tokens(res), record["token"], {"id": record["id"]}):  # taken: another
                record["token"] = _token(res.capability.length)
        await call.store.put(res.name, record["id"], record)
        return await self._answer(op, role, res, call, record)

    async def retrieve(self, op: Operation, role: Role, res: Resource, call: Call) -> web.Response:
        return await self._answer(op, role, res, call, await self._get(op, role, res, call))

    async def update(self, op: Operation, role: Role, res: Resource, call: Call) -> web.Response:
        record = await self._get(op, role, res, call)
        body = call.inputs.body if isinstance(call.inputs.body, Mapping) else {}
        now = call.services.clock.now()
        expiry = res.expires
        for name, value in body.items():
            if name == self._expand_param or name == res.refers:
                continue
            if expiry is not None and name == expiry.property:
                if _expired(record, res, now):
                    details = fill(expiry.errors["expired"], {"noun": self._noun(res)})
                    raise self.exports._refuse(Invalid("body", f".{name}", str(details)), op)
                record[name] = self._expiry(op, res, value, now)
            elif name == res.metadata:
                record[name] = _merged(record.get(name) or {}, value)
            else:
                record[name] = value
        await call.store.put(res.name, record["id"], record)
        return await self._answer(op, role, res, call, record)

    async def delete(self, op: Operation, role: Role, res: Resource, call: Call) -> web.Response:
        record = await self._get(op, role, res, call)
        await call.store.delete(res.name, record["id"])
        if res.capability is not None:
            await call.store.delete(_tokens(res), record["token"])
        status = role.status or _success(op)
        return no_content() if status == 204 or _json_schema(op, status) is None else json_response({}, status)

    async def list(self, op: Operation, role: Role, res: Resource, call: Call) -> web.Response:
        given = {**call.request.query, **call.inputs.query}
        paging, now = self.api.paging, call.services.clock.now()
        paged = {paging.limit, paging.after, paging.before, paging.created, self._expand_param}
        wanted = {
            p.name: given[p.name]
            for p in op.parameters
            if p.location == "query" and p.name in given and p.name.split("[")[0] not in paged
        }
        kept = []
        for record in await call.store.list(res.name):
            flags = {**record, "expired": _expired(record, res, now)}
            if all(flags[name] == value for name, value in wanted.items() if name in flags and name != "token"):
                kept.append((record["created"], record["id"], record))
        limit = _whole(given.get(paging.limit), paging.limit, 100)
        page, more = id_page(kept, given, paging, self._noun(res), limit)
        status = role.status or _success(op)
        schema = _json_schema(op, status)
        if schema is None:
            return web.Response(status=status)
        listing, items = _listing(schema, role.items)
        shown = [await self._shown(items, res, call, record, self._list_key + ".") for record in page]
        view = {"items": shown, "url": op.path, "has_more": more, "total": len(kept)}
        return json_response(render(listing, view), status=status)

    async def download(self, op: Operation, role: Role, res: Resource, call: Call) -> web.StreamResponse:
        """The public capability URL: the referenced file, to anyone holding the token (404 once expired)."""
        token = str(call.inputs.path[role.id or _id_param(op)])
        app = await call.owners.owner(_tokens(res), token)
        store = call.owners.tenant(app) if app is not None else None
        kept = await store.get(_tokens(res), token) if store is not None else None
        record = await store.get(res.name, kept["id"]) if store is not None and kept is not None else None
        if store is None or record is None or _expired(record, res, call.services.clock.now()):
            assert res.capability is not None
            raise missing_error(res.capability.not_found, token, None)
        referenced = await self._referenced(call, store, res, str(record[res.refers or ""]))
        return await self.exports.send_file(call, referenced)

    # -- the referenced document's list ----------------------------------------------------------
    async def embed(self, call: Call, record: ExportRecord, file: dict[str, Any]) -> None:
        """Each resource referring to file documents: the newest `embed.limit` of those naming this one as
        the `embed` property of its view (a list as the file document's schema says it), and whether there
        are more."""
        schema = self.exports.file_schema
        for res in self.api.resources.values():
            if res.embed is None or res.refers_to != "file" or call.store is None:
                continue
            mine = sorted(
                (r for r in await call.store.list(res.name) if r.get(res.refers) == file["id"]),
                key=lambda r: (r["created"], r["id"]),
                reverse=True,
            )
            listing, _ = _listing(_plain(merged(schema).get("properties", {}).get(res.embed)), None)
            shown = [await self._shown(self._schema_of(res), res, call, r, None) for r in mine[: res.embed_limit]]
            lister = self._op_of(res, "list")
            url = f"{lister.path}?{res.refers}={quote(file['id'])}" if lister is not None else None
            view = {"items": shown, "has_more": len(mine) > res.embed_limit, "url": url, "total": len(mine)}
            file[res.embed] = render(listing, view)

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def _expand_param(self) -> str:
        return self.api.expand.param if self.api.expand is not None else "expand"

    @property
    def _list_key(self) -> str:
        return self.api.expand.list if self.api.expand is not None else "data"

    def _schema_of(self, res: Resource) -> dict:
        """A resource's own answer schema: its `retrieve` operation's, else its `create`'s (an embedded list's
        items are rendered so: the document's list schema may say no more than `object`)."""
        for wanted in ("retrieve", "create"):
            op = self._op_of(res, wanted)
            if op is not None:
                return _json_schema(op, self.roles[op.operation_id].status or _success(op)) or {}
        return {}

    def _op_of(self, res: Resource, role: str) -> Operation | None:
        """The operation doing `role` to `res` (None: none does)."""
        return next(
            (self.ops[op_id] for op_id, r in self.roles.items() if r.resource == res.name and r.role == role), None
        )

    def _noun(self, res: Resource) -> str:
        return res.not_found.noun if res.not_found is not None else res.name

    async def _get(self, op: Operation, role: Role, res: Resource, call: Call) -> dict:
        name = role.id or _id_param(op)
        ident = str(call.inputs.path[name])
        record = await call.store.get(res.name, ident)
        if record is None:
            raise missing_error(res.not_found, ident, name) if res.not_found else not_found(res.name, ident)
        return record

    async def _referenced(self, call: Call, store: TenantStore, res: Resource, ident: str) -> ExportRecord:
        """The export (or finished export, for a file) a resource's `refers` property names; its 404."""
        if res.refers_to == "file":
            return await self.exports.finished(call, store, ident, res.refers or "file")
        try:
            return await call.services.exports.get(store, ident, polled=False)
        except ApiError as exc:
            if exc.status != 404 or "export" not in self.api.not_found:
                raise
            raise self.exports.missing("export", ident, res.refers) from None

    def _expiry(self, op: Operation, res: Resource, value: Any, now: float) -> int | None:
        """An expiry as given: epoch seconds or a date-time, the `now` word, null or the `never` word (None)."""
        expiry = res.expires
        assert expiry is not None
        if value is None or (expiry.never is not None and value == expiry.never):  # JSON null: never
            return None
        if expiry.now is not None and value == expiry.now:
            return int(now)
        when = _time(value)
        if when is None or when <= now:
            shown = value if when is None else when
            details = fill(expiry.errors["past"], {"value": shown, "noun": self._noun(res)})
            raise self.exports._refuse(Invalid("body", f".{expiry.property}", str(details)), op)
        return when

    async def _answer(self, op: Operation, role: Role, res: Resource, call: Call, record: dict) -> web.Response:
        status = role.status or _success(op)
        schema = _json_schema(op, status)
        if schema is None:
            return web.Response(status=status)
        return json_response(await self._shown(schema, res, call, record, ""), status=status)

    async def _shown(self, schema: Any, res: Resource, call: Call, record: dict, within: str | None) -> Any:
        """A resource as `schema` says it; its reference expanded into the referenced document's answer when
        `expand` names it (`within`: the path of its items in the answer; None: never expanded)."""
        now = call.services.clock.now()
        expired = _expired(record, res, now)
        expires = record.get(res.expires.property) if res.expires else None
        base = origin(call.request)
        view: dict[str, Any] = {
            "id": record["id"],
            "created_at": float(record["created"]),
            "updated_at": float(record["created"]),
            "expires_at": None if expires is None else float(expires),
            "expired": expired,
            "url": self._url(res, record, base) if not expired else None,
            "origin": base,
        }
        if self.exports.extend_view is not None:
            await self.exports.extend_view(call, record, view)
        shown = {k: v for k, v in record.items() if k != "token"}
        if within is not None and res.refers and f"{within}{res.refers}" in expanded(call.request):
            referenced = await self._referenced(call, call.store, res, str(record[res.refers]))
            if res.refers_to == "file":
                shown[res.refers] = await self.exports.file_answer(referenced, call)
            else:
                shown[res.refers] = await self.exports.status_answer(referenced, call)
        return render(schema, view, shown)

    def _url(self, res: Resource, record: dict, base: str) -> str | None:
        op = self._op_of(res, "download") if res.capability is not None else None
        if op is None:
            return None
        name = self.roles[op.operation_id].id or _id_param(op)
        return base + op.path.replace("{" + name + "}", quote(record["token"], safe=""))


def _tokens(res: Resource) -> str:
    """The store kind mapping a resource's capability tokens to its ids (found across tenants by owner)."""
    return f"{res.name}_tokens"


def _token(length: int) -> str:
    """A fresh capability token: letters and digits both (so it reads as a capability link, and is masked)."""
    while True:
        token = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
            return token


def _expired(record: dict, res: Resource, now: float) -> bool:
    if res.expires is None:
        return False
    when = record.get(res.expires.property)
    return when is not None and when <= now


def _merged(old: Mapping[str, Any], given: Any) -> dict[str, Any]:
    """A metadata update: keys merge into the kept ones, an empty value unsets its key, empty text all."""
    if given is None:
        return dict(old)
    if given == "" or not isinstance(given, Mapping):
        return {}
    return {key: value for key, value in {**old, **given}.items() if value != ""}


def _time(value: Any) -> int | None:
    """Epoch seconds from a number, digits or an ISO 8601 date-time (None: none of those)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return int(parse_iso(text).timestamp())
    except ValueError:
        return None


def _plain(schema: Any) -> dict:
    """A schema without its `x-mock-value` (an embedded list named in the view, filled here)."""
    return {k: v for k, v in merged(schema).items() if k != "x-mock-value"}


def _listing(schema: Any, items: str | None) -> tuple[dict, dict]:
    """A list's schema reading the view's `items` in its array property, and the items' schema."""
    return _with_items(merged(schema), items)
