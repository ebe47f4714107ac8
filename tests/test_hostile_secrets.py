"""A secret never leaves the request that carried it.

The journal (`GET /__mock/requests`), the proxy's journal and its `--record` files,
and the server's log lines show credentials masked (scheme + kind prefix + last four
characters), download tokens redacted, and an API-key tenant under a label, never the
key. Each family goes through real HTTP (aiohttp's test server listens on loopback).
"""

from __future__ import annotations

import gc
import io
import json
import logging
import re
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mockserver import logs, redact
from mockserver.app import Settings, create_app
from mockserver.control.journal import MAX_BODY_CHARS
from mockserver.proxy import Forwarder
from mockserver.testing import ServerThread
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.stripe import Stripe
from mockserver.vendors.voucherify import Voucherify
from mockserver.vendors.voucherify.record import Recorder
from tests.chargebee_support import basic
from tests.control_support import http

VF_APP, VF_TOKEN = "shop-a", "vf_live_0123456789abcdefWXYZ"
CB_KEY = "test_cbsite_9876543210zyxwQRST"
STRIPE_KEY = "sk_test_51HxAbCdEfGhIjKlMnOp4242"
VF = {"X-App-Id": VF_APP, "X-App-Token": VF_TOKEN}
CB = {"Authorization": basic(CB_KEY)}
ST = {"Authorization": f"Bearer {STRIPE_KEY}"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRETS = (VF_TOKEN, CB_KEY, STRIPE_KEY, basic(CB_KEY).split()[1])


@pytest.fixture
async def mock(aiohttp_client, clock):
    vendors = [Voucherify(apps={VF_APP: VF_TOKEN}), Chargebee(keys=[CB_KEY]), Stripe(keys=[STRIPE_KEY])]
    app = create_app(Settings(lifecycle="instant"), clock=clock, vendors=vendors)
    return await aiohttp_client(app)


async def journal(client, **params) -> dict:
    reply = await client.get("/__mock/requests", params=params)
    assert reply.status == 200
    return await reply.json()


async def downloaded(client, path: str) -> bool:
    """Download the whole file: its journal entry is made once the handler has sent it all."""
    reply = await client.get(path)
    await reply.read()
    await client.get("/__mock/health")  # the same keep-alive connection: answered after the download's handler
    return reply.status == 200


async def exports_of_every_vendor(client) -> list[str]:
    """One finished export per vendor, read and downloaded: the download tokens the mock minted."""
    tokens = []
    created = await (await client.post("/v1/exports", json={"exported_object": "order"}, headers=VF)).json()
    url = (await (await client.get(f"/v1/exports/{created['id']}", headers=VF)).json())["result"]["url"]
    assert await downloaded(client, url[url.index("/v1/") :])
    tokens.append(url.split("token=")[1])
    created = await (await client.post("/api/v2/exports/customers", data="", headers={**CB, **FORM})).json()
    got = await (await client.get(f"/api/v2/exports/{created['export']['id']}", headers=CB)).json()
    url = got["export"]["download"]["download_url"]
    assert await downloaded(client, url[url.index("/api/") :])
    tokens.append(url.split("token=")[1])
    form = "report_type=balance.summary.1&parameters[interval_start]=1699912800&parameters[interval_end]=1699999200"
    run = await (await client.post("/v1/reporting/report_runs", data=form, headers={**ST, **FORM})).json()
    assert (await client.get(f"/v1/reporting/report_runs/{run['id']}", headers=ST)).status == 200
    return tokens


# -------------------------------------------------------------------- 21.1 the journal
async def test_the_journal_keeps_no_credential_and_no_download_token(mock):
    tokens = await exports_of_every_vendor(mock)
    text = json.dumps(await journal(mock))
    for secret in (*SECRETS, *tokens):
        assert secret not in text


async def test_credentials_are_masked_as_the_vendors_mask_keys(mock):
    await exports_of_every_vendor(mock)
    entries = (await journal(mock))["requests"]
    headers = [e["headers"] for e in entries]
    assert {h.get("X-App-Token") for h in headers} >= {"vf_live_****WXYZ"}
    assert {h.get("Authorization") for h in headers} >= {"Basic test_cbsite_****QRST", "Bearer sk_test_****4242"}


async def test_download_tokens_are_redacted_in_urls_query_and_bodies(mock):
    tokens = await exports_of_every_vendor(mock)
    entries = (await journal(mock))["requests"]
    downloads = [e for e in entries if "token" in e["query"]]
    assert len(downloads) == 2
    assert [e["query"]["token"] for e in downloads] == [redact.mask(t) for t in tokens]
    urls = [
        e["response"]["body"]["result"]["url"]
        for e in entries
        if e["method"] == "GET"
        and isinstance(e["response"]["body"], dict)
        and (e["response"]["body"].get("result") or {}).get("url")
    ]
    urls += [
        e["response"]["body"]["export"]["download"]["download_url"]
        for e in entries
        if isinstance(e["response"]["body"], dict) and "download" in e["response"]["body"].get("export", {})
    ]
    urls = [url for url in urls if urlsplit(url).query]  # Stripe's file URL needs the key, not a token
    assert len(urls) == 2 and all("****" in urlsplit(url).query for url in urls)
    assert {urlsplit(url).query[6:] for url in urls} == {redact.mask(token) for token in tokens}


async def test_a_file_links_token_in_its_url_and_path_is_redacted(mock):
    form = "report_type=balance.summary.1&parameters[interval_start]=1699912800&parameters[interval_end]=1699999200"
    run = await (await mock.post("/v1/reporting/report_runs", data=form, headers={**ST, **FORM})).json()
    run = await (await mock.get(f"/v1/reporting/report_runs/{run['id']}", headers=ST)).json()
    link = await (await mock.post("/v1/file_links", data=f"file={run['result']['id']}", headers={**ST, **FORM})).json()
    token = link["url"].rsplit("/links/", 1)[1]
    assert await downloaded(mock, f"/links/{token}")  # the link is its own credential
    entries = (await journal(mock))["requests"]
    assert token not in json.dumps(entries)
    assert entries[-1]["path"] == f"/links/{redact.mask(token)}"
    assert (await journal(mock, path="/links/*"))["requests"] == [entries[-1]]


async def test_the_access_log_masks_a_capability_path(aiohttp_client, clock, caplog):
    caplog.set_level(logging.INFO, logger="mockserver.access")
    client = await aiohttp_client(create_app(Settings(access_log=True), clock=clock, vendors=[Stripe()]))
    token = "Ab3" * 21 + "Z"  # a file link's shape: 64 letters and digits
    await client.get(f"/links/{token}?token=secret-download-token")
    lines = [record.getMessage() for record in caplog.records if record.name == "mockserver.access"]
    assert lines and all(token not in line and "secret-download-token" not in line for line in lines)


@pytest.mark.parametrize(
    "secret, shown",
    [
        ("sk_test_51HxAbCdEfGhIjKlMnOp4242", "sk_test_****4242"),
        ("rk_live_0000000000000000abcd", "rk_live_****abcd"),
        ("0123456789abcdefghij", "****ghij"),
        ("short-key", "****"),  # a short secret shows none of its characters
        ("sk_test_123", "****"),
    ],
)
def test_the_mask_shows_a_kind_prefix_and_the_last_four_of_long_secrets_only(secret, shown):
    assert redact.mask(secret) == shown


async def test_api_key_tenants_are_filed_under_a_label_found_by_the_key_too(mock):
    await exports_of_every_vendor(mock)
    for key, prefix in ((CB_KEY, "/api/v2/"), (STRIPE_KEY, "/v1/reporting/")):
        by_key = (await journal(mock, app_id=key))["requests"]
        assert by_key and all(e["path"].startswith(prefix) for e in by_key)
        assert {e["app_id"] for e in by_key} == {redact.label(key)}
        assert (await journal(mock, app_id=redact.label(key)))["requests"] == by_key
    assert {e["app_id"] for e in (await journal(mock))["requests"]} == {  # None: downloads (a token, no key)
        VF_APP,
        redact.label(CB_KEY),
        redact.label(STRIPE_KEY),
        None,
    }


async def test_a_refused_key_is_neither_kept_nor_shown(mock):
    wrong = "sk_test_WRONGWRONGWRONGWRONG9999"
    assert (await mock.get("/v1/reporting/report_runs", headers={"Authorization": f"Bearer {wrong}"})).status == 401
    [entry] = (await journal(mock))["requests"]
    assert entry["response"]["status"] == 401 and entry["app_id"] == redact.label(wrong)
    assert wrong not in json.dumps(entry)


async def test_what_only_looks_like_a_secret_is_kept_as_it_was(mock):
    reply = await mock.get("/v1/exports", headers={"X-App-Id": VF_APP, "X-App-Token": "wrong-token-0000"})
    [entry] = (await journal(mock))["requests"]
    assert entry["response"]["body"] == await reply.json()  # Voucherify's error "key" is no key
    assert entry["response"]["body"]["key"] == "unauthorized"


async def test_secrets_echoed_in_bodies_and_other_secret_headers_are_masked(mock):
    body = {"exported_object": "order", "note": f"my key is {VF_TOKEN}", "api_key": "zzzzzzzzzzzzzzzz1234"}
    await mock.post("/v1/exports", json=body, headers={**VF, "Cookie": "session=abc", "X-Api-Key": "k" * 20})
    [entry] = (await journal(mock))["requests"]
    text = json.dumps(entry)
    assert VF_TOKEN not in text and "zzzzzzzzzzzzzzzz1234" not in text and "k" * 20 not in text
    assert entry["headers"]["Cookie"] == "****" and entry["body"]["api_key"] == "****1234"


# -------------------------------------------------------------------- 24.11 reset through real HTTP
def test_reset_of_one_app_forgets_its_journal_entries_through_real_http():
    with ServerThread(Settings(port=0, lifecycle="instant")) as server:
        other = {"Authorization": basic("test_other_site_key_0000")}
        assert http("GET", server.url + "/v1/exports", headers=VF).status == 200
        for headers in (CB, other):
            assert http("GET", server.url + "/api/v2/exports/nope", headers=headers).status == 404
        assert http("POST", server.url + "/__mock/reset", {"app_id": CB_KEY}).json == {"reset": CB_KEY}
        left = http("GET", server.url + "/__mock/requests").json["requests"]
        assert [e["app_id"] for e in left] == [VF_APP, redact.label("test_other_site_key_0000")]
        assert http("POST", server.url + "/__mock/reset", {"app_id": VF_APP}).status == 200
        left = http("GET", server.url + "/__mock/requests").json["requests"]
        assert [e["app_id"] for e in left] == [redact.label("test_other_site_key_0000")]


# -------------------------------------------------------------------- 21.1 proxy: journal and --record
def test_the_proxy_journal_and_its_recordings_keep_no_secret(spec, tmp_path: Path):
    order = {"source_id": "ord-1", "status": "PAID", "amount": 100, "customer": {"source_id": "c-1"}}
    with ServerThread(Settings(port=0, lifecycle="instant")) as upstream:
        forwarder = Forwarder(upstream.url)
        forwarder.observers.append(Recorder(tmp_path, spec))
        vendors = [Voucherify(spec=spec), Chargebee(), Stripe()]
        with ServerThread(Settings(port=0), vendors=vendors, proxy=forwarder) as proxy:
            assert http("POST", proxy.url + "/v1/orders", order, headers=VF).status == 200
            created = http("POST", proxy.url + "/v1/exports", {"exported_object": "order"}, headers=VF).json
            url = http("GET", f"{proxy.url}/v1/exports/{created['id']}", headers=VF).json["result"]["url"]
            token = url.split("token=")[1]
            assert http("GET", proxy.url + url[url.index("/v1/") :]).status == 200
            assert http("GET", proxy.url + "/api/v2/exports/nope", headers=CB).status == 404
            text = http("GET", proxy.url + "/__mock/requests").text
            labels = {e["app_id"] for e in json.loads(text)["requests"]}
    for secret in (VF_TOKEN, CB_KEY, token):
        assert secret not in text
    assert labels == {VF_APP, redact.label(CB_KEY), None}
    written = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "ord-1" in written and VF_TOKEN not in written and token not in written


# -------------------------------------------------------------------- 21.7 bodies are kept cut to 64 KiB
async def test_the_journal_keeps_refused_bodies_cut_to_64_kib(mock):
    big = b'{"exported_object": "' + b"x" * (1024 * 1024 - 64)  # 1 MiB of malformed JSON: refused with 400
    await mock.get("/__mock/health")  # everything lazily made is made before measuring
    # what exists now is set aside (gc.freeze), so the collection after the requests walks only what they
    # made: only that is traced, and two full collections of a worker's heap cost a second of CPU
    gc.freeze()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(20):
            reply = await mock.post("/v1/exports", data=big, headers={**VF, "Content-Type": "application/json"})
            assert reply.status == 400
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert kept < 20 * 4 * MAX_BODY_CHARS, f"20 refused 1 MiB bodies left {kept / 2**20:.1f} MiB behind"
    entries = (await journal(mock))["requests"]
    assert len(entries) == 20 and all(len(e["body"]) == MAX_BODY_CHARS for e in entries)


async def test_a_json_body_cut_by_the_journal_is_shown_as_text(mock):
    fields = [f"field_{i:06d}" for i in range(8000)]  # about 100 KiB of valid JSON
    await mock.post("/v1/exports", json={"exported_object": "order", "parameters": {"fields": fields}}, headers=VF)
    [entry] = (await journal(mock))["requests"]
    assert isinstance(entry["body"], str) and len(entry["body"]) == MAX_BODY_CHARS


# -------------------------------------------------------------------- 21.14 / 24.9 log lines
ESCAPE = "\x1b[31mRED\x1b[0m\x07\r\nFAKE LINE"


async def test_log_lines_escape_what_clients_send(mock, caplog):
    caplog.set_level(logging.WARNING, logger="mockserver")
    body = {"exported_object": "order", ESCAPE: 1}
    assert (await mock.post("/v1/exports", json=body, headers=VF)).status == 200
    lines = [record.getMessage() for record in caplog.records]
    assert lines and any("\\x1b[31mRED" in line for line in lines)
    assert not any(ch in line for line in lines for ch in "\x1b\x07\r\n")


async def test_repeated_warnings_are_summarised_not_flooded(mock):
    now = [0.0]
    stream = io.StringIO()
    level = logging.getLogger().level
    handler = logs.configure("%(levelname)s %(message)s", stream=stream, clock=lambda: now[0], first=5, window=60)
    try:
        for number in range(40):
            body = {"exported_object": "order", f"unknown_{number}{ESCAPE}": 1}
            assert (await mock.post("/v1/exports", json=body, headers=VF)).status == 200
        assert stream.getvalue().count("WARNING") == 5
        now[0] += 61  # the window ends: the next warning first says what was held back
        await mock.post("/v1/exports", json={"exported_object": "order", "late": 1}, headers=VF)
        logs.flush_summaries()
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 7, lines
    assert "35 more like this" in lines[5] and "unknown_39" in lines[5] and "late" in lines[6]
    assert "\x1b" not in stream.getvalue()


def test_the_serve_command_escapes_and_summarises_its_warnings():
    """The operator's terminal, as `mockserver serve` writes to it: 30 requests with an escape sequence in an
    unknown property name give the first 10 warning lines, escaped, and one summary line when it stops."""
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--vendors", "voucherify"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline()).group(0)
        for number in range(30):
            body = {"exported_object": "order", f"unknown_{number}{ESCAPE}": 1}
            assert http("POST", url + "/v1/exports", body, headers=VF).status == 200
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    warnings = [line for line in stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 11, stderr
    assert "20 more like this" in warnings[-1] and "unknown_29" in warnings[-1]
    assert "\\x1b[31mRED" in warnings[0] and "\x1b" not in stderr and "\x07" not in stderr


# -------------------------------------------------------------------- docs/hardening.md: formula-like CSV cells
async def test_csv_cells_that_look_like_formulas_are_written_raw(mock):
    """As the vendors' files are (hardening.md says so): a stored value comes back byte for byte."""
    values = ["=1+2", "+SUM(A1)", "-3", "@cmd"]
    for value in values:
        order = {"source_id": value, "status": "PAID", "amount": 100}
        assert (await mock.post("/v1/orders", json=order, headers=VF)).status == 200
    body = {"exported_object": "order", "parameters": {"fields": ["source_id"]}}
    created = await (await mock.post("/v1/exports", json=body, headers=VF)).json()
    url = (await (await mock.get(f"/v1/exports/{created['id']}", headers=VF)).json())["result"]["url"]
    lines = (await (await mock.get(url[url.index("/v1/") :])).text()).splitlines()
    assert sorted(lines[1:]) == sorted(values)
