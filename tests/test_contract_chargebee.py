"""The contract kit in Chargebee's dialect: `--spec chargebee` against the
real mock passes every check (ours and schemathesis'), and each deliberately
broken variant is caught by the named check."""

from __future__ import annotations

import pytest

from mockserver.app import Settings
from mockserver.cli import main
from mockserver.contract.options import ContractOptions
from mockserver.contract.report import render_text
from mockserver.contract.runner import available_checks, run_contract
from mockserver.spec import load_spec
from mockserver.testing import ServerThread
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.voucherify import Voucherify
from tests.broken import _rewrite_json, token_checked_only_without_key

OURS = ["export_lifecycle", "csv_download", "error_shape", "auth_required", "tenant_isolation"]
KEYS = ("test_contract_key", "test_contract_other")


def _options(url: str, **kw) -> ContractOptions:
    return ContractOptions(
        base_url=url,
        spec="chargebee",
        app_id="site",
        app_token=KEYS[0],
        other_app=("other-site", KEYS[1]),
        max_examples=3,
        seed=1,
        poll_timeout=10,
        **kw,
    )


def _server(vendor: Chargebee | None = None, middleware=None) -> ServerThread:
    vendors = [Voucherify(), vendor or Chargebee(keys=KEYS)]
    server = ServerThread(
        Settings(port=0, lifecycle="poll", vendor_options={"chargebee": {"keys": list(KEYS)}}), vendors=vendors
    )
    if middleware is not None:
        server.app.middlewares.insert(0, middleware)
    return server


@pytest.mark.slow
def test_the_real_mock_passes_every_check():
    with _server() as server:
        results = run_contract(_options(server.url))
    assert results.ok, render_text(results, base_url=server.url, seconds=0)
    ran = {check for _, check in results.pairs()}
    assert set(OURS) <= ran
    assert {"positive_data_acceptance", "negative_data_rejection", "response_schema_conformance"} <= ran
    passes = {(operation, check): n for (operation, check), n in results.passes.items()}
    assert passes[("GET /api/v2/exports/{export-id}", "export_lifecycle")] >= 4
    assert passes[("GET /api/v2/exports/{export-id}/download", "csv_download")] >= 5  # one per export, + token


def test_every_check_is_offered_for_chargebee():
    assert available_checks(load_spec("chargebee"))[:5] == OURS


@pytest.mark.slow
def test_the_cli_resolves_the_bundled_chargebee_contract(capsys):
    with _server() as server:
        code = main(
            [
                "contract",
                "--spec",
                "chargebee",
                "--base-url",
                server.url,
                "--app-id",
                "site",
                "--app-token",
                KEYS[0],
                "--other-app",
                f"other-site:{KEYS[1]}",
                "--checks",
                "export_lifecycle",
                "csv_download",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   POST /api/v2/exports/orders" in out and KEYS[0] not in out


def _ignores_filters() -> ServerThread:
    vendor = Chargebee(keys=KEYS)
    vendor.filter_params = {op: [] for op in vendor.filter_params}  # every filter dropped
    return _server(vendor)


def _completed_without_download() -> ServerThread:
    def change(request, body, status):
        body.get("export", {}).pop("download", None)

    return _server(middleware=_rewrite_json(lambda r: r.method == "GET", change))


def _errors_without_status_code() -> ServerThread:
    def change(request, body, status):
        if status >= 400:
            body.pop("http_status_code", None)

    return _server(middleware=_rewrite_json(lambda r: True, change))


def _token_checked_only_without_key() -> ServerThread:
    return _server(middleware=token_checked_only_without_key("Authorization"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "build, check, title",
    [
        (
            _token_checked_only_without_key,
            "csv_download",
            "download with the key and a wrong token: expected 403, got 200",
        ),
        (_ignores_filters, "csv_download", "The order[status][in] filter is ignored"),
        (_completed_without_download, "export_lifecycle", "A completed export has no download.download_url"),
        (_errors_without_status_code, "error_shape", "Error body is not the vendor's error object"),
    ],
    ids=[
        "token checked only without key",
        "ignores filters",
        "completed without download",
        "errors without http_status_code",
    ],
)
def test_the_kit_catches_a_broken_chargebee(build, check, title):
    with build() as server:
        results = run_contract(_options(server.url, checks=[check]))
    titles = [f.title for f in results.failures if f.check == check]
    assert title in titles, [f"{f.check}: {f.title}" for f in results.failures]
    finding = next(f for f in results.failures if f.title == title)
    assert finding.curl.startswith("curl ") and KEYS[0] not in finding.curl
