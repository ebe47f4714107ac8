"""CORS as a browser exercises it: a preflight (OPTIONS with Origin,
Access-Control-Request-Method and -Headers), then the real request."""

from __future__ import annotations

import pytest

from tests.control_support import CREDENTIALS, control_api, http, server  # noqa: F401  (fixture)

PREFLIGHT = {
    "Origin": "http://localhost:5173",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-app-id,x-app-token",
}


def allowed_headers(response) -> set[str]:
    return {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}


def test_preflight_from_a_localhost_frontend_over_http(spec):
    with server(spec) as running:
        answer = http("OPTIONS", running.url + "/v1/exports", headers=PREFLIGHT)
        assert answer.status == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]
        assert allowed_headers(answer) >= {"content-type", "x-app-id", "x-app-token", "authorization", "prefer"}
        real = http(
            "POST",
            running.url + "/v1/exports",
            {"exported_object": "order"},
            headers={**CREDENTIALS, "Origin": "http://localhost:5173"},
        )
        assert real.status == 200
        assert real.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert "Origin" in real.headers["Vary"]


@pytest.mark.parametrize("origin", ["http://127.0.0.1:3000", "https://localhost", "http://[::1]:8081"])
async def test_any_localhost_origin_is_allowed_by_default(control_api, origin):
    api, _ = await control_api()
    resp = await api.client.options("/v1/exports/exp_x", headers={**PREFLIGHT, "Origin": origin})
    assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example", "null"])
async def test_other_origins_are_refused_by_default(control_api, origin):
    api, _ = await control_api()
    resp = await api.client.options("/v1/exports", headers={**PREFLIGHT, "Origin": origin})
    assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers
    assert "localhost" in (await resp.json())["error"]
    real = await api.client.get("/v1/exports", headers={**CREDENTIALS, "Origin": origin})
    assert "Access-Control-Allow-Origin" not in real.headers


async def test_configured_origins_replace_the_default(control_api):
    api, _ = await control_api(cors_origins=["https://app.example.com"])
    ok = await api.client.options("/v1/exports", headers={**PREFLIGHT, "Origin": "https://app.example.com"})
    assert ok.status == 204
    local = await api.client.options("/v1/exports", headers=PREFLIGHT)
    assert local.status == 403


async def test_star_allows_any_origin(control_api):
    api, _ = await control_api(cors_origins=["*"])
    resp = await api.client.options("/v1/exports", headers={**PREFLIGHT, "Origin": "https://anywhere.example"})
    assert resp.status == 204


async def test_errors_and_downloads_carry_the_allow_headers(control_api):
    api, _ = await control_api(lifecycle="instant", rows=2)
    origin = {"Origin": "http://localhost:5173"}
    unauthorized = await api.client.get("/v1/exports", headers=origin)
    assert unauthorized.status == 401 and unauthorized.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    created = await api.post("/v1/exports", json={"exported_object": "order"})
    url = (await api.get(f"/v1/exports/{created.json['id']}")).json["result"]["url"]
    download = await api.client.get(url[url.index("/v1/") :], headers=origin)
    assert download.status == 200
    assert download.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    assert "Content-Disposition" in download.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", ["http://app.localhost:5173", "https://a.b.localhost", "http://LOCALHOST:1"])
async def test_subdomains_of_localhost_are_loopback_too(control_api, origin):
    api, _ = await control_api()
    resp = await api.client.options("/v1/exports", headers={**PREFLIGHT, "Origin": origin})
    assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == origin


async def test_the_headers_a_preflight_asks_for_are_allowed(control_api):
    api, _ = await control_api()
    asked = "content-type, x-app-id, X-Voucherify-Channel, traceparent, x-b3-traceid"
    resp = await api.client.options("/v1/exports", headers={**PREFLIGHT, "Access-Control-Request-Headers": asked})
    assert resp.status == 204
    assert allowed_headers(resp) >= {"x-voucherify-channel", "traceparent", "x-b3-traceid", "prefer"}


async def test_malformed_header_names_in_a_preflight_are_not_echoed(control_api):
    api, _ = await control_api()
    resp = await api.client.options(
        "/v1/exports", headers={**PREFLIGHT, "Access-Control-Request-Headers": "x-ok, bad header, a:b"}
    )
    assert resp.status == 204 and "x-ok" in allowed_headers(resp)
    assert not {"bad header", "a:b"} & allowed_headers(resp)


async def test_credentials_are_allowed_with_the_origin_echoed(control_api):
    api, _ = await control_api(cors_origins=["*"])
    origin = "https://app.example.com"
    pre = await api.client.options("/v1/exports", headers={**PREFLIGHT, "Origin": origin})
    real = await api.client.get("/v1/exports", headers={**CREDENTIALS, "Origin": origin})
    for resp in (pre, real):
        assert resp.headers["Access-Control-Allow-Origin"] == origin  # never * when credentials are allowed
        assert resp.headers["Access-Control-Allow-Credentials"] == "true"


async def test_a_refused_origin_is_logged_and_journaled(control_api, caplog):
    api, _ = await control_api()
    with caplog.at_level("WARNING", logger="mockserver"):
        resp = await api.client.options("/v1/exports", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert resp.status == 403
    lines = [r.getMessage() for r in caplog.records if "https://evil.example" in r.getMessage()]
    assert len(lines) == 1 and "not allowed" in lines[0]
    journal = await (await api.client.get("/__mock/requests")).json()
    entries = journal if isinstance(journal, list) else journal.get("requests", journal)
    refused = [e for e in entries if e["method"] == "OPTIONS"]
    assert refused and refused[-1]["response"]["status"] == 403
    assert "https://evil.example" in refused[-1]["response"]["body"]["error"]
    assert refused[-1]["headers"]["Origin"] == "https://evil.example"
