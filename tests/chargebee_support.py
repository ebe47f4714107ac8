"""Helpers for the Chargebee tests: an in-process client that speaks Chargebee
(HTTP Basic, form bodies) and checks every answer against schemas/chargebee/,
and readers for the zip a download serves."""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from typing import Any
from urllib.parse import urlencode

from mockserver.spec import Spec

FORM = "application/x-www-form-urlencoded"
KEY = "test_cb_key"


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


class Reply:
    def __init__(self, status: int, headers: Any, body: Any, raw: bytes) -> None:
        self.status, self.headers, self.body, self.raw = status, headers, body, raw

    @property
    def json(self) -> Any:
        return self.body

    @property
    def export(self) -> dict:
        return self.body["export"]


class CbApi:
    """Speaks as one API key; every answer must be one the contract documents."""

    def __init__(self, client, spec: Spec, key: str | None = KEY) -> None:
        self.client, self.spec, self.key = client, spec, key

    def as_key(self, key: str | None) -> CbApi:
        return CbApi(self.client, self.spec, key)

    async def request(
        self, method: str, path: str, *, form: Any = None, body: Any = None, headers=None, check: bool = True
    ) -> Reply:
        """`form`: a dict or a list of (name, value) pairs, form-encoded; `body`: raw bytes/str as given."""
        sent = dict(headers or {})
        if self.key is not None:
            sent.setdefault("Authorization", basic(self.key))
        if form is not None:
            body = urlencode(form)
            sent.setdefault("Content-Type", FORM)
        resp = await self.client.request(method, path, headers=sent, data=body)
        raw = await resp.read()
        media = resp.content_type if raw else None
        parsed: Any = json.loads(raw) if media == "application/json" else None
        operation = self.spec.match(method, path.split("?")[0])
        if check and operation is not None:
            self.spec.check_response(operation, resp.status, media, parsed if media == "application/json" else raw)
        if resp.status >= 400:
            assert_cb_error(parsed, resp.status)
        return Reply(resp.status, resp.headers, parsed, raw)

    async def trigger(self, what: str = "orders", form: Any = None, **kw) -> Reply:
        return await self.request("POST", f"/api/v2/exports/{what}", form=form, **kw)

    async def retrieve(self, export_id: str, **kw) -> Reply:
        return await self.request("GET", f"/api/v2/exports/{export_id}", **kw)

    async def completed(self, export_id: str, steps: int = 4) -> dict:
        """Retrieve (lifecycle `poll`) until completed; the export resource."""
        for _ in range(steps):
            export = (await self.retrieve(export_id)).export
            if export["status"] == "completed":
                return export
        raise AssertionError(f"export {export_id} is still {export['status']}")

    async def download(self, export: dict) -> Reply:
        """GET the export's download_url without the API key."""
        url = export["download"]["download_url"]
        return await self.as_key(None).request("GET", url[url.index("/api/v2/") :])

    async def rows(self, what: str = "orders", form: Any = None) -> list[dict]:
        """Trigger, wait, download and read an export's CSV rows."""
        export = (await self.trigger(what, form)).export
        reply = await self.download(await self.completed(export["id"]))
        assert reply.status == 200, reply.body
        return read_zip(reply.raw)[1]


def assert_cb_error(body: Any, status: int) -> None:
    assert isinstance(body, dict), body
    assert {"message", "api_error_code", "error_code", "http_status_code"} <= set(body), body
    assert body["http_status_code"] == status
    assert body["error_code"] == body["api_error_code"]
    assert "request_id" not in body and "key" not in body  # nothing of Voucherify's shape


def read_zip(raw: bytes) -> tuple[list[str], list[dict], list[str]]:
    """(member names, rows of the first CSV as dicts, its header)."""
    archive = zipfile.ZipFile(io.BytesIO(raw))
    assert archive.testzip() is None
    names = archive.namelist()
    text = archive.read(names[0]).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return names, rows, list(reader.fieldnames or [])
