"""The server says what it serves: the start-up banner, `GET /` (JSON, or HTML to a browser), a
neutral 404 for a path under no vendor's mount, and `--access-log`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

import pytest

from mockserver import registry
from mockserver.app import Settings, create_app

V_AUTH = {"X-App-Id": "index-app", "X-App-Token": "index-secret"}


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one process", "workers"])
def test_the_banner_names_each_vendors_paths_credentials_the_admin_api_and_the_config_file(tmp_path, workers):
    """`serve --workers N` prints the single process's banner too, with the number of workers."""
    (tmp_path / "mockserver.yaml").write_text("chargebee-key: [test_pinned]\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *workers],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    deadline = threading.Timer(60, process.terminate)  # a banner without its config line fails, not hangs
    deadline.start()
    try:
        lines = [process.stdout.readline()]
        while not lines[-1].lstrip().startswith("config") and lines[-1]:
            lines.append(process.stdout.readline())
    finally:
        deadline.cancel()
        process.terminate()
        process.wait(timeout=30)
    text = "".join(lines)
    assert lines[0].startswith("mockserver listening on http://127.0.0.1:"), text
    assert lines[0].rstrip().endswith(", 2 workers)" if workers else "seed 0)"), text
    url = lines[0].split("listening on ")[1].split()[0]
    by_name = {line.split()[0]: line for line in lines[1:]}
    assert "/v1/exports" in by_name["voucherify"] and "trusting new keys" in by_name["voucherify"], text
    assert "/api/v2/exports" in by_name["chargebee"] and "pinned" in by_name["chargebee"], text
    assert "/v1/reporting/report_runs" in by_name["stripe"], text
    assert f"{url}/__mock/" in by_name["admin"] and f"{url}/__mock/ui" in by_name["dashboard"], text
    assert by_name["config"].split()[-1] == "mockserver.yaml", text


async def test_the_index_says_what_is_served_as_json_and_as_html_to_a_browser(aiohttp_client):
    client = await aiohttp_client(create_app(Settings(vendor_options={"voucherify": {"apps": {"a": "b"}}})))
    answer = await client.get("/")
    assert answer.status == 200 and answer.content_type == "application/json"
    index = await answer.json()
    vendors = {v["name"]: v for v in index["vendors"]}
    assert set(vendors) == set(registry.available())
    assert (
        "/v1/exports" in vendors["voucherify"]["paths"] and vendors["voucherify"]["credentials"] == "pinned keys only"
    )
    assert vendors["chargebee"]["credentials"].startswith("trusting new keys")
    assert index["dashboard"].endswith("/__mock/ui") and index["admin"].endswith("/__mock/")
    spec = await client.get(vendors["stripe"]["openapi"].split(str(client.make_url("")).rstrip("/"))[1])
    assert spec.status == 200 and "x-mock-mount" in await spec.json()
    page = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert page.status == 200 and page.content_type == "text/html"
    text = await page.text()
    assert "/api/v2/exports" in text and "/__mock/ui" in text
    assert (await client.get("/__mock/requests")).status == 200
    assert (await (await client.get("/__mock/requests")).json())["count"] == 0  # the index is not vendor traffic


@pytest.mark.parametrize("path", ["/nowhere", "/v2/exports", "/api/v3/exports", "/%1b[31mred"])
async def test_a_path_under_no_vendor_gets_a_neutral_404(aiohttp_client, path):
    client = await aiohttp_client(create_app(Settings()))
    answer = await client.get(path, headers=V_AUTH)
    body = await answer.json()
    assert answer.status == 404 and answer.content_type == "application/json"
    assert set(body) == {"error", "status"} and "GET /" in body["error"], body  # no vendor's shape
    wrong = await client.post("/", data=b"{}")
    assert wrong.status == 405 and set(await wrong.json()) == {"error", "status"}


async def test_a_path_under_no_vendor_carries_no_vendors_headers_or_journal_claim(aiohttp_client):
    """No vendor stands in for a path under none: not the first mounted one's answer headers (Stripe's
    `Request-Id`, `Stripe-Version`), nor its reading of who the request claims to be."""
    stripe, voucherify = (registry.available()[name]() for name in ("stripe", "voucherify"))
    client = await aiohttp_client(create_app(Settings(), vendors=[stripe, voucherify]))
    answer = await client.get("/nowhere", headers={"Authorization": "Bearer sk_test_someone"})
    assert answer.status == 404 and set(await answer.json()) == {"error", "status"}
    assert "Request-Id" not in answer.headers and "Stripe-Version" not in answer.headers
    mounted = await client.get("/v1/files/file_nope", headers={"Authorization": "Bearer sk_test_someone"})
    assert "Request-Id" in mounted.headers  # under Stripe's mount: Stripe's headers
    journal = await (await client.get("/__mock/requests")).json()
    claims = {entry["path"]: entry.get("app_id") for entry in journal["requests"]}
    assert claims["/nowhere"] is None and claims["/v1/files/file_nope"] is not None, claims


async def test_a_path_under_a_mount_keeps_its_vendors_404(aiohttp_client):
    client = await aiohttp_client(create_app(Settings()))
    body = await (await client.get("/v1/nowhere", headers=V_AUTH)).json()
    assert body["key"] == "not_found"
    body = await (await client.get("/api/v2/nowhere")).json()
    assert body["api_error_code"] == "resource_not_found"


async def test_the_access_log_is_off_by_default(aiohttp_client, caplog):
    client = await aiohttp_client(create_app(Settings()))
    with caplog.at_level(logging.INFO, logger="mockserver.access"):
        await client.get("/v1/exports", headers=V_AUTH)
    assert not [r for r in caplog.records if r.name == "mockserver.access"]


async def test_the_access_log_has_one_line_per_request_with_no_secret_and_escaped_text(aiohttp_client, caplog):
    client = await aiohttp_client(create_app(Settings(access_log=True)))
    with caplog.at_level(logging.INFO, logger="mockserver.access"):
        await client.get("/v1/exports", headers=V_AUTH)
        await client.post(
            "/api/v2/exports/orders",
            data="order[status][is]=queued",
            headers={
                "Authorization": "Basic dGVzdF9zZWNyZXRrZXk6",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        await client.get("/v1/exports/exp_x/download?token=download-secret&x=1")
        await client.get("/v1/%1b[31mred%0a", headers=V_AUTH)
    lines = [r.getMessage() for r in caplog.records if r.name == "mockserver.access"]
    assert len(lines) == 4, lines
    assert lines[0].endswith(" ms") and " GET /v1/exports 200 " in lines[0], lines
    assert " POST /api/v2/exports/orders 200 " in lines[1], lines
    assert "token=****" in lines[2] and "x=1" in lines[2], lines
    everything = "\n".join(lines)
    for secret in ("index-secret", "dGVzdF9zZWNyZXRrZXk6", "download-secret"):
        assert secret not in everything
    assert "\x1b" not in everything and "\\x1b[31mred\\x0a" in lines[3], lines
    assert all("\n" not in line for line in lines)


async def test_a_mount_over_another_answers_its_own_404_not_the_shorter_mounts_route(aiohttp_client, tmp_path):
    """Mounts nest (Stripe at /v1/files over a vendor at /v1): a path under the longer mount that none of
    its routes match is its 404, in its shape, even where a route of the shorter mount would match it."""
    import json

    folder = tmp_path / "deep"
    folder.mkdir()
    job = {"type": "object", "required": ["id", "status"], "properties": {"id": {}, "status": {"type": "string"}}}
    document = {
        "swagger": "2.0",
        "info": {"title": "Deep API", "version": "1"},
        "basePath": "/v1",
        "securityDefinitions": {"basic": {"type": "basic"}},
        "security": [{"basic": []}],
        "paths": {
            "/jobs": {"post": {"operationId": "start", "responses": {"202": {"description": "", "schema": job}}}},
            "/{a}/{b}/{id}/status": {
                "get": {
                    "operationId": "status",
                    "parameters": [
                        {"in": "path", "name": name, "required": True, "type": "string"} for name in ("a", "b", "id")
                    ],
                    "responses": {"200": {"description": "", "schema": job}},
                }
            },
        },
    }
    (folder / "api.json").write_text(json.dumps(document))
    (folder / "overlay.yaml").write_text(
        "overlay: 1.0.0\ninfo: {title: deep, version: '1'}\nactions:\n"
        "  - target: $.paths['/jobs'].post\n    update: {x-mock: {role: create}}\n"
        "  - target: $.paths['/{a}/{b}/{id}/status'].get\n    update: {x-mock: {role: status}}\n"
    )
    deep = registry.folder(str(folder))()
    stripe = registry.available()["stripe"]()
    client = await aiohttp_client(create_app(Settings(lifecycle="instant"), vendors=[stripe, deep]))
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert (await client.get("/v1/jobs/x/y/status", headers=basic)).status != 404  # the shorter mount's route
    answer = await client.get("/v1/files/x/y/status", headers={"Authorization": "Bearer sk_test_someone"})
    body = await answer.json()
    assert answer.status == 404 and body["error"]["type"] == "invalid_request_error", body  # Stripe's shape
    wrong = await client.delete("/v1/files", headers={"Authorization": "Bearer sk_test_someone"})
    assert wrong.status == 405 and "GET" in wrong.headers["Allow"], await wrong.text()
