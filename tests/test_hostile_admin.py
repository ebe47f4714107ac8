"""Who may reach the admin API, rate limits after authentication,
Private Network Access.

The admin API (`/__mock/`) answers only a loopback Host (or the bound address, or
`--allow-host`), takes JSON only for a POST, grants no CORS, and with `--admin-token`
needs the token. A rate limit counts a request against an app only once it proved to
be that app. Each family runs through real HTTP (aiohttp's test server on loopback,
or a ServerThread), as a page, a script or an SDK would call.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mockserver.app import Settings, create_app
from mockserver.contract.options import ContractUsageError
from mockserver.contract.recorded import from_journal
from mockserver.control.exposure import Exposure, host_name, warning
from mockserver.testing import ServerThread
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.stripe import Stripe
from mockserver.vendors.voucherify import Voucherify
from tests.chargebee_support import basic

APP, TOKEN = "app-a", "token-a-0123456789"
VF = {"X-App-Id": APP, "X-App-Token": TOKEN}
JSON = {"Content-Type": "application/json"}
PAGE = "http://localhost:5173"


@pytest.fixture
def make(aiohttp_client, clock):
    async def make(**settings):
        vendors = [Voucherify(apps={APP: TOKEN}), Chargebee(keys=["test_site_key_0000"]), Stripe()]
        app = create_app(Settings(lifecycle="instant", **settings), clock=clock, vendors=vendors)
        return await aiohttp_client(app)

    return make


async def exports(client) -> int:
    return (await (await client.get("/v1/exports", headers=VF)).json())["total"]


# -------------------------------------------------------------------- JSON only
@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", '{"app_id": "x"}'),  # a cross-site fetch's "simple" request: no preflight
        ("application/x-www-form-urlencoded", "app_id=x"),  # a cross-site form
        ("multipart/form-data; boundary=b", "--b--"),
        (None, None),  # fetch(url, {method: "POST", mode: "no-cors"})
    ],
)
async def test_state_changing_admin_calls_take_json_only(make, content_type, body):
    client = await make()
    assert (await client.post("/v1/exports", json={"exported_object": "order"}, headers=VF)).status == 200
    headers = {"Content-Type": content_type} if content_type else {}
    for path in ("reset", "clock/advance"):
        reply = await client.post(
            f"/__mock/{path}", data=body, headers=headers, skip_auto_headers=() if content_type else ("Content-Type",)
        )
        assert reply.status == 415 and "application/json" in (await reply.json())["error"]
    assert await exports(client) == 1  # nothing changed
    assert (await client.post("/__mock/reset", data=b"", headers=JSON)).status == 200  # an empty JSON call is fine
    assert await exports(client) == 0


# -------------------------------------------------------------------- no CORS on /__mock/
async def test_the_admin_api_grants_no_cross_origin_access(make):
    client = await make()
    preflight = {
        "Origin": PAGE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    for path in ("/__mock/reset", "/__mock/requests", "/__mock/nowhere"):
        reply = await client.options(path, headers=preflight)
        assert reply.status == 403
        assert not [h for h in reply.headers if h.lower().startswith("access-control-")]
    reply = await client.get("/__mock/requests", headers={"Origin": PAGE})
    assert reply.status == 200 and "Access-Control-Allow-Origin" not in reply.headers
    vendor = await client.get("/v1/exports", headers={**VF, "Origin": PAGE})  # vendor routes keep theirs
    assert vendor.headers["Access-Control-Allow-Origin"] == PAGE


# -------------------------------------------------------------------- Host check (DNS rebinding)
@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8080",
        "127.0.0.1.evil.example",
        "x:99999x",
        "",
        "a, b:1",
        "localhost@evil.example",
        "[::1",
        "192.168.1.20:8080",
    ],
)
async def test_the_admin_api_refuses_a_host_that_is_not_loopback(make, host):
    client = await make()
    for method, path in (("GET", "/__mock/requests"), ("POST", "/__mock/reset"), ("GET", "/__mock/nowhere")):
        reply = await client.request(method, path, headers={"Host": host, **JSON}, data=b"{}")
        assert reply.status == 403 and "--allow-host" in (await reply.json())["error"]


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8080", "app.localhost:3000", "127.0.0.1:1", "127.9.8.7", "[::1]:8080", "[::1]"]
)
async def test_loopback_hosts_reach_the_admin_api(make, host):
    client = await make()
    assert (await client.get("/__mock/health", headers={"Host": host})).status == 200


async def test_vendor_routes_answer_any_host(make):
    """What a vendor route holds opens only to its tenant's credentials, which a rebinding page lacks;
    SDKs reach the mock by any name (a container's, Chargebee's {site}.{domain})."""
    client = await make()
    assert (await client.get("/v1/exports", headers={**VF, "Host": "mock.internal:8080"})).status == 200
    cb = {"Authorization": basic("test_site_key_0000"), "Host": "127.0.0.1:8080"}
    assert (await client.get("/api/v2/exports/nope", headers=cb)).status == 404  # authenticated, no such export


async def test_allow_host_and_the_bound_address_open_the_admin_api(make):
    client = await make(allow_hosts=["mock.internal"], host="192.0.2.10")
    for host in ("mock.internal:8080", "MOCK.INTERNAL", "192.0.2.10:8080"):
        assert (await client.get("/__mock/health", headers={"Host": host})).status == 200
    assert (await client.get("/__mock/health", headers={"Host": "other.internal"})).status == 403
    anything = await make(allow_hosts=["*"])
    assert (await anything.get("/__mock/health", headers={"Host": "whatever.example"})).status == 200


@pytest.mark.parametrize(
    "header, name",
    [
        ("localhost:8080", "localhost"),
        ("[::1]:80", "::1"),
        ("Example.COM", "example.com"),
        ("a:b", None),
        ("", None),
        ("[::1]x", None),
        ("a b", None),
    ],
)
def test_host_names_are_read_strictly(header, name):
    assert host_name(header) == name


def test_allow_host_is_a_serve_option_and_a_config_key(tmp_path):
    from mockserver import cli, options

    parser = cli.build_parser()
    args = parser.parse_args(["serve", "--allow-host", "mock.internal", "--allow-host", "*", "--admin-token", "t0k"])
    settings = options.settings_from({None: options.SERVE}, {}, args)
    assert settings.allow_hosts == ["mock.internal", "*"] and settings.admin_token == "t0k"
    config = tmp_path / "mockserver.yaml"
    config.write_text("allow-host: [mock.internal]\nadmin-token: from-file\n")
    path, data = options.read_config(config)
    values = options.config_values(path, data, {None: options.SERVE})
    assert values[None] == {"allow_hosts": ["mock.internal"], "admin_token": "from-file"}
    bad = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--allow-host", "not a host"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--allow-host" in bad.stderr and len(bad.stderr.strip().splitlines()) <= 2


# -------------------------------------------------------------------- --admin-token
async def test_admin_token_guards_every_admin_call(make):
    client = await make(admin_token="s3cret-admin")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-admin"}):
        reply = await client.get("/__mock/requests", headers=headers)
        assert reply.status == 401 and reply.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await client.post("/__mock/reset", json={}, headers=headers)).status == 401
    good = {"Authorization": "Bearer s3cret-admin"}
    assert (await client.get("/__mock/requests", headers=good)).status == 200
    assert (await client.post("/__mock/reset", json={}, headers=good)).status == 200
    assert (await client.get("/v1/exports", headers=VF)).status == 200  # vendor routes take their own credentials


@pytest.mark.mockserver(admin_token="plugin-admin-token")
def test_the_pytest_plugin_sends_the_admin_token(mockserver):
    client = mockserver.client
    assert client.post("/v1/exports", json={"exported_object": "order"}).status == 200
    assert client.post("/__mock/reset").status == 200  # an admin POST without a body: JSON and the token
    assert client.get("/__mock/requests").json()["requests"] == []
    assert client.as_app(None, None).get("/__mock/health").status == 200
    stranger = client.__class__(client.base_url, None, None)
    assert stranger.get("/__mock/health").status == 401


def test_binding_beyond_loopback_without_a_token_prints_one_warning_line():
    assert warning("127.0.0.1", None) is None and warning("localhost", None) is None
    assert warning("0.0.0.0", "token") is None
    line = warning("0.0.0.0", None)
    assert line and "\n" not in line and "--admin-token" in line and "admin API" in line
    # the serve command prints it (192.0.2.1 is a documentation address: binding it fails, nothing listens)
    run = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--host", "192.0.2.1", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "cannot listen" in run.stderr
    assert [line for line in run.stderr.splitlines() if "warning" in line] == [warning("192.0.2.1", None)]


def test_the_admin_token_can_come_from_the_environment(monkeypatch):
    """Kept out of `ps`: serve takes MOCKSERVER_ADMIN_TOKEN, and the contract kit sends it."""
    env = {**os.environ, "MOCKSERVER_ADMIN_TOKEN": "from-env-token"}
    run = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--host", "192.0.2.1", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode == 2 and "warning" not in run.stderr  # a token is set: the admin API is guarded
    with ServerThread(Settings(port=0, admin_token="from-env-token")) as server:
        with pytest.raises(ContractUsageError, match="401"):
            from_journal(server.url)
        monkeypatch.setenv("MOCKSERVER_ADMIN_TOKEN", "from-env-token")
        assert from_journal(server.url) == []


def test_exposure_describes_what_it_answers():
    assert "mock.internal" in Exposure("0.0.0.0", ["mock.internal"]).describe()


# -------------------------------------------------------------------- 21.9 rate limits after authentication
async def test_a_wrong_key_does_not_use_up_a_pinned_apps_budget(make):
    client = await make(rate_limit="3/s")
    for _ in range(10):
        reply = await client.get("/v1/exports", headers={"X-App-Id": APP, "X-App-Token": "wrong"})
        assert reply.status == 401
    for _ in range(3):
        assert (await client.get("/v1/exports", headers=VF)).status == 200
    over = await client.get("/v1/exports", headers=VF)
    assert over.status == 429 and over.headers["Retry-After"]


async def test_a_refused_stripe_key_does_not_count_against_the_key_it_resembles(make):
    client = await make(rate_limit="2/s")
    key = "sk_test_0123456789abcdefghij"
    for _ in range(5):
        assert (await client.get("/v1/reporting/report_runs", headers={"Authorization": "Bearer x"})).status == 401
    for _ in range(2):
        assert (await client.get("/v1/reporting/report_runs", headers={"Authorization": f"Bearer {key}"})).status == 200


# -------------------------------------------------------------------- 24.12 Private Network Access
PNA = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true"}


async def test_private_network_access_preflights_are_granted_to_allowed_origins(make):
    client = await make(cors_origins=["http://192.168.1.20:5173"])
    granted = await client.options("/v1/exports", headers={**PNA, "Origin": "http://192.168.1.20:5173"})
    assert granted.status == 204 and granted.headers["Access-Control-Allow-Private-Network"] == "true"
    refused = await client.options("/v1/exports", headers={**PNA, "Origin": "http://evil.example"})
    assert refused.status == 403 and "Access-Control-Allow-Private-Network" not in refused.headers
    plain = await client.options(
        "/v1/exports", headers={"Access-Control-Request-Method": "GET", "Origin": "http://192.168.1.20:5173"}
    )
    assert "Access-Control-Allow-Private-Network" not in plain.headers
    admin = await client.options("/__mock/reset", headers={**PNA, "Origin": "http://192.168.1.20:5173"})
    assert admin.status == 403 and "Access-Control-Allow-Private-Network" not in admin.headers
