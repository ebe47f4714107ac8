"""The vocabulary an API of app ids and secrets needs (docs/openapi-vendors.md), on a small API of this
test's own: `x-mock.account` (an account id names the tenant, bound to its first secret, or pinned as
ID:SECRET; a secret alone names its account), a signed URL's token (`x-mock-signed`) that a status
operation answers the file for, the error template's `{resource_type}`/`{resource_id}`/`{account}`,
problems worded with a title, a `root` wording and per body path, lists paged by page number and
sorted by a query parameter, a required property null until its phase, and the file's media type.
Voucherify's overlay states its protocol with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver import registry
from mockserver.app import Settings, create_app

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Apps", "version": "1"},
    "servers": [{"url": "/v1"}],
    "security": [{"AppId": [], "AppSecret": []}, {"Bearer": []}],
    "paths": {
        "/exports": {
            "get": {
                "operationId": "list",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 10}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {"name": "order", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "a page",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["exports", "total"],
                                    "properties": {
                                        "exports": {"type": "array", "items": {"$ref": "#/components/schemas/Export"}},
                                        "total": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "create",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Create"}}},
                },
                "responses": {"200": {"$ref": "#/components/responses/Export"}},
            },
        },
        "/exports/{id}/summary": {  # a second read of the same export, in another shape
            "get": {
                "operationId": "summary",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "the export in brief",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "state"],
                                    "properties": {"id": {"type": "string"}, "state": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        },
        "/exports/{id}": {
            "get": {  # the export, or its file when given the token of its URL
                "operationId": "read",
                "security": [{"AppId": [], "AppSecret": []}, {"Bearer": []}, {"FileToken": []}],
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "token", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "the export, or its file",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Export"}},
                            "text/plain": {"schema": {"type": "string"}},
                        },
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "AppId": {"type": "apiKey", "in": "header", "name": "X-App"},
            "AppSecret": {"type": "apiKey", "in": "header", "name": "X-Secret"},
            "Bearer": {"type": "http", "scheme": "bearer"},
            "FileToken": {"type": "apiKey", "in": "query", "name": "token"},
        },
        "responses": {
            "Export": {
                "description": "an export",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Export"}}},
            }
        },
        "schemas": {
            "Create": {
                "type": "object",
                "properties": {
                    "object": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "string"}},
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "fields": {"type": "array", "nullable": True, "items": {"type": "string"}},
                            "order": {"type": "string", "nullable": True},
                            "filters": {"type": "object", "nullable": True},
                            "n": {"type": "integer", "nullable": True},
                        },
                    },
                    # a default its own schema refuses, as vendors publish them: served all the same
                    "label": {"type": "string", "enum": ["a", "b"], "default": "c"},
                },
            },
            "Export": {
                "type": "object",
                "required": ["id", "status", "result"],
                "properties": {
                    "id": {"type": "string"},
                    "status": {"type": "string"},
                    "result": {"type": "object", "nullable": True, "properties": {"url": {"type": "string"}}},
                    "parameters": {"type": "object", "x-mock-value": "request"},
                },
            },
            "Row": {
                "type": "object",
                "x-recipe": "schema",
                "properties": {"id": {"type": "string", "x-id-prefix": "r_"}, "n": {"type": "integer"}},
            },
        },
    },
}
OVERLAY = """overlay: 1.0.0
info: {title: apps, version: '1'}
actions:
  - target: $
    update:
      x-mock:
        account: AppId
        download: operation
        file: {name: "{object}-{id}", media-type: text/plain}
        paging: {style: page, order: order}
        error: {code: "{status}", key: "{code}", message: "{title}", details: "{message}",
                resource: "{resource_id}", kind: "{resource_type}", app: "{account}"}
        codes: {missing_credentials: unauthorized, wrong_secret: unauthorized, unknown_secret: unauthorized,
                unknown_account: unauthorized, malformed_credentials: unauthorized}
        messages: {wrong_secret: "Wrong secret for app {account}", unknown_account: "No app {account}"}
        problems:
          media-type: {key: bad_media, title: Bad media}
          invalid: {key: bad_body, title: Bad body, message: "At {path}: {details}", root: "{details}"}
          request: {key: bad_body, title: Bad body, message: "At {path}: {details}", root: "{details}"}
          .fields: {key: bad_fields, title: Bad fields, message: "Field list {path}: {details}"}
      x-export-rows: {rows: Row}
  - target: $.paths['/exports'].post
    update: {x-mock: {role: create}}
  - target: $.paths['/exports/{id}'].get
    update: {x-mock: {role: status}}
  - target: $.paths['/exports'].get
    update: {x-mock: {role: list}}
  - target: $.paths['/exports/{id}/summary'].get
    update: {x-mock: {role: status}}
  - target: $.components.schemas.Export.properties.result
    update: {x-mock-when: done, x-mock-value: {url: "{url}"}}
  - target: $.components.securitySchemes.FileToken
    update: {x-mock-signed: true}
"""


def app_headers(app: str, secret: str) -> dict[str, str]:
    return {"X-App": app, "X-Secret": secret}


def _vendor_class(tmp_path: Path, overlay: str = OVERLAY):
    folder = tmp_path / "apps"
    folder.mkdir()
    (folder / "api.json").write_text(json.dumps(DOCUMENT))
    (folder / "overlay.yaml").write_text(overlay)
    return registry.folder(str(folder))


@pytest.fixture
async def served(aiohttp_client, tmp_path):
    async def serve(keys: tuple[str, ...] = (), overlay: str = OVERLAY):
        vendor = _vendor_class(tmp_path, overlay)(keys=keys)
        return vendor, await aiohttp_client(create_app(Settings(lifecycle="instant", rows=3), vendors=[vendor]))

    return serve


async def _call(client, method: str, path: str, status: int, **kwargs) -> Any:
    reply = await client.request(method, "/v1" + path, **kwargs)
    body = await reply.json() if reply.content_type == "application/json" else await reply.read()
    assert reply.status == status, body
    return body


async def test_an_account_is_bound_to_its_first_secret_and_a_secret_alone_names_it(served):
    vendor, client = await served()
    assert vendor.trusts_new_credentials() and set(vendor.cors_headers) == {"X-App", "X-Secret"}
    assert vendor.credential_headers("a1", "s1") == app_headers("a1", "s1")
    export = await _call(client, "POST", "/exports", 200, json={"object": "rows"}, headers=app_headers("a1", "s1"))
    await _call(client, "GET", f"/exports/{export['id']}", 200, headers=app_headers("a1", "s1"))
    wrong = await _call(client, "GET", f"/exports/{export['id']}", 401, headers=app_headers("a1", "s2"))
    assert wrong["key"] == "unauthorized" and wrong["details"] == "Wrong secret for app a1" and wrong["app"] == "a1"
    assert wrong["message"] == "Unauthorized" and wrong["code"] == 401
    by_secret = {"Authorization": "Bearer s1"}  # the secret alone: the app first bound to it
    assert (await _call(client, "GET", f"/exports/{export['id']}", 200, headers=by_secret))["id"] == export["id"]
    unknown = await _call(client, "GET", f"/exports/{export['id']}", 401, headers={"Authorization": "Bearer s9"})
    assert unknown["key"] == "unauthorized" and "X-App" in unknown["details"] and "app" not in unknown
    missing = await _call(client, "GET", f"/exports/{export['id']}", 401)
    assert missing["key"] == "unauthorized" and "X-App" in missing["details"]
    too_long = await _call(client, "GET", "/exports/x", 401, headers=app_headers("a" * 300, "s1"))
    assert "printable" in too_long["details"]
    # another app is a tenant of its own: the first app's export is not found there, named in the 404
    other = await _call(client, "GET", f"/exports/{export['id']}", 404, headers=app_headers("a2", "s1"))
    assert other["resource"] == export["id"] and other["kind"] == "export" and other["key"] == "not_found"


async def test_pinned_accounts_alone_exist(served):
    vendor, client = await served(keys=("a1:s1",))
    assert not vendor.trusts_new_credentials()
    await _call(client, "POST", "/exports", 200, json={"object": "rows"}, headers=app_headers("a1", "s1"))
    await _call(client, "POST", "/exports", 200, json={"object": "rows"}, headers={"Authorization": "Bearer s1"})
    refused = await _call(client, "POST", "/exports", 401, json={"object": "rows"}, headers=app_headers("a2", "s1"))
    assert refused["details"] == "No app a2" and refused["app"] == "a2"
    wrong = await _call(client, "POST", "/exports", 401, json={"object": "rows"}, headers=app_headers("a1", "s2"))
    assert wrong["details"] == "Wrong secret for app a1"


async def test_a_status_operation_answers_the_file_given_its_signed_token(served):
    """Whatever else the request carries; a wrong token, or one sent with another account's id, is a 401."""
    vendor, client = await served()
    export = await _call(client, "POST", "/exports", 200, json={"object": "rows"}, headers=app_headers("a1", "s1"))
    assert export["result"] is None  # required, and null until the export is done
    done = await _call(client, "GET", f"/exports/{export['id']}", 200, headers=app_headers("a1", "s1"))
    path = done["result"]["url"].split("/v1", 1)[1]
    assert path == f"/exports/{export['id']}?token={path.split('token=')[1]}"
    reply = await client.get("/v1" + path)
    assert reply.status == 200 and reply.content_type == "text/plain"
    assert reply.headers["Content-Disposition"] == f'attachment; filename="rows-{export["id"]}.csv"'
    assert (await reply.read()).startswith(b"id,n")
    assert (await _call(client, "GET", path, 200, headers=app_headers("a1", "wrong"))).startswith(b"id,n")
    await _call(client, "GET", path.replace("token=", "token=x"), 401)
    await _call(client, "GET", path, 401, headers={"X-App": "a2"})  # the token is a1's
    await _call(client, "GET", path.split("?")[0], 401)  # neither a token nor credentials


async def test_lists_paged_by_page_number_and_sorted_by_a_parameter(served):
    vendor, client = await served()
    ids = []
    for _ in range(3):
        made = await _call(client, "POST", "/exports", 200, json={"object": "rows"}, headers=app_headers("a1", "s1"))
        ids.append(made["id"])
    await _call(client, "GET", f"/exports/{ids[0]}", 200, headers=app_headers("a1", "s1"))  # done: a later status
    listed = await _call(client, "GET", "/exports?limit=2", 200, headers=app_headers("a1", "s1"))
    assert listed["total"] == 3 and [e["id"] for e in listed["exports"]] == ids[:0:-1]  # newest first
    second = await _call(client, "GET", "/exports?limit=2&page=2", 200, headers=app_headers("a1", "s1"))
    assert [e["id"] for e in second["exports"]] == ids[:1]
    oldest = await _call(client, "GET", "/exports?order=created_at", 200, headers=app_headers("a1", "s1"))
    assert [e["id"] for e in oldest["exports"]] == ids
    by_status = await _call(client, "GET", "/exports?order=-status", 200, headers=app_headers("a1", "s1"))
    assert by_status["exports"][0]["id"] == ids[0] and by_status["exports"][0]["result"] is not None
    refused = await _call(client, "GET", "/exports?order=colour", 400, headers=app_headers("a1", "s1"))
    assert "colour" in refused["details"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "key", "title", "details"),
    [
        (b"id", {"Content-Type": "text/plain"}, 415, "bad_media", "Bad media", "Content-Type must be"),
        (b"{", {"Content-Type": "application/json"}, 400, "bad_body", "Bad body", "Malformed JSON"),
        (b'{"object": 5}', {"Content-Type": "application/json"}, 400, "bad_body", "Bad body", "At .object: "),
        (
            b'{"fields": [5]}',
            {"Content-Type": "application/json"},
            400,
            "bad_fields",
            "Bad fields",
            "Field list .fields[0]: ",
        ),
    ],
)
async def test_problems_worded_with_a_title_per_kind_and_per_body_path(
    served, body, headers, status, key, title, details
):
    vendor, client = await served()
    refused = await _call(client, "POST", "/exports", status, data=body, headers={**app_headers("a1", "s1"), **headers})
    assert (refused["key"], refused["message"]) == (key, title) and refused["details"].startswith(details), refused


def test_an_account_scheme_must_be_an_api_key(tmp_path):
    with pytest.raises(registry.UnknownVendor, match="x-mock.account names 'Bearer', which is no apiKey"):
        _vendor_class(tmp_path, OVERLAY.replace("account: AppId", "account: Bearer"))


async def test_each_status_operation_answers_in_its_own_shape_however_often_polled(served):
    """Answers are kept per revision of the export, and per operation: a poll of one never gets another's."""
    vendor, client = await served()
    export = await _call(client, "POST", "/exports", 200, json={"object": "rows"}, headers=app_headers("a1", "s1"))
    for _ in range(2):
        full = await _call(client, "GET", f"/exports/{export['id']}", 200, headers=app_headers("a1", "s1"))
        brief = await _call(client, "GET", f"/exports/{export['id']}/summary", 200, headers=app_headers("a1", "s1"))
        assert set(full) == {"id", "status", "result", "parameters"} and set(brief) == {"id", "state"}


async def test_a_create_echoes_its_parameters_with_the_servers_defaults(served):
    """`echo` and `defaults`: the sort as sent (an empty one too: no sort) or the default, the columns written,
    the scope's parameter when given, the filters over the default junction; nulls and other keys are not
    echoed. `scope` pins the rows; the engine's filters naming no column are an X-Mock-Warning."""
    create = """{x-mock: {role: create, fields: parameters.fields, order: parameters.order,
      filters: parameters.filters, scope: {n: parameters.n}, echo: parameters,
      defaults: {order: -n, filters: {junction: and}}}}"""
    vendor, client = await served(overlay=OVERLAY.replace("{x-mock: {role: create}}", create))
    plain = await _call(client, "POST", "/exports", 200, json={"object": "rows"}, headers=app_headers("a1", "s1"))
    assert plain["parameters"] == {"order": "-n", "fields": ["id", "n"], "filters": {"junction": "and"}}
    sent = {"fields": ["n"], "order": "", "filters": {"colour": {"conditions": {"$is": "red"}}}, "n": 7, "x": None}
    reply = await client.post(
        "/v1/exports", json={"object": "rows", "parameters": sent}, headers=app_headers("a1", "s1")
    )
    made = await reply.json()
    assert made["parameters"] == {
        "order": "",
        "fields": ["n"],
        "n": 7,
        "filters": {"junction": "and", "colour": {"conditions": {"$is": "red"}}},
    }
    assert any("colour" in warning for warning in reply.headers.getall("X-Mock-Warning", ())), reply.headers
    pinned = {"object": "rows", "parameters": {"n": 7}}
    made = await _call(client, "POST", "/exports", 200, json=pinned, headers=app_headers("a1", "s1"))
    done = await _call(client, "GET", f"/exports/{made['id']}", 200, headers=app_headers("a1", "s1"))
    rows = (await _call(client, "GET", done["result"]["url"].split("/v1", 1)[1], 200)).decode().split()
    assert rows[0] == "id,n" and {row.split(",")[1] for row in rows[1:]} == {"7"}  # every row pinned to n
