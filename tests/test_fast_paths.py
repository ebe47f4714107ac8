"""The shortcuts taken for speed answer exactly as the plain code did."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict, MultiDict

from mockserver import redact, respond
from mockserver.app import MOUNTS, Settings, create_app, services_of
from mockserver.clock import iso
from mockserver.control.answers import SpecAnswers
from mockserver.control.journal import Journal, Lazy, recorder
from mockserver.data import load_model
from mockserver.exports import Query
from mockserver.spec import load_spec
from mockserver.store import MemoryStore, VendorStore
from mockserver.validation import Declared, parse_json
from mockserver.vendors.voucherify import Voucherify

BODIES = [
    {
        "id": "exp_1",
        "n": [0, -1, 10**30, 1.5, -0.0, 1e-07, 1e16, 1e300, float("inf"), float("-inf")],
        "b": [True, False, None],
        "s": 'é ü \u2028 \x01 " \\ / 😀',
        "nested": {"1": {"2": [[], {}]}},
        "t": (1, 2),
    },
    {1: "int key", 2.5: "float key", False: "bool key", None: "null key"},
    [],
    "text",
    7,
    None,
    {
        "exports": [
            {
                "id": "exp_1",
                "status": "DONE",
                "parameters": {"fields": ["id", "code"], "filters": {}},
                "result": {"url": "http://127.0.0.1/v1/exports/exp_1/download?token=é"},
                "total": 2**63 - 1,
            }
        ]
    },
]


@pytest.mark.parametrize("body", BODIES)
def test_json_response_writes_what_json_dumps_wrote(body):
    # (orjson, except where it refuses a body: the first two go through json.dumps, an int over 64 bits and
    # keys that are not strings)
    expected = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    response = respond.json_response(body, status=201, headers={"Retry-After": "1"})
    assert response.body == expected
    assert response.status == 201
    assert list(response.headers.items()) == [("Retry-After", "1"), ("Content-Type", "application/json; charset=utf-8")]
    assert response.content_type == "application/json" and response.charset == "utf-8"


def test_json_response_writes_floats_as_valid_json_where_json_dumps_did_not():
    response = respond.json_response({"n": [1.5, 1e16, 1e-07, -0.0, float("inf"), float("nan")]})
    assert response.body == b'{"n":[1.5,1e+16,1e-7,-0.0,null,null]}'  # json.dumps: 1e-07, Infinity, NaN
    assert json.loads(response.body)["n"][:4] == [1.5, 1e16, 1e-07, -0.0]


def test_json_response_fails_as_json_dumps_did():
    with pytest.raises(TypeError):
        respond.json_response({"when": object()})
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular"):
        respond.json_response(circular)
    with pytest.raises(UnicodeEncodeError):
        respond.json_response({"lone surrogate": "\ud800"})


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, "x"]}',
        "\ufeff{}",
        '{"a": NaN}',
        "[1,",
        "",
        " 1 ",
        '{"a":1} x',
        '{"a": Infinity}',
        '"\\ud800"',
        '{"a": 1, "a": 2}',
    ],
)
def test_parse_json_says_what_json_loads_said(text):
    def refuse(name):
        raise ValueError(f"{name} is not a JSON value")

    try:
        expected = ("value", json.loads(text, parse_constant=refuse))
    except ValueError as exc:
        expected = ("error", str(exc))
    try:
        got = ("value", parse_json(text))
    except ValueError as exc:
        got = ("error", str(exc))
    assert got == expected


async def test_memory_store_copies_in_and_out_pickled_or_not():
    store = VendorStore(MemoryStore(), "v").tenant("app")
    record = {"id": "r1", "list": [1, 2], "shared": None}
    record["shared"] = record["list"]
    await store.put("kind", "r1", record)
    record["list"].append(3)  # changing the caller's copy changes nothing stored
    got = await store.get("kind", "r1")
    assert got == {"id": "r1", "list": [1, 2], "shared": [1, 2]}
    assert got["shared"] is got["list"]  # like deepcopy, a copy keeps what was shared
    got["list"].append(4)
    assert (await store.get("kind", "r1"))["list"] == [1, 2]
    assert await store.list("kind") == [{"id": "r1", "list": [1, 2], "shared": [1, 2]}]

    unpicklable = {"id": "r2", "call": lambda: 1}  # kept by deepcopy instead
    await store.put("kind", "r2", unpicklable)
    assert (await store.get("kind", "r2"))["call"] is unpicklable["call"]
    assert await store.get("kind", "r2") is not await store.get("kind", "r2")


def test_journal_entries_are_made_when_read():
    journal = Journal(2)
    made = []

    def entry(n):
        def make():
            made.append(n)
            return {"n": n, "method": "GET", "path": f"/v1/exports/{n}", "app_id": "a"}

        return Lazy("GET", f"/v1/exports/{n}", "a", make)

    for n in range(3):
        journal.add(entry(n))
    journal.add({"n": 9, "method": "POST", "path": "/v1/exports", "app_id": "b"})  # plain entries still work
    assert made == []
    assert journal.find(method="GET") == [{"n": 2, "method": "GET", "path": "/v1/exports/2", "app_id": "a"}]
    assert made == [2]
    assert [e["n"] for e in journal.find()] == [2, 9]
    assert made == [2]  # made once
    journal.clear("a")
    assert [e["n"] for e in journal.find()] == [9]


async def test_the_journal_masks_an_answers_headers_when_read_as_it_did_when_it_recorded():
    # the response's headers are copied as recorded and masked only when the entry is read
    journal = Journal()
    record = recorder(journal, lambda: 0)
    token, key = "abcdef0123456789abcdef", "vf_live_ABCDEFGHIJKLMNOPWXYZ"
    request = make_mocked_request("GET", "/v1/exports/exp_1", headers={"X-App-Id": "a", "X-App-Token": key})
    headers = {"Location": f"http://h/v1/exports/exp_1?token={token}", "X-Api-Key": "k" * 20, "X-Plain": "p"}
    response = web.Response(body=b"{}", headers=headers)
    await record(request, response)
    response.headers["X-Plain"] = "changed after it was recorded"
    [entry] = journal.find()
    assert entry["response"]["headers"] == {
        "Location": f"http://h/v1/exports/exp_1?token={redact.mask(token)}",
        "X-Api-Key": redact.mask("k" * 20),
        "X-Plain": "p",
    }
    assert entry["headers"] == {"X-App-Id": "a", "X-App-Token": "vf_live_****WXYZ"}


def test_request_parts_masks_what_carries_a_secret_and_keeps_the_rest_as_it_came():
    plain = CIMultiDict({"Host": "h", "Location": "http://h/x?token=abcdef0123456789abcdef"})
    query = MultiDict({"limit": "1"})
    assert redact.request_parts(plain, query) == (plain, None, [])  # no secret: the request's own, unmasked
    basic = "Basic " + base64.b64encode(b"test_cbsite_ABCDEFGHQRST:").decode()
    headers = CIMultiDict(
        [
            ("Authorization", basic),
            ("Cookie", "session=abcdefghij"),
            ("X-Api-Key", "  kkkkkkkkkkkkkkkkkkkk "),
            ("Location", "http://h/x?token=abcdef0123456789abcdef"),
            ("X-Short-Token", "short"),
        ]
    )
    kept, pairs, secrets = redact.request_parts(headers, MultiDict([("token", "tttttttttttttttt1234"), ("a", "b")]))
    assert kept == {
        "Authorization": "Basic test_cbsite_****QRST",
        "Cookie": "****",
        "X-Api-Key": redact.mask("kkkkkkkkkkkkkkkkkkkk"),
        "Location": f"http://h/x?token={redact.mask('abcdef0123456789abcdef')}",
        "X-Short-Token": "****",
    }
    assert pairs == [("token", redact.mask("tttttttttttttttt1234")), ("a", "b")]
    # the whole secrets, longest first, to be masked wherever echoed; a cookie and short ones are not
    encoded = basic.split(" ", 1)[1]
    assert secrets == sorted(
        {encoded, "test_cbsite_ABCDEFGHQRST", "kkkkkkkkkkkkkkkkkkkk", "tttttttttttttttt1234"}, key=len, reverse=True
    )


def test_undeclared_properties_are_found_at_every_level_and_again_from_the_cached_levels():
    # scalars are not walked into, a discriminated branch's properties are merged once: the same findings
    branch = {"properties": {"kind": {}, "x": {"type": "object", "properties": {"y": {}}}}}
    schema = {
        "type": "object",
        "discriminator": {"propertyName": "kind", "mapping": {"a": branch}},
        "properties": {"kind": {"type": "string"}, "list": {"type": "array", "items": {"properties": {"ok": {}}}}},
    }
    body = {"kind": "a", "x": {"y": 1, "z": 2}, "list": [{"ok": 1, "bad": 2}, "s", 3, [{"ok": 0}]], "nope": 1}
    declared = Declared.of(schema)
    for _ in range(2):
        assert [f.path for f in declared.unknown(body, "body")] == [".x.z", ".list[0].bad", ".nope"]
    assert declared.unknown({"kind": "b", "x": {"z": 1}}, "body")[0].path == ".x"  # no branch: x is not declared


def test_iso_is_cached_but_unchanged():
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(1700000000.1234) == iso(1700000000.1234) == "2023-11-14T22:13:20.123Z"
    assert iso(1) == iso(1.0)
    with pytest.raises(ValueError):
        iso(float("nan"))


def _service(mode):
    from mockserver.clock import Clock
    from mockserver.exports import ExportService
    from mockserver.ids import Ids
    from mockserver.lifecycle import Lifecycle

    store, clock = MemoryStore(), Clock(1_700_000_000.0, frozen=True)
    service = ExportService(
        store=store,
        clock=clock,
        lifecycle=Lifecycle(mode, 1.0, 2.0),
        ids=Ids(0),
        models={},
        seed=0,
        rows=10,
        locale="en_US",
    )
    return service, clock, VendorStore(store, "voucherify").tenant("app")


@pytest.mark.parametrize("mode", ["time", "poll", "instant"])
async def test_listing_from_the_indexes_matches_sorting_every_export(mode):
    """A page read from the store's indexes (after catching up only the exports the
    clock has moved on) is the page of all exports moved on, sorted and sliced."""
    import random

    rng = random.Random(mode)
    service, clock, tenant = _service(mode)
    for _ in range(80):
        action = rng.random()
        if action < 0.5:
            await service.create(
                tenant,
                "order",
                parameters={"fields": ["id"]},
                query=Query(fields=("id",)),
                mode=rng.choice([None, "poll", "instant", "time"]),
                outcome=rng.choice(["done", "failed"]),
            )
            clock.advance(rng.choice([0, 0, 0.001]))  # equal created_at too: ties keep the order of creation
        elif action < 0.7:
            clock.advance(rng.choice([0, 0.5, 1.0, 2.5]))
        elif action < 0.8 and await tenant.list("exports"):
            await service.get(tenant, rng.choice(await tenant.list("exports"))["id"])
        elif action < 0.85 and await tenant.list("exports"):
            await service.delete(tenant, rng.choice(await tenant.list("exports"))["id"])
        order = rng.choice(["created", "status"])
        reverse, start = rng.random() < 0.5, rng.choice([0, 0, 3, 10])
        page, total = await service.listing(tenant, order=order, reverse=reverse, start=start, stop=start + 5)
        everything = await service.list(tenant)  # every export moved on, in order of creation
        expected = sorted(everything, key=_by_created if order == "created" else _by_status)
        if reverse:
            expected.reverse()
        assert _untokened(page) == _untokened(expected[start : start + 5]) and total == len(everything)


def _by_created(record):
    return record.created_at


def _by_status(record):
    return ["scheduled", "running", "done", "failed"].index(record.phase), record.created_at


def _untokened(records):
    return [{name: value for name, value in record.stored().items() if name != "token"} for record in records]


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("/v1/exports", "127.0.0.1:8080"),
        ("/v1/exports?x=1", "LOCALHOST:80"),
        ("/", "example.com"),
        ("/v1/exports", "[::1]:8080"),
        ("http://other.test:81/v1/exports", "ignored.test"),
        ("/v1/exports", None),
    ],
)
def test_origin_is_the_request_urls_origin(target, host):
    from aiohttp.test_utils import make_mocked_request
    from multidict import CIMultiDict

    headers = CIMultiDict({"Host": host} if host else {})
    for _ in range(2):  # computed, then remembered
        request = make_mocked_request("GET", target, headers=headers)
        if host is None:  # no Host: the address the request came in on (hostile input, 21.11)
            address, port = request.transport.get_extra_info("sockname")[:2]
            assert respond.origin(request) == f"http://{address}:{port}"
        else:
            assert respond.origin(request) == str(request.url.origin())


# -- a folder's parsed documents, kept on disk between starts (documents.read_folder) ------------------------
def _copy_folder(tmp_path, name="acme"):
    import shutil
    from pathlib import Path

    folder = tmp_path / name
    shutil.copytree(Path(__file__).parent / "specs" / name, folder)
    return folder


def test_a_folder_read_from_the_cache_equals_one_parsed_again(tmp_path, monkeypatch):
    from mockserver import documents

    folder = _copy_folder(tmp_path)
    monkeypatch.setenv("MOCKSERVER_CACHE", str(tmp_path / "cache"))
    first = documents.read_folder(folder)
    assert list((tmp_path / "cache").glob("folder-*.pickle")), "the parsed folder is kept"
    monkeypatch.setattr(documents, "_read_folder", lambda _folder: pytest.fail("parsed again"))
    assert documents.read_folder(folder) == first
    monkeypatch.undo()
    monkeypatch.setenv("MOCKSERVER_CACHE", "off")
    assert documents.read_folder(folder) == first


def test_a_changed_file_is_read_again_even_at_the_same_size_and_time(tmp_path, monkeypatch):
    import os

    from mockserver import documents

    folder = _copy_folder(tmp_path)
    monkeypatch.setenv("MOCKSERVER_CACHE", str(tmp_path / "cache"))
    before = documents.read_folder(folder)
    document = next(path for path in sorted(folder.iterdir()) if documents._kind(path) == "document")
    text, status = document.read_text(), document.stat()
    title = before.document["info"]["title"]
    changed = title[:-1] + ("X" if title[-1] != "X" else "Y")
    document.write_text(text.replace(title, changed, 1))
    os.utime(document, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert documents.read_folder(folder).document["info"]["title"] == changed


def test_an_unwritable_cache_changes_nothing(tmp_path, monkeypatch):
    from mockserver import documents

    folder = _copy_folder(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MOCKSERVER_CACHE", str(blocker / "cache"))
    assert documents.read_folder(folder) == documents._read_folder(folder)


def test_a_remembered_good_host_does_not_let_a_bad_one_through():
    from aiohttp.test_utils import make_mocked_request

    good = make_mocked_request("GET", "/v1/exports", headers={"Host": "127.0.0.1:8080"})
    assert respond.bad_host(good) is None
    assert respond.bad_host(good) is None  # remembered: the same answer
    for bad in ("127.0.0.1:99999", "a b", "127.0.0.1:8080/x"):
        assert respond.bad_host(make_mocked_request("GET", "/v1/exports", headers={"Host": bad})) is not None


def test_request_ids_are_unique_in_forked_workers_too():
    """Request ids come from a generator seeded once, not a syscall each: a forked worker (`--workers`)
    reseeds it, or it would repeat its parent's ids."""
    import os
    import re

    from mockserver.ids import request_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its next ids, to the parent
        os.write(write, " ".join(request_id() for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        worker = pipe.read().split()
    parent = [request_id() for _ in range(50)]
    assert len(worker) == 50 and all(re.fullmatch(r"v-[0-9a-f]{18}", rid) for rid in worker + parent)
    assert not set(worker) & set(parent) and len(set(parent)) == 50


class _CountingGets(MemoryStore):
    """A memory store that counts the exports it copies out."""

    gets = 0

    async def get(self, tenant, kind, key):
        self.gets += kind == "exports"
        return await super().get(tenant, kind, key)


async def test_polling_an_unchanged_export_reads_no_copy_of_it(aiohttp_client, spec, clock):
    from mockserver.app import create_app
    from mockserver.options import Settings
    from mockserver.vendors.voucherify import Voucherify
    from tests.conftest import Api

    store = _CountingGets()
    app = create_app(Settings(lifecycle="instant"), clock=clock, store=store, vendors=[Voucherify(spec=spec)])
    api = Api(await aiohttp_client(app), spec)
    export = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    first = await api.get(f"/v1/exports/{export['id']}")  # moves it to DONE: read, written
    second = await api.get(f"/v1/exports/{export['id']}")  # read, rendered, kept
    read = store.gets
    again = [await api.get(f"/v1/exports/{export['id']}") for _ in range(3)]
    assert store.gets == read  # the kept answer: no copy, no render
    assert first.json["status"] == "DONE" and [a.json for a in again] == [second.json] * 3 == [first.json] * 3


@pytest.mark.parametrize("state", [False, True], ids=["memory", "sqlite"])
async def test_a_kept_answer_gives_way_to_every_change_of_the_export(make_api, clock, tmp_path, state):
    """What ExportService.rendered keeps stands only while the record and its phase stand: the clock reaching
    the next phase, a forced status, a delete, another origin each give the answer rendered afresh."""
    api = await make_api(state=str(tmp_path / "state.db")) if state else await make_api()
    export = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    path = f"/v1/exports/{export['id']}"
    assert [(await api.get(path)).json["status"] for _ in range(2)] == ["SCHEDULED"] * 2
    clock.advance(1)  # `time` lifecycle: scheduled for 1 s, then running
    assert [(await api.get(path)).json["status"] for _ in range(2)] == ["IN_PROGRESS"] * 2
    clock.advance(2)
    done = [(await api.get(path)).json for _ in range(2)]
    assert done[0] == done[1] and done[0]["status"] == "DONE"
    assert done[0]["result"]["url"].startswith(str(api.client.make_url("/v1/exports/")))
    elsewhere = (await api.get(path, headers={"Host": "mock.example:9999"})).json  # the origin is the variant
    assert elsewhere["result"]["url"].startswith("http://mock.example:9999/v1/exports/")
    assert (await api.get(path)).json == done[0]

    other = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    path = f"/v1/exports/{other['id']}"
    assert (await api.get(path)).json["status"] == "SCHEDULED"
    forced = await api.post(f"/__mock/exports/{other['id']}/status", json={"status": "IN_PROGRESS"}, auth=False)
    assert forced.status == 200, forced.body
    assert (await api.get(path)).json["status"] == "IN_PROGRESS"  # written by the admin API: the store's version
    assert (await api.delete(path)).status == 204
    assert (await api.get(path)).status == 404


async def test_a_sqlite_store_keeps_answers_until_any_process_writes_the_export(aiohttp_client, spec, clock, tmp_path):
    """Under --workers the store is a SQLite file: polling an unchanged export neither reads a copy of it nor
    renders it (its version is its stored text, read by key); another process's write shows at once."""
    import sqlite3

    from mockserver.app import create_app
    from mockserver.options import Settings
    from mockserver.sqlite_store import SqliteStore
    from mockserver.vendors.voucherify import Voucherify
    from tests.conftest import Api

    class Counting(SqliteStore):
        gets = 0

        async def get(self, tenant, kind, key):
            self.gets += kind == "exports"
            return await super().get(tenant, kind, key)

    store = Counting(tmp_path / "state.db")
    app = create_app(Settings(lifecycle="instant"), clock=clock, store=store, vendors=[Voucherify(spec=spec)])
    api = Api(await aiohttp_client(app), spec)
    export = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    path = f"/v1/exports/{export['id']}"
    first, second = (await api.get(path)).json, (await api.get(path)).json  # moved to DONE; then kept
    read = store.gets
    assert [(await api.get(path)).json for _ in range(3)] == [second] * 3 == [first] * 3
    assert store.gets == read
    other = sqlite3.connect(tmp_path / "state.db", isolation_level=None)  # another worker's write
    try:
        other.execute(
            "UPDATE tenant_records SET record = json_set(record, '$.token', 'another') WHERE key = ?", (export["id"],)
        )
    finally:
        other.close()
    assert (await api.get(path)).json["result"]["url"].endswith("?token=another") and store.gets == read + 1
    await store.close()


async def test_an_export_each_poll_moves_is_never_answered_from_what_was_kept(make_api):
    api = await make_api(lifecycle="poll")
    export = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    path = f"/v1/exports/{export['id']}"
    assert [(await api.get(path)).json["status"] for _ in range(3)] == ["IN_PROGRESS", "DONE", "DONE"]


def _remembers(secret: str) -> bool:
    return any(secret in repr(key) or secret in repr(parts) for key, parts in redact._remembered.items())


def test_request_parts_remembers_only_what_holds_no_secret_but_the_accepted_credential():
    redact._remembered.clear()
    token = "vf_live_ACCEPTEDKEY0123WXYZ"
    accepted = CIMultiDict([("Host", "h"), ("X-App-Id", "a"), ("X-App-Token", token)])
    afresh = redact.request_parts(accepted, MultiDict())
    assert not _remembers(token)  # not said to be accepted: not remembered
    assert redact.request_parts(accepted, MultiDict(), accepted=True) == afresh
    assert _remembers(token)  # the vendor holds it anyway
    again = redact.request_parts(CIMultiDict(accepted), MultiDict(), accepted=True)
    assert again == afresh == ({"Host": "h", "X-App-Id": "a", "X-App-Token": "vf_live_****WXYZ"}, [], [token])

    refused, second, in_query = "vf_live_REFUSEDKEY0123ABCD", "SECONDSECRET0123EFGH", "QUERYSECRET0123IJKL"
    redact.request_parts(CIMultiDict([("X-App-Token", refused)]), MultiDict())  # refused: not accepted
    redact.request_parts(CIMultiDict([("X-App-Token", token), ("X-Api-Key", second)]), MultiDict(), accepted=True)
    redact.request_parts(accepted, MultiDict([("token", in_query)]), accepted=True)
    assert not any(_remembers(s) for s in (refused, second, in_query))

    plain = CIMultiDict([("Host", "h"), ("Accept", "*/*")])
    assert redact.request_parts(plain, MultiDict()) == (plain, None, [])
    other = CIMultiDict(plain)  # the same headers again, another request: its own headers, kept as they came
    assert redact.request_parts(other, MultiDict())[0] is other


async def test_a_refused_key_is_never_remembered_by_the_journal(make_api):
    redact._remembered.clear()
    api = await make_api(apps={"app-1": "vf_test_RIGHTKEY0123456789"})
    assert (await api.as_app("app-1", "vf_test_RIGHTKEY0123456789").get("/v1/exports")).status == 200
    assert (await api.as_app("app-1", "vf_test_WRONGKEY0123456789").get("/v1/exports")).status == 401
    assert _remembers("vf_test_RIGHTKEY0123456789") and not _remembers("vf_test_WRONGKEY0123456789")
    journal = (await api.get("/__mock/requests", auth=False)).body
    assert "RIGHTKEY" not in str(journal) and "WRONGKEY" not in str(journal)


@pytest.mark.parametrize(
    "raw, secrets",
    [
        (b'{"echo":"vf_live_SECRETKEY0123"}', ["vf_live_SECRETKEY0123"]),
        (b"caf\xc3\xa9 vf_live_SECRETKEY0123 \xff", ["vf_live_SECRETKEY0123", "absent-secret"]),
        (b"abc\xffdefghijk", ["\udcffdefghijk"]),  # an undecodable byte a secret carried, escaped alike
        (b"\xc3\x80 no secret here", ["\udc80abcdefgh"]),  # its byte inside a character: not the secret
        (b"nothing", ["\ud800unencodable"]),
    ],
)
def test_body_echoes_skips_decoding_only_where_the_decoded_text_holds_no_secret(raw, secrets):
    assert redact.body_echoes(raw, secrets) == redact._bytes(raw, lambda text: redact.echoes(text, secrets))


def test_a_request_without_a_query_string_gets_the_querys_defaults_as_one_with_it_did(spec):
    from mockserver.validation import RequestValidator

    validator = RequestValidator.of(spec.match("GET", "/v1/exports"))
    empty = validator.check_params({}, MultiDict(), MultiDict())
    given = validator.check_params({}, MultiDict({"unknown": "1"}), MultiDict({"unknown": "1"}))  # the full loop
    assert empty == given and empty[1] == {"limit": 10, "page": 1, "order": "-created_at"}
    assert validator.check_params({}, MultiDict(), MultiDict())[1] is not empty[1]  # each request its own


def test_apps_built_on_one_spec_share_its_data_model_and_canned_answers(spec):
    """What an app derives from its Spec alone is made once: a test process builds hundreds of apps, and
    the data model and the answers made from the schemas were most of what building one cost."""
    first, second = (services_of(create_app(Settings(), vendors=[Voucherify(spec=spec)])) for _ in range(2))
    assert first.exports.models["voucherify"] is second.exports.models["voucherify"]
    assert load_model(spec, Voucherify.data_recipes) is first.exports.models["voucherify"]
    assert load_model(spec) is not first.exports.models["voucherify"]  # other recipes, another model
    other = load_spec("voucherify")  # an equal Spec loaded again is another object: its own model
    assert load_model(other, Voucherify.data_recipes) is not first.exports.models["voucherify"]
    operation = spec.operation("get-export")
    assert SpecAnswers.of(operation) is SpecAnswers.of(operation)
    assert SpecAnswers.of(operation).statuses.keys() == SpecAnswers(operation).statuses.keys()


async def test_an_answered_get_asks_the_request_for_no_key_it_lacks(make_api, monkeypatch):
    """A Request's `in`, `get` or `[]` of a missing key raises and catches a KeyError (~1.4 µs): the front
    middleware files the request id and NONE findings first, so a GET's journal and headers miss none."""
    api = await make_api()
    export = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    misses: list[str] = []
    plain = web.BaseRequest.__getitem__

    def counted(request, key):
        try:
            return plain(request, key)
        except KeyError:
            misses.append(str(key))
            raise

    monkeypatch.setattr(web.BaseRequest, "__getitem__", counted)
    answer = await api.get(f"/v1/exports/{export['id']}")
    assert answer.status == 200 and misses == []
    assert "X-Mock-Warning" not in answer.headers  # and a request with a finding still says it
    found = await api.post("/v1/exports", json={"exported_object": "order", "unknown_property": 1})
    assert found.status == 200 and "unknown_property" in found.headers["X-Mock-Warning"]


@pytest.mark.parametrize(
    "scheme",
    [
        {"type": "apiKey", "in": "header", "name": "X-App-Token"},
        {"type": "apiKey", "in": "header", "name": "X-Absent"},
        {"type": "apiKey", "in": "query", "name": "token"},
        {"type": "apiKey", "in": "cookie", "name": "session"},
        {"type": "http", "scheme": "basic"},
        {"type": "http", "scheme": "bearer"},
        {"type": "oauth2"},
    ],
)
def test_a_schemes_prepared_reader_reads_what_its_plain_reader_read(scheme):
    from mockserver.vendors.openapi.security import READERS, reader

    basic = base64.b64encode(b"user:pass").decode()
    for headers in (
        {"X-App-Token": "  tok-1 ", "Authorization": f"Basic {basic}", "Cookie": "session=s1"},
        {"Authorization": "Bearer b-2"},
        {},
    ):
        request = make_mocked_request("GET", "/v1/exports?token=q-3", headers=headers)
        assert reader(scheme)(request) == READERS[scheme["type"]](scheme, request)


def test_a_signed_url_alternative_is_offered_by_its_token_alone(spec):
    from mockserver.vendors.openapi.security import Credentials

    schemes = {
        "Key": {"type": "apiKey", "in": "header", "name": "X-App-Token"},
        "Token": {"type": "apiKey", "in": "query", "name": "token", "x-mock-signed": True},
        "Both": {"type": "apiKey", "in": "header", "name": "X-Signature", "x-mock-signed": True},
    }
    credentials = Credentials(schemes)
    security = ({"Key": []}, {"Token": []}, {"Token": [], "Both": []})

    def signed(target: str, **headers: str) -> bool:
        return credentials.signed(security, make_mocked_request("GET", target, headers=headers))

    assert signed("/f?token=") and signed("/f?token=t", **{"X-App-Token": "k"})  # sent empty counts too
    assert not signed("/f", **{"X-App-Token": "k"}) and not signed("/f?tok=t")
    assert not Credentials({"Key": schemes["Key"]}).signed(({"Key": []},), make_mocked_request("GET", "/f?token=t"))


async def test_answers_get_their_headers_without_a_prepare_signal_and_the_journal_sees_them_as_before(make_api):
    """The front middleware adds CORS's, the findings' and the vendor's headers (a signal's coroutine per
    answer cost more): to every answer, streamed ones too, after the journal recorded it as made."""
    api = await make_api(lifecycle="instant", rows=2)
    app = api.client.server.app
    assert not app.on_response_prepare
    origin = {"Origin": "http://localhost:5173"}
    created = await api.post("/v1/exports", json={"exported_object": "order", "unknown_property": 1}, headers=origin)
    assert created.headers["Access-Control-Allow-Origin"] == origin["Origin"] and created.headers["Vary"] == "Origin"
    assert "unknown_property" in created.headers["X-Mock-Warning"]
    url = (await api.get(f"/v1/exports/{created.json['id']}")).json["result"]["url"]
    download = await api.get(url[url.index("/v1/") :], headers=origin)
    assert download.status == 200 and download.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    journal = (await api.get("/__mock/requests", auth=False)).body
    kept = {entry["method"]: entry["response"]["headers"] for entry in journal["requests"]}
    assert "Vary" not in kept["POST"] and "X-Mock-Warning" not in kept["POST"]  # recorded as the handler made it


def test_stripe_apps_built_on_one_spec_share_its_report_types_read_only():
    """Stripe's report types are read from the spec once per Spec and data model, not once per app (a
    sixth of building one); shared, they cannot be changed by one app under another."""
    from mockserver.spec import bundled_spec
    from mockserver.vendors.stripe import Stripe
    from mockserver.vendors.stripe.report_types import load_report_types

    spec = bundled_spec("stripe")
    first, second = Stripe(spec=spec), Stripe(spec=spec)
    assert first.reporting.types is second.reporting.types
    assert dict(first.reporting.types) == load_report_types(spec, dict(first.exports.model.objects))
    with pytest.raises(TypeError):
        first.reporting.types["mine"] = first.reporting.types["balance.summary.1"]  # type: ignore[index]
    assert Stripe(spec=load_spec("stripe")).reporting.types is not first.reporting.types  # another Spec, its own


def test_a_specs_document_is_dumped_to_text_once(spec):
    """Every app built on a Spec looks the URLs its views offer up in the document's text: dumped once."""
    assert spec.text is spec.text
    assert json.loads(spec.text) == json.loads(json.dumps(spec.document, default=str))


async def test_a_create_works_out_nothing_per_request_that_the_spec_or_the_engine_settles_once(make_api, monkeypatch):
    """A POST's create and answer: whether ids are numeric (a walk of every operation), whether the data
    engine's modules are imported (a scan of the model's objects) and what the answer's schema's properties
    are (merged, their names read as view names) are the same for every create, worked out at the first."""
    from mockserver import data
    from mockserver.vendors.openapi import render

    api = await make_api(lifecycle="instant")
    body = {"exported_object": "order", "parameters": {"fields": ["id", "status"], "order": "-created_at"}}
    first = (await api.post("/v1/exports", json=body)).json
    data.load_engine()  # as the warm-up's thread would have by now

    await api.post("/v1/exports", json=body)  # the engine's modules now imported: remembered
    spec_walks, scans, names = [], [], []
    operations = api.spec.operations

    class Walked(list):
        def __iter__(self):
            spec_walks.append(1)
            return super().__iter__()

    monkeypatch.setattr(api.spec, "operations", Walked(operations))
    monkeypatch.setattr(data, "_modules", lambda model: scans.append(model) or [])
    monkeypatch.setattr(render, "view_name", lambda prop: names.append(prop))
    headers = {"X-App-Id": api.app[0], "X-App-Token": api.app[1]}  # the raw client: the Api's matches the spec
    answers = []
    for _ in range(3):
        response = await api.client.post("/v1/exports", json=body, headers=headers)
        assert response.status == 200
        answers.append(await response.json())
    assert spec_walks == [] and scans == [] and names == []
    assert len({answer["id"] for answer in answers + [first]}) == 4
    assert [sorted(answer) for answer in answers] == [sorted(first)] * 3
    assert all(answer["status"] == first["status"] == "SCHEDULED" for answer in answers)


def test_an_answer_rendered_from_its_kept_plan_is_the_one_rendered_at_first(spec):
    """render's per-schema plan (its properties merged and named once) answers as the first render did,
    in every phase (x-mock-when) and with the request's fields echoed."""
    from mockserver.vendors.openapi import render

    op = next(op for op in spec.operations if op.method == "POST" and op.path == "/v1/exports")
    schema = op.responses["200"]["application/json"]
    view = {
        "id": "exp_1",
        "status": "SCHEDULED",
        "phase": "scheduled",
        "created_at": 1796670283.965,
        "updated_at": 1796670283.965,
        "object": "order",
        "url": None,
        "canceled": False,
        "request": {"fields": ["id"]},
    }
    for phase, url in (("scheduled", None), ("done", "http://127.0.0.1/f"), ("failed", None)):
        seen = {**view, "phase": phase, "url": url}
        render._PLANS.clear()
        fresh = render.render(schema, seen, {"channel": "API"})
        again = render.render(schema, seen, {"channel": "API"})
        assert again == fresh and fresh["id"] == "exp_1" and fresh["parameters"] == {"fields": ["id"]}
        assert fresh["channel"] == "API" and fresh["result"] == (
            {"url": url} if url else None
        )  # Voucherify's result: null until done
        assert render._PLANS  # kept


def _five_schemas_into_a_table_of_three(monkeypatch, table: str, keep) -> list[dict]:
    """Five schemas, oldest first, given to `keep` with render's `table` emptied and made to hold three."""
    from mockserver.vendors.openapi import render

    monkeypatch.setattr(render, table, {})
    monkeypatch.setattr(render, "PLANS_KEPT", 3)
    schemas = [{"type": "object", "properties": {f"p{i}": {"type": "string"}}} for i in range(5)]
    for schema in schemas:
        keep(schema)
    return schemas


def test_a_full_merged_table_drops_its_oldest_schema_and_keeps_the_newest(monkeypatch):
    """The merged schemas likewise: a table that stopped keeping at 4,096 gave each create's answer a new
    merged schema, so its plan was worked out again on every request (a CI run's worker met that many)."""
    from mockserver.vendors.openapi import render

    schemas = _five_schemas_into_a_table_of_three(monkeypatch, "_MERGED", render.merged)
    assert [kept for kept, _ in render._MERGED.values()] == schemas[2:]
    assert render.merged(schemas[-1]) is render.merged(schemas[-1])


def test_a_full_plan_table_drops_its_oldest_plan_and_keeps_the_newest(monkeypatch):
    """A process that makes many apps (a test run, the pytest plugin) meets new schemas all along: once the
    table is full, the oldest plan makes room, so the schemas answered now keep theirs (a table that stopped
    keeping at its size worked out every plan again in a long test run, and held the old schemas forever)."""
    from mockserver.vendors.openapi import render

    schemas = _five_schemas_into_a_table_of_three(monkeypatch, "_PLANS", render._plan)
    assert [kept for kept, _ in render._PLANS.values()] == schemas[2:]
    named: list[str] = []
    monkeypatch.setattr(render, "view_name", lambda prop: named.append(prop))
    render._plan(schemas[-1])
    assert named == []  # the newest is kept: nothing worked out again


def test_a_bodys_walk_for_undeclared_properties_asks_no_abc_of_a_plain_value(monkeypatch):
    """Declared.unknown checks JSON's own types exactly (dict, list, str …) before it asks isinstance, which
    is asked only of what is neither: a Mapping that is not a dict is still walked into."""
    from collections.abc import Mapping
    from types import MappingProxyType

    from mockserver import validation

    asked = []

    def spy(value, kinds):
        if Mapping in (kinds if type(kinds) is tuple else (kinds,)):
            asked.append(value)
        return isinstance(value, kinds)

    monkeypatch.setattr(validation, "isinstance", spy, raising=False)
    schema = {"properties": {"a": {"properties": {"b": {}}}, "c": {"items": {"properties": {"d": {}}}}}}
    body = {"a": {"b": 1, "x": None}, "c": [{"d": "s", "y": 1.5}, "t", 3, True], "z": "w"}
    declared = Declared.of(schema)
    declared.unknown(body, "body")  # its levels worked out (they read the schema)
    asked.clear()
    assert [f.path for f in declared.unknown(body, "body")] == [".a.x", ".c[0].y", ".z"]
    assert all(type(value) in (dict, list) for value in asked) and len(asked) <= 3  # containers walked into
    asked.clear()
    assert [f.path for f in declared.unknown(MappingProxyType({"a": MappingProxyType({"q": 1})}), "body")] == [".a.q"]
    assert any(not isinstance(value, dict) and isinstance(value, Mapping) for value in asked)


def test_parse_json_walks_for_depth_only_a_text_with_enough_brackets_to_be_too_deep(monkeypatch):
    from mockserver import validation

    walked = []
    shallow = validation._shallow
    monkeypatch.setattr(validation, "_shallow", lambda value, limit: walked.append(value) or shallow(value, limit))
    assert parse_json('{"a": [1, {"b": "[[[{{{"}]}') == {"a": [1, {"b": "[[[{{{"}]}
    assert walked == []
    deep_enough = "[" * validation.MAX_DEPTH + "]" * validation.MAX_DEPTH
    wide = "[" + ",".join(["[]"] * 100) + "]"  # 101 brackets, two levels
    assert parse_json(deep_enough) is not None and parse_json(wide) == [[]] * 100 and len(walked) == 1
    with pytest.raises(ValueError, match="nested more than"):
        parse_json("[" * (validation.MAX_DEPTH + 1) + "]" * (validation.MAX_DEPTH + 1))


def test_a_creates_body_is_read_without_asking_an_abc_and_its_keys_named_once(monkeypatch):
    """dig reads a JSON body (dicts) without an ABC's isinstance (a Mapping that is not a dict still reads),
    and a body key's view name is worked out once (render.view_name, cached: every create names its keys)."""
    from collections.abc import Mapping
    from types import MappingProxyType

    from mockserver.vendors.openapi import behaviour, render

    asked = []

    def spy(value, kinds):
        asked.append(kinds)
        return isinstance(value, kinds)

    monkeypatch.setattr(behaviour, "isinstance", spy, raising=False)
    body = {"parameters": {"filters": {"status": "x"}}}
    assert behaviour.dig(body, "parameters.filters.status") == "x" and asked == []
    assert behaviour.dig(body, "parameters.nope.deeper") is None
    assert behaviour.dig(MappingProxyType({"a": MappingProxyType({"b": 1})}), "a.b") == 1 and Mapping in asked
    render.view_name.cache_clear()
    assert [render.view_name(name) for name in ("exported_object", "exported_object", "Created-At")] == [
        "object",
        "object",
        "created_at",
    ]
    assert render.view_name.cache_info().hits == 1


async def test_an_answered_get_asks_the_request_no_mapping_get_or_in(make_api, monkeypatch):
    """A Request's `get` and `in` are Mapping's: each runs its `[]` in a try of its own, in Python. The
    journal reads the app id and whether the request authenticated with one `[]`."""
    api = await make_api()
    export = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    asked: list[str] = []
    plain_get, plain_contains = web.BaseRequest.get, web.BaseRequest.__contains__

    def get(request, key, default=None):
        asked.append(f"get {key}")
        return plain_get(request, key, default)

    def contains(request, key):
        asked.append(f"in {key}")
        return plain_contains(request, key)

    monkeypatch.setattr(web.BaseRequest, "get", get)
    monkeypatch.setattr(web.BaseRequest, "__contains__", contains)
    answer = await api.get(f"/v1/exports/{export['id']}")
    assert answer.status == 200 and asked == []
    monkeypatch.undo()
    [entry] = [e for e in (await api.get("/__mock/requests", auth=False)).body["requests"] if e["method"] == "GET"]
    assert entry["app_id"] == api.app[0] and entry["headers"]["X-App-Token"] != api.app[1]  # masked


def test_an_operations_success_status_is_worked_out_once(spec):
    """Every GET's answer asks its operation's success status (a sort of its documented statuses): kept."""
    from mockserver.vendors.openapi import behaviour

    operation = spec.operation("get-export")
    first = behaviour._success(operation)
    hits = behaviour._success.cache_info().hits
    assert behaviour._success(operation) == first == 200 and behaviour._success.cache_info().hits == hits + 1


async def test_a_polled_paths_parameters_are_checked_once_and_every_other_input_afresh(make_api, monkeypatch):
    """An operation without a body keeps the checked parameters per (path values, raw query string): a client
    polling one export is checked once. Another id or query is checked afresh, an invalid one refused every
    time (never kept), and each request gets its own copies (a handler changing them changes no later one)."""
    from mockserver.pipeline import Step
    from mockserver.validation import RequestValidator

    api = await make_api()
    checks: list[dict] = []
    plain = RequestValidator.check_params

    def counted(validator, path, query, query_multi):
        checks.append(dict(path))
        return plain(validator, path, query, query_multi)

    monkeypatch.setattr(RequestValidator, "check_params", counted)
    handed: list = []
    plain_validate = Step.validate

    async def validate(step, request):
        inputs = await plain_validate(step, request)
        handed.append(inputs)
        inputs.path["changed"] = inputs.query["changed"] = True  # what a handler might do to its inputs
        return inputs

    monkeypatch.setattr(Step, "validate", validate)
    first = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    second = (await api.post("/v1/exports", json={"exported_object": "order"})).json
    answers = [await api.get(f"/v1/exports/{first['id']}") for _ in range(3)]
    assert [a.status for a in answers] == [200] * 3 and len(checks) == 3  # each POST's (a body: not kept), one GET's
    assert [i.path for i in handed[2:]] == [{"exportId": first["id"], "changed": True}] * 3
    assert (await api.get(f"/v1/exports/{second['id']}")).status == 200 and len(checks) == 4
    listed = [await api.get("/v1/exports?limit=2") for _ in range(2)]
    assert [len(r.json["exports"]) for r in listed] == [2, 2] and len(checks) == 5
    assert handed[-1].query == {"limit": 2, "page": 1, "order": "-created_at", "changed": True}
    refused = [await api.get("/v1/exports?limit=abc") for _ in range(2)]
    assert [r.status for r in refused] == [400, 400] and len(checks) == 7
    assert (await api.get("/v1/exports?limit=3")).status == 200 and len(checks) == 8


async def test_a_pinned_accounts_secret_is_judged_once_and_afresh_when_its_pin_changes(make_api, monkeypatch):
    """A pinned account's accepted secret is remembered (the pin itself, the very object): the next request
    with it is not compared again. A changed pin (fixtures pin theirs after start-up) is judged afresh: the
    old secret refused, the new one accepted; a wrong secret is never remembered."""
    from mockserver.vendors.openapi import accounts

    api = (await make_api(apps={"acme": "acme-token"})).as_app("acme", "acme-token")
    compared: list[str] = []
    plain = accounts.same

    def same(expected, given):
        compared.append(given)
        return plain(expected, given)

    monkeypatch.setattr(accounts, "same", same)
    answers = [await api.get("/v1/exports") for _ in range(3)]
    assert [a.status for a in answers] == [200] * 3 and compared == ["acme-token"]
    wrong = [await api.as_app("acme", "acme-tokem").get("/v1/exports") for _ in range(2)]
    assert [w.status for w in wrong] == [401, 401] and compared == ["acme-token", "acme-tokem", "acme-tokem"]
    vendor = api.client.server.app[MOUNTS].vendors[0]
    vendor.apps["acme"] = "new-token"
    assert (await api.get("/v1/exports")).status == 401
    assert (await api.as_app("acme", "new-token").get("/v1/exports")).status == 200
    assert (await api.as_app("acme", "new-token").get("/v1/exports")).status == 200
    assert compared[3:] == ["acme-token", "new-token"]
