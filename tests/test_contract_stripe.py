"""The contract kit in Stripe's dialect (mockserver/vendors/stripe/contract.py, data the
vendor provides): `--spec stripe` against the real mock passes our checks and
schemathesis' conformance checks, and each deliberately broken variant
(tests/broken/stripe.py) is caught by the named check."""

from __future__ import annotations

import pytest

from mockserver.cli import main
from mockserver.contract.options import ContractOptions
from mockserver.contract.report import render_text
from mockserver.contract.runner import available_checks, run_contract
from mockserver.spec import load_spec
from tests.broken.stripe import DEFECTS, KEYS, _server

OURS = ["export_lifecycle", "csv_download", "error_shape", "auth_required", "tenant_isolation"]
# positive_data_acceptance is left out: it cannot know the rules no schema states (an interval within
# the report type's data_available_start/end, starting_after and ending_before exclusive; docs/stripe.md)
SCHEMATHESIS = [
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "negative_data_rejection",
    "content_type_conformance",
    "use_after_free",
]


def _options(url: str, **kw) -> ContractOptions:
    return ContractOptions(
        base_url=url,
        spec="stripe",
        app_id="main",
        app_token=KEYS[0],
        other_app=("other", KEYS[1]),
        max_examples=5,
        seed=1,
        poll_timeout=10,
        **kw,
    )


@pytest.mark.slow
def test_the_real_mock_passes_our_checks_and_schemathesis_conformance():
    with _server() as server:
        results = run_contract(_options(server.url, checks=OURS + SCHEMATHESIS))
    assert results.ok, render_text(results, base_url=server.url, seconds=0)
    ran = {check for _, check in results.pairs()}
    assert set(OURS) <= ran and "response_schema_conformance" in ran
    passes = dict(results.passes)
    assert passes[("POST /v1/reporting/report_runs", "export_lifecycle")] >= 4  # one run per report type
    assert passes[("GET /v1/files/{file}/contents", "csv_download")] >= 5
    # a test-mode key cannot run the live-mode-only Fees reports: skipped, as against Stripe, not failed
    assert any("all_fees." in why and "404" in why for why in results.skipped.values())


def test_our_checks_are_offered_for_stripe():
    assert set(OURS) <= set(available_checks(load_spec("stripe")))


@pytest.mark.slow
def test_the_cli_resolves_the_bundled_stripe_contract(capsys):
    with _server() as server:
        code = main(
            [
                "contract",
                "--spec",
                "stripe",
                "--base-url",
                server.url,
                "--app-id",
                "main",
                "--app-token",
                KEYS[0],
                "--other-app",
                f"other:{KEYS[1]}",
                "--checks",
                "export_lifecycle",
                "csv_download",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   POST /v1/reporting/report_runs" in out and KEYS[0] not in out


@pytest.mark.slow
@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_the_kit_catches_the_defect_with_its_named_check(defect):
    with defect.build() as server:
        results = run_contract(_options(server.url, checks=list(defect.checks)))
    assert not results.ok, defect.name
    assert defect.check in results.failed_checks(), [f"{f.check} {f.operation} {f.title}" for f in results.failures]


@pytest.mark.slow
def test_a_default_run_skips_what_stripe_itself_fails_and_says_why():
    """positive_data_acceptance meets Stripe's rules no schema states; named in --checks it runs anyway."""
    with _server() as server:
        default = run_contract(_options(server.url, operations=["list-report-types"]))
        named = run_contract(
            _options(server.url, checks=["positive_data_acceptance"], operations=["list-report-types"])
        )
    reasons = {reason for (_, check), reason in default.skipped.items() if check == "positive_data_acceptance"}
    assert len(reasons) == 1 and "no OpenAPI schema states" in reasons.pop()
    assert ("GET /v1/reporting/report_types", "positive_data_acceptance") in dict(named.passes)
