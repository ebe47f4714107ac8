"""File links to a report run's File (`/v1/file_links`: create, list, retrieve, update) and the public
download a link's `url` is: a resource of their own beside the engine's exports, so Python.

A link's URL carries its only credential, a token of LINK_TOKEN_CHARS
URL-safe characters in the path: `<origin>/links/<token>` (Stripe's are
`https://files.stripe.com/links/<token>`). The token is a long opaque path
segment mixing letters and digits, the shape mockserver's journal redacts as a
capability link. Links are kept per account (kind `file_links`); the token
finds its link's account through the store's owner lookup (kind
`file_link_tokens`), as Voucherify's download tokens do.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ...errors import ApiError
from ...respond import json_response, origin
from ...store import TenantStore
from ..base import Call
from ..openapi.expand import expanded
from ..openapi.paging import id_page
from .objects import missing

if TYPE_CHECKING:
    from ..openapi.behaviour import Exports

LINKS = "file_links"
TOKENS = "file_link_tokens"
LINK_PREFIX = "link_"
LINK_TOKEN_CHARS = 64
PATH = "/links/"
EMBEDDED = 10  # links a File shows in its `links` list (the rest: has_more, and the list operation)


async def links_of(call: Call, file_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The newest links of a file, rendered, and whether there are more."""
    if call.store is None:
        return [], False
    mine = sorted(
        (link for link in await call.store.list(LINKS) if link["file"] == file_id),
        key=lambda link: (link["created"], link["id"]),
        reverse=True,
    )
    now = call.services.clock.now()
    return [_render(link, call.request, now) for link in mine[:EMBEDDED]], len(mine) > EMBEDDED


def _expired(link: dict, now: float) -> bool:
    return link["expires_at"] is not None and link["expires_at"] <= now


def _render(link: dict, request: web.Request, now: float, file: Any = None) -> dict[str, Any]:
    expired = _expired(link, now)
    return {
        "id": link["id"],
        "object": "file_link",
        "created": link["created"],
        "expired": expired,
        "expires_at": link["expires_at"],
        "file": file if file is not None else link["file"],
        "livemode": link["livemode"],
        "metadata": link["metadata"],
        "url": None if expired else f"{origin(request)}{PATH}{link['token']}",
    }


def _token() -> str:
    """A fresh link token: URL-safe, with letters and digits both (so it reads as a capability link)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        token = "".join(secrets.choice(alphabet) for _ in range(LINK_TOKEN_CHARS))
        if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
            return token


def _metadata(old: dict[str, str], given: Any) -> dict[str, str]:
    """Stripe's metadata update: empty `metadata` clears it, an empty value unsets its key."""
    if given is None:
        return old
    if given == "":
        return {}
    merged = {**old, **given}
    return {key: value for key, value in merged.items() if value != ""}


class FileLinks:
    """The handlers of file links, to the engine's file documents (the runs' results)."""

    def __init__(self, exports: Exports) -> None:
        self.exports = exports

    def handlers(self) -> dict:
        return {
            "create-file-link": self.create,
            "list-file-links": self.list,
            "retrieve-file-link": self.retrieve,
            "update-file-link": self.update,
            "download-file-link": self.download,
        }

    # -- file links --------------------------------------------------------------------------------
    async def create(self, call: Call) -> web.Response:
        body = call.inputs.body
        try:  # a file of this account; Stripe answers a missing object named by a parameter with a 400
            await self.exports.finished(call, call.store, body["file"], "file")
        except ApiError as exc:
            raise ApiError(400, exc.key, exc.message, exc.details, param=exc.param) from None
        now = call.services.clock.now()
        expires_at = int(body["expires_at"]) if "expires_at" in body else None
        if expires_at is not None and expires_at <= now:
            raise ApiError(
                400,
                "parameter_invalid",
                "Invalid parameter",
                f"Invalid expires_at: must be a time in the future; got {expires_at}",
                param="expires_at",
            )
        link = {
            "id": call.services.exports.ids.new(LINK_PREFIX, 24),
            "created": int(now),
            "file": body["file"],
            "expires_at": expires_at,
            "metadata": _metadata({}, body.get("metadata")),
            "livemode": "_live_" in (call.app_id or ""),
            "token": _token(),
        }
        if not await call.store.add(TOKENS, link["token"], {"link": link["id"]}):
            raise ApiError(500, "internal_error", "Internal Server Error", "A link token was taken; try again")
        await call.store.put(LINKS, link["id"], link)
        return json_response(await self._shown(link, call, "file"))

    async def list(self, call: Call) -> web.Response:
        query, now = call.inputs.query, call.services.clock.now()
        links = [
            link
            for link in await call.store.list(LINKS)
            if query.get("file") in (None, link["file"]) and query.get("expired") in (None, _expired(link, now))
        ]
        paging = self.exports.api.paging
        triples = [(link["created"], link["id"], link) for link in links]
        page, more = id_page(triples, query, paging, "file link", query[paging.limit])
        return json_response(
            {
                "object": "list",
                "data": [await self._shown(link, call, "data.file") for link in page],
                "has_more": more,
                "url": call.operation.path,
            }
        )

    async def retrieve(self, call: Call) -> web.Response:
        return json_response(await self._shown(await self._link(call), call, "file"))

    async def update(self, call: Call) -> web.Response:
        link = await self._link(call)
        body = call.inputs.body or {}
        now = call.services.clock.now()
        if "expires_at" in body:
            if _expired(link, now):
                raise ApiError(
                    400,
                    "parameter_invalid",
                    "Invalid parameter",
                    "Invalid expires_at: an expired link cannot be changed",
                    param="expires_at",
                )
            given = body["expires_at"]
            expires_at = None if given == "" else int(now) if given == "now" else int(given)
            if given not in ("", "now") and expires_at <= now:
                raise ApiError(
                    400,
                    "parameter_invalid",
                    "Invalid parameter",
                    f"Invalid expires_at: must be a time in the future; got {expires_at}",
                    param="expires_at",
                )
            link["expires_at"] = expires_at
        link["metadata"] = _metadata(link["metadata"], body.get("metadata"))
        await call.store.put(LINKS, link["id"], link)
        return json_response(await self._shown(link, call, "file"))

    async def download(self, call: Call) -> web.StreamResponse:
        token = call.inputs.path["token"]
        app = await call.owners.owner(TOKENS, token)
        store = call.owners.tenant(app) if app is not None else None
        kept = await store.get(TOKENS, token) if store is not None else None
        link = await store.get(LINKS, kept["link"]) if kept is not None else None
        if store is None or link is None or _expired(link, call.services.clock.now()):
            raise ApiError(
                404,
                "resource_missing",
                "No such file link",
                "No such file link: this link does not exist or has expired.",
            )
        return await self.exports.send_file(call, await self.exports.finished(call, store, link["file"]))

    # -- helpers -----------------------------------------------------------------------------------
    async def _link(self, call: Call) -> dict:
        link_id = call.inputs.path["link"]
        link = await call.store.get(LINKS, link_id)
        if link is None:
            raise missing("file link", link_id, "link")
        return link

    async def _shown(self, link: dict, call: Call, expand_path: str) -> dict[str, Any]:
        """The link as answered; its `file` expanded into the File when expand[] asks for it."""
        file = None
        if expand_path in expanded(call.request):
            store: TenantStore = call.store
            file = await self.exports.file_answer(await self.exports.finished(call, store, link["file"]), call)
        return _render(link, call.request, call.services.clock.now(), file)
