"""Vendors as plugins: the registry, --vendors, vendor options from the command line and the
config file, sub-applications per prefix (each answering in its vendor's shape)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mockserver import cli, registry
from mockserver.app import MOUNTS, Settings, create_app
from mockserver.vendors.base import Vendor
from tests.chargebee_support import basic

V_AUTH = {"X-App-Id": "app-1", "X-App-Token": "token-1"}


def settings_of(argv: list[str]) -> Settings:
    args = cli.build_parser().parse_args(["serve", *argv])
    return cli._settings(args)


def test_vendor_options_reach_each_vendor_from_flags_and_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mockserver.yaml").write_text("app: {shop: s3cret}\nchargebee_key: [k1]\nerror-rate: 0.5\n")
    settings = settings_of(["--app", "other:t", "--chargebee-key", "k2", "--error-rate", "0.25"])
    assert settings.error_rate == 0.25  # the command line wins
    assert settings.vendor_options == {
        "voucherify": {"apps": [("shop", "s3cret"), ("other", "t")]},
        "chargebee": {"keys": ["k1", "k2"]},
    }  # repeatable ones add up
    built = {vendor.name: vendor for vendor in registry.build(settings)}
    assert built["voucherify"].apps == {"shop": "s3cret", "other": "t"}
    assert built["chargebee"].credentials.pinned == ("k1", "k2")


@pytest.mark.parametrize(
    "text, message",
    [
        ("stateless: sometimes\n", "config file mockserver.yaml: stateless: takes true or false, not 'sometimes'"),
        ("vendors: [nope]\n", "config file mockserver.yaml: vendors: no vendor 'nope'"),
        ("chargebee-key: ['']\n", "config file mockserver.yaml: chargebee-key: must not be empty"),
        (
            "lifecycle: fast\n",
            "config file mockserver.yaml: lifecycle: invalid choice: 'fast' (choose from time, poll, instant)",
        ),
        ("- port\n", "must be a mapping of option: value"),
    ],
)
def test_config_values_are_checked_as_data_naming_the_key(text, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        "mockserver.serving.serve_until_stopped", lambda *a, **k: pytest.fail("the server started instead of refusing")
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mockserver.yaml").write_text(text)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_vendors_chooses_what_is_served(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert settings_of(["--vendors", "chargebee"]).vendors == ("chargebee",)
    (tmp_path / "mockserver.yaml").write_text("vendors: [voucherify]\n")
    assert settings_of([]).vendors == ("voucherify",)
    app = create_app(Settings(vendors=("chargebee",)))
    assert [v.name for v in app[MOUNTS].vendors] == ["chargebee"]
    served = {r.canonical for r in app.router.resources()}  # / is the index; the rest Chargebee's, under its mount
    assert {"/", "/__mock", "/api/v2"} <= served
    assert all(path in ("/", "/__mock") or path.startswith("/api/v2") for path in served), served


async def test_each_prefix_answers_in_its_vendors_shape(aiohttp_client):
    client = await aiohttp_client(create_app(Settings(lifecycle="poll")))
    v = await (await client.get("/v1/nowhere", headers=V_AUTH)).json()
    assert v["key"] == "not_found" and v["request_id"].startswith("v-")
    c = await client.get("/api/v2/nowhere", headers={"Authorization": basic("k")})
    assert c.status == 404 and (await c.json())["api_error_code"] == "resource_not_found"
    wrong = await client.delete("/api/v2/exports/orders", headers={"Authorization": basic("k")})
    assert wrong.status == 405 and "api_error_code" in await wrong.json()
    assert (await client.get("/__mock/nowhere")).status == 404  # the admin API's own plain errors
    assert "error" in await (await client.get("/__mock/nowhere")).json()


def test_a_broken_entry_point_is_reported_by_name(monkeypatch, caplog):
    class Point(SimpleNamespace):
        def load(self):
            if self.value == "broken":
                raise ImportError("no module named nowhere")
            return self.target

    points = [
        Point(name="broken", value="broken", target=None),
        Point(name="chargebee", value="x", target=registry.vendor_class("chargebee")),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: points)
    registry._scan.cache_clear()
    try:
        assert list(registry.available()) == ["chargebee", "hubspot"]  # hubspot: a bundled folder, no entry point
        assert "broken" in caplog.text and "no module named nowhere" in caplog.text
        with pytest.raises(registry.UnknownVendor, match="vendor broken cannot be loaded: ImportError"):
            registry.vendor_names("broken")
        with pytest.raises(registry.UnknownVendor, match="no vendor 'nope'; installed: chargebee, hubspot"):
            registry.vendor_names("nope")
    finally:
        registry._scan.cache_clear()


def test_two_vendors_cannot_share_a_prefix():
    class Twin(registry.vendor_class("chargebee")):  # the same prefixes as the original
        name = "twin"

    with pytest.raises(ValueError, match="twin and chargebee are both mounted at /api/v2"):
        create_app(Settings(), vendors=[registry.vendor_class("chargebee")(), Twin()])


def test_every_serve_option_is_a_settings_field():
    fields = set(Settings.__dataclass_fields__)
    assert {option.key for option in registry.serve_options()} <= fields
    assert all(issubclass(v, Vendor) for v in registry.available().values())


async def test_prefer_outcome_takes_the_vendors_status_words(aiohttp_client):
    client = await aiohttp_client(create_app(Settings(lifecycle="instant")))
    auth = {"Authorization": basic("k"), "Content-Type": "application/x-www-form-urlencoded"}
    created = await client.post("/api/v2/exports/orders", data="", headers={**auth, "Prefer": "outcome=failed"})
    assert created.status == 200, await created.text()
    export_id = (await created.json())["export"]["id"]
    export = await (await client.get(f"/api/v2/exports/{export_id}", headers=auth)).json()
    assert export["export"]["status"] == "failed"  # Chargebee's word; the neutral one is "error"
    refused = await client.post("/api/v2/exports/orders", data="", headers={**auth, "Prefer": "outcome=ERROR_X"})
    assert refused.status == 400 and "completed" in (await refused.json())["message"]
