"""A plain stored resource beside the exports (`x-mock.resources`), on Ledger Reports' shares
(tests/specs/ledger/): shaped as download-link resources are elsewhere (JSON bodies, `file_id`, date-time
expiry, an unauthenticated URL, PATCH and DELETE), where Stripe's file links are form-encoded with epoch
seconds. Created naming a report's file, read, listed and filtered, updated (metadata merged, expiry set or
cleared), deleted; its public URL downloads the file with no key until it expires; the file lists its
newest shares. A refused request stores nothing, and a bad annotation is refused by name."""

from __future__ import annotations

import shutil

import pytest
import yaml

from mockserver import registry
from mockserver.clock import iso
from mockserver.registry import UnknownVendor
from mockserver.vendors.openapi.annotations import AnnotationError, read_api
from tests.ledger_support import LEDGER, serve_ledger

OTHER = {"Authorization": "Bearer someone-else"}


@pytest.fixture
async def ledger(aiohttp_client, clock):
    return await serve_ledger(aiohttp_client, clock)


async def test_a_share_is_created_read_listed_updated_and_deleted(ledger, clock):
    file = await ledger.file()
    later = iso(clock.now() + 3600)
    made = await ledger.call(
        "POST",
        "/shares",
        json={"file_id": file["id"], "expires_at": later, "metadata": {"team": "ops", "tag": "q3"}, "note": "n"},
        status=200,
    )
    assert made["id"].startswith("share_") and len(made["id"]) == len("share_") + 20
    assert made["type"] == "ledger.share" and made["file_id"] == file["id"] and made["note"] == "n"
    assert made["created_at"] == iso(int(clock.now())) and made["expires_at"] == later and made["expired"] is False
    assert made["metadata"] == {"team": "ops", "tag": "q3"}
    assert await ledger.call("GET", f"/shares/{made['id']}", status=200) == made
    # metadata merges (an empty value unsets its key); a null expiry clears it; other properties are replaced
    changed = await ledger.call(
        "PATCH",
        f"/shares/{made['id']}",
        json={"metadata": {"tag": "", "owner": "kim"}, "expires_at": None, "note": "m"},
        status=200,
    )
    assert changed["metadata"] == {"team": "ops", "owner": "kim"} and changed["expires_at"] is None
    assert changed["note"] == "m" and changed["unauthenticated_url"] == made["unauthenticated_url"]
    assert await ledger.call("GET", f"/shares/{made['id']}", status=200) == changed
    assert [share["id"] for share in await ledger.shares()] == [made["id"]]
    assert await ledger.call("DELETE", f"/shares/{made['id']}", status=204) == b""
    gone = await ledger.call("GET", f"/shares/{made['id']}", status=404)
    assert gone["error"] == {"code": "resource_missing", "message": f"No such share: '{made['id']}'", "param": "share"}
    assert await ledger.shares() == []
    token_path = made["unauthenticated_url"].split("/v1", 1)[1]
    assert (await ledger.call("GET", token_path, status=404, headers={}))["error"]["code"] == "share_gone"


async def test_the_public_url_downloads_the_file_with_no_key_until_the_share_expires(ledger, clock):
    file = await ledger.file()
    contents = await ledger.call("GET", f"/files/{file['id']}/contents", status=200)
    made = await ledger.call(
        "POST", "/shares", json={"file_id": file["id"], "expires_at": iso(clock.now() + 60)}, status=200
    )
    origin = str(ledger.client.make_url("")).rstrip("/")
    assert made["unauthenticated_url"].startswith(f"{origin}/v1/shared/")
    path = made["unauthenticated_url"].removeprefix(origin + "/v1")
    token = path.rsplit("/", 1)[1]
    assert len(token) == 40 and token.isalnum()
    assert await ledger.call("GET", path, status=200, headers={}) == contents  # the token is the credential
    assert await ledger.call("GET", path[:-1] + ("x" if token[-1] != "x" else "y"), status=404, headers={})
    clock.advance(61)
    expired = await ledger.call("GET", f"/shares/{made['id']}", status=200)
    assert expired["expired"] is True and expired["unauthenticated_url"] is None
    gone = await ledger.call("GET", path, status=404, headers={})
    assert gone["error"] == {"code": "share_gone", "message": "This share does not exist or has expired"}
    # an expired share's expiry is not changed: 400, and it stays as it was
    refused = await ledger.call("PATCH", f"/shares/{made['id']}", json={"expires_at": None}, status=400)
    assert refused["error"]["param"] == "expires_at" and "has expired" in refused["error"]["message"]
    assert await ledger.call("GET", f"/shares/{made['id']}", status=200) == expired
    assert [s["id"] for s in await ledger.shares("?expired=true")] == [made["id"]]
    assert await ledger.shares("?expired=false") == []


async def test_a_refused_create_or_update_stores_nothing(ledger, clock):
    file = await ledger.file()
    missing = await ledger.call("POST", "/shares", json={"file_id": "lf_nope"}, status=400)
    assert missing["error"] == {"code": "resource_missing", "message": "No such file: 'lf_nope'", "param": "file_id"}
    past = await ledger.call(
        "POST", "/shares", json={"file_id": file["id"], "expires_at": iso(clock.now() - 1)}, status=400
    )
    assert past["error"]["param"] == "expires_at" and "must be a time in the future" in past["error"]["message"]
    unknown = await ledger.call("POST", "/shares", json={"file_id": file["id"], "bogus": 1}, status=400)
    assert "bogus" in unknown["error"]["message"]
    assert await ledger.shares() == []
    made = await ledger.call("POST", "/shares", json={"file_id": file["id"], "metadata": {"a": "1"}}, status=200)
    await ledger.call(
        "PATCH", f"/shares/{made['id']}", json={"expires_at": iso(clock.now() - 5), "metadata": {"b": "2"}}, status=400
    )
    assert await ledger.call("GET", f"/shares/{made['id']}", status=200) == made  # the metadata was not merged
    # another tenant's file is no file of this one's, and its shares are its own
    other = await ledger.call("POST", "/shares", json={"file_id": file["id"]}, status=400, headers=OTHER)
    assert other["error"]["param"] == "file_id"
    assert await ledger.shares(headers=OTHER) == []
    await ledger.call("GET", f"/shares/{made['id']}", status=404, headers=OTHER)


async def test_the_file_lists_its_newest_shares_and_the_list_filters_by_file(ledger, clock):
    first, second = await ledger.file(), await ledger.file()
    made = []
    for _ in range(3):
        clock.advance(1)
        made.append(await ledger.call("POST", "/shares", json={"file_id": first["id"]}, status=200))
    other = await ledger.call("POST", "/shares", json={"file_id": second["id"]}, status=200)
    listed = (await ledger.call("GET", f"/files/{first['id']}", status=200))["shares"]
    assert [share["id"] for share in listed["data"]] == [made[2]["id"], made[1]["id"]]  # newest 2 (embed.limit)
    assert listed["data"][0] == made[2] and listed["has_more"] is True
    assert listed["url"] == f"/v1/shares?file_id={first['id']}"  # the list filtered by the file
    assert (await ledger.call("GET", f"/files/{second['id']}", status=200))["shares"]["data"] == [other]
    assert [s["id"] for s in await ledger.shares(f"?file_id={first['id']}")] == [s["id"] for s in made[::-1]]
    page = await ledger.call("GET", f"/shares?limit=2&after={made[2]['id']}", status=200)
    assert [s["id"] for s in page["data"]] == [made[1]["id"], made[0]["id"]] and page["has_more"] is False
    nope = await ledger.call("GET", "/shares?after=share_nope", status=404)
    assert nope["error"]["message"] == "No such share: 'share_nope'"


def test_bad_resource_annotations_are_refused_by_name(tmp_path):
    with pytest.raises(AnnotationError, match="x-mock.resources.links: unknown key 'prefix'"):
        read_api({"x-mock": {"resources": {"links": {"prefix": "l_"}}}})
    with pytest.raises(AnnotationError, match="x-mock.resources.links.refers.to must be export or file"):
        read_api({"x-mock": {"resources": {"links": {"refers": {"property": "f", "to": "user"}}}}})
    with pytest.raises(AnnotationError, match="x-mock.resources.links.expires: unknown key 'at'"):
        read_api({"x-mock": {"resources": {"links": {"expires": {"at": "x"}}}}})
    with pytest.raises(AnnotationError, match="x-mock.resources.links.capability.length must be at least 32"):
        read_api({"x-mock": {"resources": {"links": {"capability": {"length": 8}}}}})
    with pytest.raises(AnnotationError, match="x-mock.resources.links.not-found: unknown key 'text'"):
        read_api({"x-mock": {"resources": {"links": {"not-found": {"text": "gone"}}}}})
    with pytest.raises(AnnotationError, match="x-mock.resources.links.embed needs `property` and a `refers`"):
        read_api({"x-mock": {"resources": {"links": {"embed": {"property": "links"}}}}})
    # an operation naming no resource of the API, or doing what a resource does not
    for role, says in (
        ({"role": "retrieve", "resource": "nope"}, "x-mock.resource 'nope' is unknown; known: shares"),
        ({"role": "status", "resource": "shares"}, r"x-mock.role of a resource \(shares\) must be one of create"),
    ):
        folder = tmp_path / f"ledger-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(LEDGER, folder)
        overlay = yaml.safe_load((folder / "overlay.yaml").read_text())
        action = next(a for a in overlay["actions"] if a["target"] == "$.paths['/shares/{share}'].get")
        action["update"]["x-mock"] = role
        (folder / "overlay.yaml").write_text(yaml.safe_dump(overlay))
        with pytest.raises(UnknownVendor, match=says):  # one line at start-up, naming the folder
            registry.folder(str(folder))


async def test_two_resources_on_one_file_each_embed_their_own_list(tmp_path, aiohttp_client, clock):
    """Ledger with notes beside its shares, both naming a file: the File lists each under its own property,
    with its own list's URL, and neither lists the other's."""
    folder = tmp_path / "ledger"
    shutil.copytree(LEDGER, folder)
    document = yaml.safe_load((folder / "openapi.yaml").read_text())
    schemas = document["components"]["schemas"]
    schemas["Note"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "type", "created_at", "file_id", "text"],
        "properties": {
            "id": {"type": "string", "pattern": "^note_"},
            "type": {"type": "string", "enum": ["ledger.note"]},
            "created_at": {"type": "string", "format": "date-time"},
            "file_id": {"type": "string"},
            "text": {"type": "string"},
        },
    }
    schemas["File"]["properties"]["notes"] = schemas["File"]["properties"]["shares"]
    note = {
        "200": {
            "description": "A note",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}},
        }
    }
    errors = {code: {"$ref": "#/components/responses/Error"} for code in ("400", "401", "404")}
    body = {
        "type": "object",
        "required": ["file_id", "text"],
        "properties": {"file_id": {"type": "string"}, "text": {"type": "string"}},
    }
    page = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Note"}},
            "has_more": {"type": "boolean"},
        },
    }
    document["paths"]["/notes"] = {
        "post": {
            "operationId": "createNote",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {**note, **errors},
        },
        "get": {
            "operationId": "listNotes",
            "parameters": [{"name": "file_id", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Notes", "content": {"application/json": {"schema": page}}}, **errors},
        },
    }
    (folder / "openapi.yaml").write_text(yaml.safe_dump(document))
    overlay = yaml.safe_load((folder / "overlay.yaml").read_text())
    top = overlay["actions"][0]["update"]["x-mock"]
    top["resources"]["notes"] = {
        "ids": {"prefix": "note_", "length": 12},
        "refers": {"property": "file_id", "to": "file"},
        "embed": {"property": "notes", "limit": 5},
    }
    overlay["actions"] += [
        {"target": "$.paths['/notes'].post", "update": {"x-mock": {"role": "create", "resource": "notes"}}},
        {"target": "$.paths['/notes'].get", "update": {"x-mock": {"role": "list", "resource": "notes"}}},
        {"target": "$.components.schemas.File.properties", "update": {"notes": {"x-mock-value": "notes"}}},
    ]
    (folder / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    ledger = await serve_ledger(aiohttp_client, clock, folder)
    file = await ledger.file()
    share = await ledger.call("POST", "/shares", json={"file_id": file["id"]}, status=200)
    made = await ledger.call("POST", "/notes", json={"file_id": file["id"], "text": "checked"}, status=200)
    assert made["id"].startswith("note_") and made["text"] == "checked" and made["file_id"] == file["id"]
    seen = await ledger.call("GET", f"/files/{file['id']}", status=200)
    assert seen["shares"]["url"] == f"/v1/shares?file_id={file['id']}" and seen["shares"]["data"] == [share]
    assert seen["notes"]["url"] == f"/v1/notes?file_id={file['id']}" and seen["notes"]["data"] == [made]
    listed = await ledger.call("GET", f"/notes?file_id={file['id']}", status=200)
    assert listed["data"] == [made]


async def test_a_taken_capability_token_is_drawn_again_never_a_500(ledger, monkeypatch):
    from mockserver.vendors.openapi import resources

    drawn = iter(["a1" * 20, "a1" * 20, "b2" * 20])
    monkeypatch.setattr(resources, "_token", lambda length: next(drawn))
    file = await ledger.file()
    first = await ledger.call("POST", "/shares", json={"file_id": file["id"]}, status=200)
    second = await ledger.call("POST", "/shares", json={"file_id": file["id"]}, status=200)
    assert first["unauthenticated_url"].endswith("a1" * 20) and second["unauthenticated_url"].endswith("b2" * 20)
