"""Vendors of data (docs/openapi-vendors.md): a fictional export API, Acme Reports
(tests/specs/acme/: its OpenAPI 3.1 document as published plus an overlay), served by the
generic engine with no Python of its own. Every answer is checked against the document's
response schemas; errors come in Acme's own shape. Then the folder rules: Swagger 2.0,
overlays that remove, and bad folders, documents, overlays and annotations refused in one
line naming the file."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mockserver import registry
from mockserver.app import SERVICES, Settings, create_app
from mockserver.documents import DocumentError, read_folder

ACME = Path(__file__).parent / "specs" / "acme"
KEY = "acme-key-1"


class Acme:
    """A client of the mock that checks every answer against the document."""

    def __init__(self, client, vendor, key: str | None = KEY) -> None:
        self.client, self.spec, self.key = client, vendor.spec, key

    async def call(self, method: str, path: str, *, status: int, headers=None, **kwargs) -> Any:
        sent = {"X-Acme-Key": self.key} if self.key else {}
        sent.update(headers or {})
        resp = await self.client.request(method, "/reports/v2" + path, headers=sent, **kwargs)
        raw = await resp.read()
        assert resp.status == status, raw
        operation = self.spec.match(method, "/reports/v2" + path.split("?")[0])
        media = resp.content_type if raw else None
        body: Any = json.loads(raw) if media == "application/json" else raw
        if operation is not None:
            self.spec.check_response(
                operation,
                resp.status,
                media if media == "application/json" else (media if raw else None),
                body if media == "application/json" else None,
            )
        if status >= 400:
            assert set(body) == {"error", "request_id"} and body["request_id"].startswith("req_"), body
            assert body["error"]["code"] and body["error"]["message"], body
        return body


@pytest.fixture
def vendor():
    return registry.folder(str(ACME))()


@pytest.fixture
async def acme(aiohttp_client, vendor):
    app = create_app(Settings(lifecycle="poll", rows=30), vendors=[vendor])
    return Acme(await aiohttp_client(app), vendor)


async def _finished(acme: Acme, **body) -> dict:
    export = await acme.call("POST", "/exports", json={"dataset": "orders", **body}, status=201)
    while export["state"] != "ready":
        export = await acme.call("GET", f"/exports/{export['id']}", status=200)
    return export


async def test_the_journey_create_poll_download(acme):
    export = await acme.call(
        "POST",
        "/exports",
        status=201,
        json={"dataset": "orders", "columns": ["id", "status", "amount"], "name": "Q1 orders"},
    )
    assert export["id"].startswith("exp_") and len(export["id"]) == 20
    assert export["state"] == "queued" and export["dataset"] == "orders" and "download_url" not in export
    assert isinstance(export["created_at"], int)
    states = [export["state"]]
    while export["state"] != "ready":
        export = await acme.call("GET", f"/exports/{export['id']}", status=200)
        states.append(export["state"])
    assert states == ["queued", "running", "ready"] and export["finished_at"] >= export["created_at"]
    assert export["download_url"].endswith(f"/reports/v2/exports/{export['id']}/file")
    file = await acme.call("GET", f"/exports/{export['id']}/file", status=200)
    rows = list(csv.reader(io.StringIO(file.decode())))
    assert rows[0] == ["id", "status", "amount"] and len(rows) == 31
    assert all(row[0].startswith("ord_") and row[1] in ("paid", "refunded", "pending") for row in rows[1:])
    stranger = Acme(acme.client, type("V", (), {"spec": acme.spec}), key="someone-else")
    await stranger.call("GET", f"/exports/{export['id']}/file", status=404)  # another tenant's export


async def test_a_sort_and_the_default_columns(acme):
    export = await _finished(acme, dataset="customers", sort="-created_at")
    rows = list(
        csv.DictReader(io.StringIO((await acme.call("GET", f"/exports/{export['id']}/file", status=200)).decode()))
    )
    assert list(rows[0]) == ["id", "email", "country", "created_at"]
    assert [row["created_at"] for row in rows] == sorted((row["created_at"] for row in rows), reverse=True)


@pytest.mark.parametrize(("fmt", "media"), [("tsv_gz", "application/gzip"), ("zip", "application/zip")])
async def test_packed_formats(acme, fmt, media):
    export = await _finished(acme, format=fmt, name="packed", columns=["id", "amount"])
    resp = await acme.client.get(f"/reports/v2/exports/{export['id']}/file", headers={"X-Acme-Key": KEY})
    assert resp.status == 200 and resp.content_type == media
    raw = await resp.read()
    if fmt == "zip":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            assert archive.namelist() == ["packed.csv"]
            text = archive.read("packed.csv").decode()
        assert text.splitlines()[0] == "id,amount"
        assert 'filename="packed.zip"' in resp.headers["Content-Disposition"]
    else:
        text = gzip.decompress(raw).decode()
        assert text.splitlines()[0] == "id\tamount" and len(text.splitlines()) == 31
        assert 'filename="packed.tsv.gz"' in resp.headers["Content-Disposition"]


async def test_a_tsv_file_is_written_from_the_engine_s_rows_never_from_its_csv_read_back(
    aiohttp_client, vendor, clock, csv_readers
):
    """A TSV file holds the very cells of the same export's CSV: written from the engine's rows
    (data.iter_rows), no mockserver module reads CSV text back with the csv module to repack it."""
    acme = Acme(
        await aiohttp_client(create_app(Settings(lifecycle="poll", rows=30), vendors=[vendor], clock=clock)), vendor
    )
    files = {}
    for fmt in ("csv", "tsv_gz"):
        export = await _finished(acme, dataset="customers", format=fmt)
        files[fmt] = await acme.call("GET", f"/exports/{export['id']}/file", status=200)
    assert not [name for name in csv_readers if name.startswith("mockserver")], csv_readers
    tsv = list(csv.reader(io.StringIO(gzip.decompress(files["tsv_gz"]).decode(), newline=""), delimiter="\t"))
    assert tsv == list(csv.reader(io.StringIO(files["csv"].decode(), newline=""))) and len(tsv) == 31


async def test_list_pages_newest_first(acme):
    made = [(await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201))["id"] for _ in range(3)]
    page = await acme.call("GET", "/exports?limit=2", status=200)
    assert [e["id"] for e in page["data"]] == made[::-1][:2] and page["total"] == 3 and page["has_more"] is True
    assert {e["dataset"] for e in page["data"]} == {"orders"}  # each export echoes its own request
    rest = await acme.call("GET", "/exports?limit=2&offset=2", status=200)
    assert [e["id"] for e in rest["data"]] == made[:1] and rest["has_more"] is False


async def test_cancel_then_delete(acme):
    export = await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201)
    cancelled = await acme.call("POST", f"/exports/{export['id']}/cancel", status=200)
    assert cancelled["state"] == "cancelled" and "download_url" not in cancelled
    again = await acme.call("POST", f"/exports/{export['id']}/cancel", status=409)
    assert again["error"]["code"] == "illegal_transition"
    assert await acme.call("DELETE", f"/exports/{export['id']}", status=204) == b""
    gone = await acme.call("GET", f"/exports/{export['id']}", status=404)
    assert export["id"] in gone["error"]["message"]


async def test_the_idempotency_header_answers_the_same_export(acme):
    headers = {"Idempotency-Key": "abc"}
    first = await acme.call("POST", "/exports", json={"dataset": "orders"}, headers=headers, status=201)
    second = await acme.call("POST", "/exports", json={"dataset": "customers"}, headers=headers, status=201)
    other = await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201)
    assert first["id"] == second["id"] != other["id"] and second["dataset"] == "orders"


async def test_an_idempotency_key_is_each_tenants_own(acme):
    """Two tenants using one key each get their own export (once a 500: stored ids are unique per vendor)."""
    headers = {"Idempotency-Key": "shared"}
    mine = await acme.call("POST", "/exports", json={"dataset": "orders"}, headers=headers, status=201)
    theirs = await Acme(acme.client, type("V", (), {"spec": acme.spec}), key="acme-key-2").call(
        "POST", "/exports", json={"dataset": "orders"}, headers=headers, status=201
    )
    again = await acme.call("POST", "/exports", json={"dataset": "orders"}, headers=headers, status=201)
    assert mine["id"] == again["id"] != theirs["id"]


async def test_bad_requests_in_acmes_shape(acme):
    unknown = await acme.call("POST", "/exports", json={"dataset": "invoices"}, status=400)
    assert "dataset" in unknown["error"]["message"]
    column = await acme.call("POST", "/exports", json={"dataset": "orders", "columns": ["nope"]}, status=400)
    assert "'nope'" in column["error"]["message"] and "amount" in column["error"]["message"]
    sort = await acme.call("POST", "/exports", json={"dataset": "orders", "sort": "nope"}, status=400)
    assert "nope" in sort["error"]["message"]
    await acme.call("GET", "/exports?limit=0", status=400)
    await acme.call("GET", "/exports?cursor=-1", status=400)  # a paging parameter the document does not declare


async def test_credentials_from_the_security_scheme(aiohttp_client, acme):
    missing = Acme(acme.client, type("V", (), {"spec": acme.spec}), key=None)
    body = await missing.call("GET", "/exports", status=401)
    assert body["error"]["code"] == "unauthorized"
    pinned = registry.folder(str(ACME))(keys=["only-this"])
    client = await aiohttp_client(create_app(Settings(), vendors=[pinned]))
    assert not pinned.trusts_new_credentials()
    await Acme(client, pinned, key="only-this").call("GET", "/exports", status=200)
    await Acme(client, pinned, key=KEY).call("GET", "/exports", status=401)


async def test_spec_folders_are_served_alone_with_their_keys_pinned(aiohttp_client):
    """`serve --spec DIR --spec-key KEY`: that API alone, those keys only."""
    app = create_app(Settings(specs=[str(ACME)], spec_keys=["only-this"]))
    (served,) = app[SERVICES].vendors
    assert served.name == "acme" and [o.flag for o in served.options] == ["--spec-key"]
    client = await aiohttp_client(app)
    await Acme(client, served, key="only-this").call("GET", "/exports", status=200)
    await Acme(client, served, key=KEY).call("GET", "/exports", status=401)


# -- folders ------------------------------------------------------------------------------------
SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "Old API", "version": "1"},
    "basePath": "/old/v1",
    "securityDefinitions": {"basic": {"type": "basic"}},
    "security": [{"basic": []}],
    "paths": {
        "/jobs": {
            "post": {
                "operationId": "startJob",
                "parameters": [
                    {"in": "body", "name": "body", "required": True, "schema": {"$ref": "#/definitions/JobRequest"}}
                ],
                "responses": {"202": {"description": "started", "schema": {"$ref": "#/definitions/Job"}}},
            }
        },
        "/jobs/{id}": {
            "get": {
                "operationId": "getJob",
                "parameters": [{"in": "path", "name": "id", "required": True, "type": "string"}],
                "responses": {"200": {"description": "the job", "schema": {"$ref": "#/definitions/Job"}}},
            }
        },
    },
    "definitions": {
        "JobRequest": {"type": "object", "properties": {"object": {"type": "string"}}},
        "Job": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {"id": {"type": "string"}, "status": {"type": "string"}, "url": {"type": "string"}},
        },
        "Row": {
            "type": "object",
            "x-recipe": "schema",
            "properties": {
                "id": {"type": "string", "x-id-prefix": "r_", "x-id-length": 8},
                "n": {"type": "integer", "minimum": 1, "maximum": 9},
            },
        },
    },
}
OVERLAY = """overlay: 1.0.0
info: {title: old, version: '1'}
actions:
  - target: $
    update:
      x-mock: {file: {format: tsv, compression: gzip}}
      x-export-rows: {rows: Row}
  - target: $.paths.*[?@.operationId == 'startJob']
    update: {x-mock: {role: create}}
  - target: $.paths['/jobs/{id}'].get
    update: {x-mock: {role: status}}
  - target: $.definitions.Job.properties.url
    remove: true
"""


def _folder(tmp_path: Path, document: Any = SWAGGER, overlay: str = OVERLAY, name: str = "old") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "api.json").write_text(json.dumps(document) if not isinstance(document, str) else document)
    (folder / "overlay.yaml").write_text(overlay)
    return folder


async def test_a_swagger_2_document_with_basic_auth_and_a_removed_property(aiohttp_client, tmp_path):
    vendor = registry.folder(str(_folder(tmp_path)))()
    assert vendor.name == "old" and vendor.prefixes == ("/old/v1",)
    assert "url" not in read_folder(tmp_path / "old").document["definitions"]["Job"]["properties"]
    client = await aiohttp_client(create_app(Settings(lifecycle="instant"), vendors=[vendor]))
    auth = {"Authorization": "Basic dXNlcjpwYXNz"}  # user:pass
    job = await (await client.post("/old/v1/jobs", json={}, headers=auth)).json()
    assert job["status"] == "PENDING" and set(job) == {"id", "status"}
    done = await (await client.get(f"/old/v1/jobs/{job['id']}", headers=auth)).json()
    assert done["status"] == "COMPLETE"
    refused = await client.get(f"/old/v1/jobs/{job['id']}")
    assert refused.status == 401 and (await refused.json())["status"] == 401


def test_the_contract_dialect_requires_only_the_error_keys_always_present(tmp_path):
    """`{param}` and a category that may be null are left out of some errors: the kit must not demand them.
    A download operation opened by its token alone is a signed URL: a wrong token is a 403."""
    overlay = OVERLAY.replace(
        "x-mock: {file: {format: tsv, compression: gzip}}",
        "x-mock: {file: {format: tsv, compression: gzip}, categories: {'400': bad, default: null}, "
        "error: {message: '{message}', type: '{category}', param: '{param}', code: '{code}'}}",
    )
    vendor = registry.folder(str(_folder(tmp_path, overlay=overlay)))
    assert vendor.contract.errors.required == ("message", "code")
    assert vendor.contract.exports.wrong_token_status == (401,)  # the file route


@pytest.mark.parametrize(
    ("document", "overlay", "says"),
    [
        (
            SWAGGER,
            OVERLAY.replace("'startJob'", "'stopJob'"),
            "overlay.yaml: action 2: $.paths.*[?@.operationId == 'stopJob'] selects nothing",
        ),
        (SWAGGER, OVERLAY.replace("$.paths.*[?@", "$.paths[?"), "overlay.yaml: action 2: "),
        (SWAGGER, "overlay: 1.0.0\nactions: []\n", "overlay.yaml: `actions` must be a non-empty list"),
        (SWAGGER, OVERLAY.replace("remove: true", "remove: true\n    update: {}"), "exactly one of `update` or"),
        (
            {**SWAGGER, "paths": {"/jobs": {"post": {"operationId": "startJob", "responses": "nope"}}}},
            OVERLAY.replace("  - target: $.paths['/jobs/{id}'].get\n    update: {x-mock: {role: status}}\n", ""),
            "api.json: not a valid OpenAPI document",
        ),
        ("{not json", OVERLAY, "api.json: not valid JSON"),
        (SWAGGER, OVERLAY.replace("role: create", "role: make"), "x-mock.role must be one of create"),
        (SWAGGER, OVERLAY.replace("role: create}", "role: create, colums: x}"), "unknown key 'colums'"),
        (SWAGGER, OVERLAY.replace("x-mock: {file:", "x-mock: {nmae: x, file:"), "unknown key 'nmae'"),
        (SWAGGER, OVERLAY.replace("compression: gzip", "compression: rar"), "x-mock.file.compression must be one of"),
        (
            SWAGGER,
            OVERLAY.replace("x-mock: {file:", "x-mock: {tenant: app, file:"),
            "x-mock.tenant must be digest or key",
        ),
        (
            SWAGGER,
            OVERLAY.replace("x-mock: {file:", "x-mock: {problems: {oops: {key: x}}, file:"),
            "unknown key 'oops'",
        ),
        (SWAGGER, OVERLAY.replace("x-mock: {file:", "x-mock: {problems: {missing: {}}, file:"), "needs `key`"),
        (
            SWAGGER,
            OVERLAY.replace("x-mock: {file:", "x-mock: {idempotency: {header: K, per: body}, file:"),
            "x-mock.idempotency.per must be key or request",
        ),
        (SWAGGER, OVERLAY.replace("x-mock: {file:", "x-mock: {url-expires: -1, file:"), "must be a positive number"),
        (SWAGGER, OVERLAY.replace("x-mock: {file:", "x-mock: {max-in-process: many, file:"), "whole number from 1"),
        (SWAGGER, OVERLAY.replace("x-mock: {file:", "x-mock: {form: {lists: [in]}, file:"), "unknown key 'lists'"),
    ],
)
def test_a_bad_folder_is_one_line_naming_the_file(tmp_path, document, overlay, says):
    with pytest.raises(registry.UnknownVendor) as refused:
        registry.folder(str(_folder(tmp_path, document, overlay)))
    message = str(refused.value)
    assert says in message and "\n" not in message and "Traceback" not in message


def test_a_folder_without_a_document_or_with_two(tmp_path):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "overlay.yaml").write_text(OVERLAY)
    with pytest.raises(DocumentError, match="no OpenAPI document"):
        read_folder(lone)
    shutil.copy(ACME / "reports.yaml", lone / "a.yaml")
    shutil.copy(ACME / "reports.yaml", lone / "b.yaml")
    with pytest.raises(DocumentError, match="more than one OpenAPI document"):
        read_folder(lone)


async def test_a_download_opened_by_its_token_is_a_signed_url_that_expires(aiohttp_client, tmp_path, clock):
    """`auth: token` and `url-expires`: no credentials needed, a wrong token is a 403, and so is the right
    one once the URL has expired; the contract kit's dialect expects the 403."""
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    overlay = folder / "mock.overlay.yaml"
    text = overlay.read_text().replace(
        "x-mock: {role: download}", "x-mock: {role: download, auth: token}\n      security: []"
    )
    overlay.write_text(text.replace("download: operation", "download: operation\n        url-expires: 60"))
    vendor = registry.folder(str(folder))
    assert vendor.contract.exports.wrong_token_status == (403,)
    served = vendor()
    client = await aiohttp_client(create_app(Settings(lifecycle="instant", rows=5), vendors=[served], clock=clock))
    acme = Acme(client, served)
    export = await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201)
    export = await acme.call("GET", f"/exports/{export['id']}", status=200)
    url = export["download_url"]
    assert "?token=" in url
    path = url.split(str(client.make_url("")).rstrip("/"), 1)[1]  # no credentials from here on
    fetched = await client.get(path)
    assert fetched.status == 200 and (await fetched.read()).startswith(b"id,")
    assert (await client.get(path.replace("token=", "token=x"))).status == 403
    clock.advance(61)
    expired = await client.get(path)
    assert expired.status == 403 and "expired" in (await expired.json())["error"]["message"]
