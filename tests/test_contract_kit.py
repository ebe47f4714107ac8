"""The contract kit against the real mock (it must pass), its CLI, reports and pytest plugin."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mockserver.app import Settings
from mockserver.cli import main
from mockserver.contract.options import ContractOptions
from mockserver.contract.report import render_text
from mockserver.contract.runner import available_checks, run_contract
from mockserver.spec import load_spec
from mockserver.testing import ServerThread
from tests.broken import download_as_text_csv

pytest_plugins = ["pytester"]
OURS = ["export_lifecycle", "csv_download", "error_shape", "auth_required", "tenant_isolation"]


APPS = {"contract-app": "contract-token", "contract-other": "other-token"}


@pytest.fixture(scope="module")
def mock_url():
    with ServerThread(Settings(port=0, lifecycle="poll", apps=APPS)) as server:
        yield server.url


def test_the_real_mock_passes_every_check(mock_url):
    # pinned apps, as a real account has: invented credentials must get 401 (ignored_auth)
    results = run_contract(ContractOptions(base_url=mock_url, max_examples=3, seed=1, app_id="contract-app",
                                           app_token="contract-token",
                                           other_app=("contract-other", "other-token")))
    report = render_text(results, base_url=mock_url, seconds=0)
    assert results.ok, report
    ran = {check for _, check in results.pairs()}
    assert set(OURS) <= ran
    assert {"response_schema_conformance", "negative_data_rejection", "not_a_server_error"} <= ran


def test_every_check_is_offered_for_voucherify():
    checks = available_checks(load_spec("voucherify"))
    assert checks[:5] == OURS
    assert "ignored_auth" in checks and "status_code_conformance" in checks


def test_a_failure_is_reported_with_curl_response_and_masked_token(capsys):
    with download_as_text_csv() as server:
        code = main(["contract", "--base-url", server.url, "--checks", "csv_download",
                     "--app-id", "reporter", "--app-token", "s3cret-token"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL GET /v1/exports/{exportId}" in out and "FAIL csv_download" in out
    assert "served as text/csv, not text/plain" in out
    assert "reproduce:\n     curl -X GET" in out
    assert "response 200:" in out and "id," in out  # the CSV excerpt
    assert "s3cret-token" not in out


def test_junit_has_one_case_per_operation_and_check(tmp_path, capsys):
    junit = tmp_path / "contract.xml"
    with download_as_text_csv() as server:
        code = main(["contract", "--base-url", server.url, "--checks", "csv_download", "export_lifecycle",
                     "--junit", str(junit)])
    assert code == 1
    suite = ET.parse(junit).getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert cases[("GET /v1/exports/{exportId}", "csv_download")].find("failure") is not None
    assert cases[("POST /v1/exports", "export_lifecycle")].find("failure") is None
    assert int(suite.get("failures")) == 1 and int(suite.get("tests")) == len(cases)


@pytest.mark.parametrize("argv, message", [
    (["--base-url", "ftp://127.0.0.1"], "--base-url must be an http(s) URL"),
    (["--base-url", "http://127.0.0.1:9", "--checks", "no_such_check"], "unknown check(s) no_such_check"),
    (["--base-url", "http://127.0.0.1:9", "--app-id", "a"], "--app-id and --app-token go together"),
    (["--base-url", "http://127.0.0.1:9", "--spec", "nowhere"], "neither a bundled contract"),
    (["--base-url", "http://127.0.0.1:9", "--max-examples", "0"], "--max-examples must be 1 or more"),
    (["--base-url", "http://127.0.0.1:9", "--operation", "nope"], "unknown operation(s) nope"),
])
def test_bad_options_exit_2_with_a_message(argv, message, capsys):
    assert main(["contract", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unreachable_target_fails_with_a_run_error(capsys):
    assert main(["contract", "--base-url", "http://127.0.0.1:9", "--checks", "export_lifecycle"]) == 1
    assert "ERROR cannot reach http://127.0.0.1:9" in capsys.readouterr().out


# ---------------------------------------------------------------- pytest plugin
def _plugin_args(request) -> list[str]:
    return [] if request.config.pluginmanager.has_plugin("mockserver") else ["-p", "mockserver.pytest_plugin"]


def test_the_mockserver_fixture_takes_a_marker_and_indirect_parameters(pytester, request):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mockserver(lifecycle="instant", seed=3)
        def test_marker(mockserver):
            created = mockserver.client.post("/v1/exports", json={"exported_object": "order"})
            assert created.status == 200 and mockserver.url.startswith("http://127.0.0.1:")
            done = mockserver.client.get("/v1/exports/" + created.json()["id"]).json()
            assert done["status"] == "DONE"
            assert mockserver.client.as_app(None, None).get("/v1/exports").status == 401

        @pytest.mark.parametrize("mockserver", [{"lifecycle": "poll"}], indirect=True)
        def test_param(mockserver):
            created = mockserver.client.post("/v1/exports", json={"exported_object": "order"}).json()
            assert mockserver.client.get("/v1/exports/" + created["id"]).json()["status"] == "IN_PROGRESS"
    """)
    pytester.runpytest_inprocess(*_plugin_args(request)).assert_outcomes(passed=2)


def test_the_contract_suite_runs_as_test_items(pytester, request):
    with download_as_text_csv() as server:
        result = pytester.runpytest_inprocess(*_plugin_args(request), "--contract-base-url", server.url,
                                              "--contract-checks", "csv_download,export_lifecycle", "-rf")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] >= 9
    result.stdout.fnmatch_lines(["*GET /v1/exports/{exportId} ?csv_download?*"])
