"""Helpers for the tests on Ledger Reports (tests/specs/ledger/, an API of the tests' own that is data only):
an in-process client that checks every JSON answer against the document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockserver import registry
from mockserver.app import Settings, create_app

LEDGER = Path(__file__).parent / "specs" / "ledger"
KEY = {"Authorization": "Bearer ledger-key"}


class Ledger:
    """A client of the mock that checks every JSON answer against the document."""

    def __init__(self, client, vendor) -> None:
        self.client, self.spec = client, vendor.spec

    async def call(self, method: str, path: str, *, status: int, headers=KEY, **kwargs) -> Any:
        resp = await self.client.request(method, "/v1" + path, headers=headers, **kwargs)
        raw = await resp.read()
        assert resp.status == status, raw
        if resp.content_type != "application/json":
            return raw
        body = json.loads(raw)
        operation = self.spec.match(method, "/v1" + path.split("?")[0])
        self.spec.check_response(operation, resp.status, "application/json", body)
        return body

    async def file(self) -> dict:
        """A finished report's File."""
        made = await self.call("POST", "/reports", json={"dataset": "entries"}, status=200)
        for _ in range(3):
            done = await self.call("GET", f"/reports/{made['id']}", status=200)
            if done["result"]:
                return done["result"]
        raise AssertionError(done)

    async def shares(self, query: str = "", headers=KEY) -> list[dict]:
        return (await self.call("GET", "/shares" + query, status=200, headers=headers))["data"]


async def serve_ledger(aiohttp_client, clock, folder: Path = LEDGER) -> Ledger:
    """Ledger (or a changed copy of its folder) served in-process on a poll lifecycle, 7 rows a file."""
    served = registry.folder(str(folder))()
    client = await aiohttp_client(create_app(Settings(lifecycle="poll", rows=7), vendors=[served], clock=clock))
    return Ledger(client, served)
