"""The contract kit against the real mock (it must pass), its CLI, reports and pytest plugin."""

from __future__ import annotations

import gc
import io
import logging
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver import tuning
from mockserver.app import Settings
from mockserver.cli import main
from mockserver.contract import builtin
from mockserver.contract.checks import CHECKS
from mockserver.contract.options import App, ContractOptions, threads_can_parse
from mockserver.contract.report import render_text
from mockserver.contract.runner import (
    STEPPED_POLL_INTERVAL,
    available_checks,
    run_contract,
    target_trusts_new_credentials,
)
from mockserver.progress import Progress
from mockserver.spec import load_spec
from mockserver.testing import ServerThread
from tests.broken import download_as_text_csv, status_outside_enum

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="module")
def _imported_before_pytester():
    """What the mock imports only when first needed, imported before any `pytester` in-process run: such a
    run puts sys.modules back as it found it, dropping what it imported first, and an extension module cannot
    be imported twice in one process (`iregexp_check`, under the overlays' jsonpath_rfc9535: "PyO3 modules
    ... may only be initialized once per interpreter process"; numpy likewise). Every later test of the
    worker that read a folder with an overlay failed so. Schemathesis' pytest plugin likewise: the suite does not
    load it (`-p no:schemathesis`), the in-process run does, and the schemathesis modules it imported, dropped,
    were imported a second time by the next contract run, whose strategies then mixed the two copies
    ("Minimum possible example is too large" for every create)."""
    import jsonpath_rfc9535  # noqa: F401, PLC0415
    import schemathesis.pytest.plugin  # noqa: F401, PLC0415

    from mockserver import data  # noqa: PLC0415

    data.load_engine()


OURS = ["export_lifecycle", "csv_download", "error_shape", "auth_required", "tenant_isolation"]


APPS = {"contract-app": "contract-token", "contract-other": "other-token"}


@pytest.fixture(scope="module")
def mock_url():
    with ServerThread(Settings(port=0, lifecycle="poll", vendor_options={"voucherify": {"apps": APPS}})) as server:
        yield server.url


@pytest.mark.slow
def test_the_real_mock_passes_every_check(mock_url):
    # pinned apps, as a real account has: invented credentials must get 401 (ignored_auth)
    results = run_contract(
        ContractOptions(
            base_url=mock_url,
            max_examples=3,
            seed=1,
            app_id="contract-app",
            app_token="contract-token",
            other_app=("contract-other", "other-token"),
        )
    )
    report = render_text(results, base_url=mock_url, seconds=0)
    assert results.ok, report
    ran = {check for _, check in results.pairs()}
    assert set(OURS) <= ran
    assert {"response_schema_conformance", "negative_data_rejection", "not_a_server_error", "ignored_auth"} <= ran
    assert not results.skipped, results.skipped  # a pinned mock is checked as a real vendor is


def test_every_check_is_offered_for_voucherify():
    checks = available_checks(load_spec("voucherify"))
    assert checks[:5] == OURS
    assert "ignored_auth" in checks and "status_code_conformance" in checks


@pytest.mark.slow
def test_a_failure_is_reported_with_curl_response_and_masked_token(capsys):
    with download_as_text_csv() as server:
        code = main(
            [
                "contract",
                "--base-url",
                server.url,
                "--checks",
                "csv_download",
                "--app-id",
                "reporter",
                "--app-token",
                "s3cret-token",
            ]
        )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL GET /v1/exports/{exportId}" in out and "FAIL csv_download" in out
    # both downloads of the dialect fail alike on one operation: one finding, not one per download
    assert out.count("served as text/csv, not text/plain") == 1 and re.search(r"^1 failure\(s\):$", out, re.M), out
    assert "reproduce:\n     curl -X GET" in out
    assert "response 200:" in out and "ID," in out  # the CSV excerpt (headed with the vendor's labels)
    assert "s3cret-token" not in out


@pytest.mark.slow
def test_junit_has_one_case_per_operation_and_check(tmp_path, capsys):
    junit = tmp_path / "contract.xml"
    with download_as_text_csv() as server:
        code = main(
            [
                "contract",
                "--base-url",
                server.url,
                "--checks",
                "csv_download",
                "export_lifecycle",
                "--junit",
                str(junit),
            ]
        )
    assert code == 1
    suite = ET.parse(junit).getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert cases[("GET /v1/exports/{exportId}", "csv_download")].find("failure") is not None
    assert cases[("POST /v1/exports", "export_lifecycle")].find("failure") is None
    assert int(suite.get("failures")) == 1 and int(suite.get("tests")) == len(cases)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--base-url", "ftp://127.0.0.1"], "--base-url: takes an http:// or https:// URL"),
        (["--base-url", "http://127.0.0.1:9", "--checks", "no_such_check"], "unknown check(s) no_such_check"),
        (["--base-url", "http://127.0.0.1:9", "--app-id", "a"], "--app-id and --app-token go together"),
        (["--base-url", "http://127.0.0.1:9", "--spec", "nowhere"], "neither a bundled contract"),
        (
            ["--base-url", "http://127.0.0.1:9", "--max-examples", "0"],
            "--max-examples: takes a whole number of 1 or more",
        ),
        (["--base-url", "http://127.0.0.1:9", "--operation", "nope"], "unknown operation(s) nope"),
    ],
)
def test_bad_options_exit_2_with_a_message(argv, message, capsys):
    assert main(["contract", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unreachable_target_is_a_bad_base_url(capsys):
    """Nothing listening is the option's fault, not the target's: one line and exit 2
    (tests/test_cli_errors.py checks the line)."""
    assert main(["contract", "--base-url", "http://127.0.0.1:9", "--checks", "export_lifecycle"]) == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


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


@pytest.mark.slow
def test_the_contract_suite_runs_as_test_items(pytester, request):
    with download_as_text_csv() as server:
        result = pytester.runpytest_inprocess(
            *_plugin_args(request),
            "--contract-base-url",
            server.url,
            "--contract-checks",
            "csv_download,export_lifecycle",
            "-rf",
        )
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] >= 9
    result.stdout.fnmatch_lines(["*GET /v1/exports/{exportId} ?csv_download?*"])


# ---------------------------------------------------------------- first run green
@pytest.mark.slow
def test_a_default_contract_run_against_a_default_mock_passes_and_says_what_it_skipped(capsys):
    # `mockserver serve` as the README starts it: time lifecycle, no pinned apps (trust on first use). Its
    # exports take 0.6 s, not 1 + 2 (the polls still see each status more than once): the defaults' 3 s a
    # round of exports, waited out round after round, were most of this test (19.5 → 8.3 s at load 5); the
    # README's block runs the same command against the real defaults (tests/test_docs_commands.py)
    with ServerThread(Settings(port=0, scheduled_seconds=0.2, running_seconds=0.4)) as server:
        code = main(["contract", "--base-url", server.url, "--max-examples", "2", "--seed", "1"])
    out, err = capsys.readouterr()
    assert code == 0, out
    assert "one worker" not in err  # the default is what this Python can do
    assert re.search(r"SKIPPED ignored_auth: the target is a mock that accepts new credentials.*--app ID:KEY", out)
    assert "FAIL" not in out
    skipped = out.count("SKIPPED ignored_auth")
    assert skipped >= 5 and re.search(rf"^PASSED: .* 0 failure\(s\), {skipped} skipped, 0 error\(s\)", out, re.M)


@pytest.mark.parametrize(
    "lifecycle, interval",
    [({"lifecycle": "poll"}, STEPPED_POLL_INTERVAL), ({"scheduled_seconds": 0.05, "running_seconds": 0.1}, 0.2)],
)
def test_the_kit_waits_between_reads_only_where_exports_move_with_time(monkeypatch, lifecycle, interval):
    """A mock whose exports move on each read (its health says `poll`) has nothing to wait for: the kit reads
    again at once (Stripe's runs slept 7 s each, 0.2 s twice per report type); where they move with time (the
    `time` lifecycle, a real API) it keeps its pace."""
    slept = []
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: (slept.append(seconds), real_sleep(seconds))[1])
    with ServerThread(Settings(port=0, **lifecycle)) as server:
        results = run_contract(ContractOptions(base_url=server.url, checks=["export_lifecycle"], seed=1))
    assert results.ok, render_text(results, base_url=server.url, seconds=0)
    assert slept and max(slept) == interval, sorted(set(slept))


def test_the_kit_asks_the_mock_whether_it_trusts_new_credentials():
    with ServerThread(Settings(port=0)) as trusting:
        assert target_trusts_new_credentials(trusting.url, "voucherify")
        assert target_trusts_new_credentials(trusting.url, "chargebee")
    with ServerThread(
        Settings(port=0, vendor_options={"voucherify": {"apps": {"a": "k"}}, "chargebee": {"keys": ["key"]}})
    ) as pinned:
        assert not target_trusts_new_credentials(pinned.url, "voucherify")
        assert not target_trusts_new_credentials(pinned.url, "chargebee")
    assert not target_trusts_new_credentials("http://127.0.0.1:9", "voucherify")  # nothing there: a real API


@pytest.mark.slow
def test_tenant_isolation_without_a_second_app_is_skipped_with_a_reason(mock_url, tmp_path, capsys):
    junit = tmp_path / "run.xml"
    code = main(
        [
            "contract",
            "--base-url",
            mock_url,
            "--app-id",
            "contract-app",
            "--app-token",
            "contract-token",
            "--checks",
            "tenant_isolation,export_lifecycle",
            "--junit",
            str(junit),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SKIPPED tenant_isolation: needs a second app: pass --other-app ID:TOKEN" in out
    assert re.search(r"^PASSED: .* 1 skipped", out, re.M)
    suite = ET.parse(junit).getroot()
    skipped = [case.find("skipped") for case in suite.iter("testcase") if case.get("name") == "tenant_isolation"]
    assert skipped[0].get("message") == "needs a second app: pass --other-app ID:TOKEN"
    assert suite.get("skipped") == "1"


# ---------------------------------------------------------------- reports you can run
@pytest.mark.slow
@pytest.mark.parametrize(
    "broken, checks", [(download_as_text_csv, "csv_download"), (status_outside_enum, "response_schema_conformance")]
)
def test_the_curl_lines_of_a_failing_report_run_in_a_shell_and_get_the_reported_status(broken, checks, capsys):
    # the token `t` is a letter of `http`, `text` and `token`: it must be replaced only where it is a value
    with broken() as server:
        code = main(
            [
                "contract",
                "--base-url",
                server.url,
                "--checks",
                checks,
                "--operation",
                "create-export",
                "--app-id",
                "reporter",
                "--app-token",
                "t",
                "--max-examples",
                "3",
                "--seed",
                "1",
            ]
        )
        out = capsys.readouterr().out
        assert code == 1, out
        reproduced = re.findall(r"   reproduce:\n     (curl .*)\n   response (\d+):", out)
        assert reproduced, out
        # `t` replaced inside `http` would quote as 'h'"$APP_TOKEN"…; a download token may end in h
        assert "'h'" not in out and "h'\"$APP_TOKEN" not in out and server.url in out
        for line, status in reproduced:
            assert "$APP_TOKEN" in line or "token=" in line, line
            ran = subprocess.run(
                ["sh", "-c", line + " -s -o /dev/null -w '%{http_code}'"],
                capture_output=True,
                text=True,
                timeout=30,
                env={"APP_TOKEN": "t", "PATH": "/usr/bin:/bin"},
            )
            assert ran.stdout == status, (line, ran.stdout, ran.stderr)


def test_secrets_are_replaced_only_where_they_are_values():
    from mockserver.contract.http import Redactor

    redact = Redactor()
    redact.add("t", "APP_TOKEN")
    line = redact.curl("GET", "http://h.test/v1/t?token=t&t=x", {"X-App-Token": "t", "X-App-Id": "it's"}, None)
    assert line == (
        "curl -X GET -H 'X-App-Token: '\"$APP_TOKEN\" -H 'X-App-Id: it'\"'\"'s' "
        "'http://h.test/v1/t?token='\"$APP_TOKEN\"'&t=x'"
    )
    assert redact("the token t was refused") == "the token $APP_TOKEN was refused"
    basic = redact.curl("POST", "http://h.test/a", {"Authorization": "Basic dDo="}, "a=1")  # base64("t:")
    assert basic == 'curl -X POST -u "$APP_TOKEN:" -d a=1 http://h.test/a'


# ---------------------------------------------------------------- conventions
@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["--checks", "csv_download,export_lifecycle"],
        ["--checks", "csv_download", "export_lifecycle"],
        ["--checks", "csv_download", "--checks", "export_lifecycle"],
    ],
)
def test_the_checks_list_takes_commas_spaces_and_repetition(argv, capsys):
    with download_as_text_csv() as server:
        assert main(["contract", "--base-url", server.url, *argv]) == 1
    out = capsys.readouterr().out
    assert set(re.findall(r"^    (?:ok  |FAIL|SKIPPED) (\w+)", out, re.M)) == {"csv_download", "export_lifecycle"}


@pytest.mark.parametrize(
    "version, safe",
    [
        ((3, 10, 14), False),
        ((3, 11, 7), False),
        ((3, 11, 8), True),
        ((3, 12, 1), False),
        ((3, 12, 2), True),
        ((3, 13, 0), True),
    ],
)
def test_which_pythons_build_asts_safely_in_two_threads(version, safe):
    assert threads_can_parse(version) is safe


@pytest.mark.parametrize("safe", [True, False])
def test_schemathesis_gets_one_worker_where_two_threads_cannot_parse(safe, monkeypatch):
    # CI's Python 3.11.7 failed a README run with "AST constructor recursion depth mismatch" (CPython gh-106905)
    monkeypatch.setattr(builtin, "threads_can_parse", lambda: safe)
    config = builtin._config(
        base_url="http://127.0.0.1:9",
        app=App("a", "t"),
        dialect=None,
        checks=["not_a_server_error"],
        max_examples=1,
        seed=1,
        workers=3,
        coverage=False,
    )
    assert config["workers"] == (3 if safe else 1)


@pytest.mark.slow
@pytest.mark.parametrize("safe", [True, False])
def test_asking_for_workers_this_python_cannot_run_says_so_in_one_line(safe, monkeypatch, capsys):
    monkeypatch.setattr("mockserver.commands.contract.threads_can_parse", lambda: safe)
    with download_as_text_csv() as server:
        main(["contract", "--base-url", server.url, "--workers", "2", "--checks", "export_lifecycle"])
    err = capsys.readouterr().err
    assert err == (
        ""
        if safe
        else "mockserver contract: note: this Python can fail schemathesis' worker threads "
        "at random (CPython gh-106905, fixed in 3.11.8 and 3.12.2), so the run uses one worker\n"
    )


# ---------------------------------------------------------------- how a run goes
def test_schemathesis_starts_after_our_checks_are_done(monkeypatch):
    # it fills path parameters with ids from earlier responses: beside our checks it deleted their exports
    theirs_started, seen = threading.Event(), []

    def our_check(ctx) -> None:
        seen.append(("theirs began during ours", theirs_started.wait(0.2)))

    monkeypatch.setitem(CHECKS._checks, "export_lifecycle", our_check)
    monkeypatch.setattr(builtin, "run_builtin", lambda spec, **settings: theirs_started.set())
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        run_contract(ContractOptions(base_url=server.url, checks=["export_lifecycle", "not_a_server_error"]))
    assert seen == [("theirs began during ours", False)] and theirs_started.is_set()


def test_schemathesis_generates_with_fewer_garbage_collections_and_leaves_the_thresholds_as_it_found_them():
    """A young collection every 10,000 allocations while schemathesis runs, not CPython's 700 (a tenth of
    a run's CPU went to collections); the program around the run gets its own thresholds back."""
    seen: list[tuple[int, ...]] = []

    class Thresholds(Progress):
        def advance(self, amount: float = 1, detail: str = "") -> None:
            seen.append(gc.get_threshold())
            super().advance(amount, detail)

    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults, as a program that runs the kit has them
    try:
        with ServerThread(Settings(port=0, lifecycle="poll")) as server:
            options = ContractOptions(
                base_url=server.url, checks=["not_a_server_error"], max_examples=1, operations=["list-exports"]
            )
            results = run_contract(options, progress=Thresholds("contract", enabled=False))
        after = gc.get_threshold()
    finally:
        gc.set_threshold(*before)
    assert results.ok and seen, render_text(results, base_url=server.url, seconds=0)
    assert set(seen) == {(tuning.YOUNG_COLLECTION_EVERY, 10, 10)}
    assert after == (700, 10, 10)


@pytest.mark.slow
def test_a_run_keeps_no_example_database(tmp_path):
    # hypothesis' default database is .hypothesis/examples in the working directory: the user's checkout
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "mockserver",
                "contract",
                "--base-url",
                server.url,
                "--seed",
                "1",
                "--checks",
                "not_a_server_error",
                "--operation",
                "list-exports",
                "--max-examples",
                "5",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / ".hypothesis" / "examples").exists()
    # one operation has no links to walk: the stateful phase says so, and the run still passes
    assert "SKIPPED stateful: All link definitions required for stateful testing are excluded" in run.stdout


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse's version action exits itself
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"mockserver \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_total_and_eta_on_a_terminal_and_nothing_elsewhere():
    screen, pipe = Terminal(), io.StringIO()
    for stream in (screen, pipe):
        with Progress("generate", total=1000, unit="rows", stream=stream) as progress:
            progress.advance(250)
            progress.grow(1000)
            progress._bar.refresh() if progress._bar else None
    assert "250/2000" in screen.getvalue() and "ETA" in screen.getvalue()
    assert pipe.getvalue() == ""


@pytest.mark.slow
def test_a_piped_contract_run_prints_no_progress(capsys):
    with download_as_text_csv() as server:
        main(["contract", "--base-url", server.url, "--checks", "export_lifecycle"])
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_the_plugin_takes_the_cli_list_syntax_and_runs_warning_free(pytester, request):
    # a user's environment: `pip install mockserver` brings neither pytest-asyncio nor pytest-aiohttp
    pytester.makepyfile("""
        def test_fixture(mockserver):
            assert mockserver.client.get("/v1/exports").status == 200
    """)
    with download_as_text_csv() as server:
        result = pytester.runpytest_subprocess(
            "-W",
            "error",
            "-p",
            "no:asyncio",
            "-p",
            "no:aiohttp",
            "-p",
            "no:cacheprovider",
            "--contract-base-url",
            server.url,
            "--contract-checks",
            "csv_download",
            "--contract-checks",
            "export_lifecycle",
            "-rf",
        )
    assert "Warning" not in result.stdout.str() + result.stderr.str()
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] >= 10, result.stdout.str()


@pytest.mark.slow
def test_a_plain_install_brings_everything_serve_contract_generate_and_the_plugin_import():
    import ast
    import sys
    from importlib.metadata import packages_distributions, requires
    from pathlib import Path

    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    root = Path(__file__).resolve().parent.parent
    main_deps = {
        canonicalize_name(Requirement(r).name)
        for r in tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    optional = {"redis"}  # --state redis://…, an extra
    imported = set()
    for path in (root / "mockserver").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"mockserver", "pytest", "_pytest"} - optional
    distributions = packages_distributions()
    needed = {canonicalize_name(distributions[name][0]) for name in third_party}  # jsonschema_rs: jsonschema-rs
    assert needed <= main_deps, f"add {sorted(needed - main_deps)} to [project] dependencies"

    def closure(names: set[str]) -> set[str]:  # installed distributions a plain install pulls in
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for line in requires(name) or []:
                requirement = Requirement(line)
                if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                    todo.append(canonicalize_name(requirement.name))
        return seen

    assert "pytest-asyncio" not in closure(main_deps)  # its deprecation warning would reach every user's run


# ---------------------------------------------------------------- any contract, not only ours
SPECS = Path(__file__).resolve().parent / "specs"


@pytest.fixture(scope="module")
def default_mock_url():
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        yield server.url


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec, base_path, expected",
    [
        # other component and scheme names, a oneOf create body without a discriminator
        (
            "exports-oneof.yaml",
            "",
            [
                r"^ok   POST /v1/exports\n(?:    .*\n)*?    ok   export_lifecycle",
                r"^ok   GET /v1/exports/\{jobId\}\n(?:    .*\n)*?    ok   csv_download",
                r"^    ok   tenant_isolation",
                # the filtered download asks for `filters`, which this contract does not take
                r"^    ok   csv_download \(\d+ passed\); SKIPPED in part: POST /v1/exports does not "
                r"accept the request",
            ],
        ),
        # inline schemas only, no list, no delete, no documented default fields
        (
            "exports-inline.yaml",
            "",
            [
                r"^ok   POST /v1/exports\n(?:    .*\n)*?    ok   export_lifecycle",
                r"SKIPPED csv_download: POST /v1/exports does not accept the request",
            ],
        ),
        # Swagger 2.0: schemathesis reads it as it is, our checks read its OpenAPI 3 shape
        (
            "exports-swagger2.yaml",
            "/v1",
            [r"^ok   POST /exports\n(?:    .*\n)*?    ok   export_lifecycle", r"^    ok   response_schema_conformance"],
        ),
        (
            "no-exports.yaml",
            "",
            [
                r"SKIPPED export_lifecycle: the contract has no operation that creates an export",
                r"SKIPPED csv_download: the contract has no operation that creates an export",
            ],
        ),
    ],
)
def test_any_valid_contract_runs_every_check_or_says_why_it_skipped(
    spec, base_path, expected, default_mock_url, capsys
):
    code = main(
        [
            "contract",
            "--spec",
            str(SPECS / spec),
            "--base-url",
            default_mock_url + base_path,
            "--max-examples",
            "2",
            "--seed",
            "1",
        ]
    )
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert code == 0, captured.out
    for pattern in expected:
        assert re.search(pattern, captured.out, re.M), (pattern, captured.out)


def test_the_vendor_is_recognised_by_header_names_not_scheme_names():
    from mockserver.contract.known import dialect_for

    document = {
        "components": {
            "securitySchemes": {
                "a": {"type": "apiKey", "in": "header", "name": "x-app-id"},
                "b": {"type": "apiKey", "in": "header", "name": "X-App-Token"},
            }
        }
    }
    dialect = dialect_for(document)
    assert dialect.name == "voucherify"
    assert (dialect.credentials.id_scheme, dialect.credentials.token_scheme) == ("a", "b")
    assert dialect.schemathesis_auth(App("id", "t")) == {"a": {"api_key": "id"}, "b": {"api_key": "t"}}
    assert (
        dialect_for({"components": {"securitySchemes": {"a": {"type": "apiKey", "in": "query", "name": "X-App-Id"}}}})
        is None
    )


OUR_SKIPS = re.compile(
    r"^    SKIPPED (export_lifecycle|csv_download|error_shape|auth_required|tenant_isolation): "
    r"the contract's authentication matches no dialect the kit knows",
    re.M,
)


def test_every_check_appears_on_a_contract_in_no_known_dialect(default_mock_url, capsys):
    """A Swagger 2.0 reports API (create → get → document) in its own auth said "14 checks,
    0 skipped": our five neither ran nor appeared. Each is SKIPPED with the reason, schemathesis' run."""
    code = main(
        [
            "contract",
            "--spec",
            str(SPECS / "reports-swagger2.yaml"),
            "--base-url",
            default_mock_url + "/v1",
            "--operation",
            "get-report",
            "--max-examples",
            "1",
            "--seed",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert sorted(OUR_SKIPS.findall(out)) == sorted(OURS), out
    assert code == 0 and re.search(r"^    ok   status_code_conformance", out, re.M), out  # 404: documented
    summary = re.search(r"^PASSED: \d+ operations, (\d+) checks, \d+ failure\(s\), (\d+) skipped", out, re.M)
    assert int(summary.group(1)) == len(available_checks(load_spec("voucherify"))) and int(summary.group(2)) >= 5


def test_only_our_checks_on_such_a_contract_send_nothing_and_say_why(capsys):
    """Asked for our checks alone, the run sends no request (nothing listens at the URL) and skips each."""
    code = main(
        [
            "contract",
            "--spec",
            str(SPECS / "reports-swagger2.yaml"),
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--checks",
            ",".join(OURS),
        ]
    )
    out = capsys.readouterr().out
    assert sorted(OUR_SKIPS.findall(out)) == sorted(OURS) and "ERROR" not in out, out
    assert code == 1  # nothing was checked: not a pass


def test_recorded_traffic_of_such_a_contract_shows_every_recorded_check(tmp_path, capsys):
    har = {
        "log": {
            "entries": [
                {
                    "startedDateTime": "2026-01-01T00:00:00Z",
                    "request": {"method": "GET", "url": "http://h.test/reports/r1", "headers": []},
                    "response": {"status": 404, "headers": [], "content": {"text": "{}"}},
                }
            ]
        }
    }
    (tmp_path / "t.har").write_text(__import__("json").dumps(har))
    code = main(["contract", "--spec", str(SPECS / "reports-swagger2.yaml"), "--from-har", str(tmp_path / "t.har")])
    out = capsys.readouterr().out
    assert code == 0, out
    for check in (
        "status_code_conformance",
        "response_schema_conformance",
        "error_shape",
        "export_lifecycle",
        "csv_download",
    ):
        assert re.search(rf"^    (?:ok  |SKIPPED) {check}\b", out, re.M), (check, out)
    assert "SKIPPED error_shape: the contract's authentication matches no dialect the kit knows" in out


@pytest.mark.slow
def test_repeated_warnings_logged_during_a_run_are_summarised(caplog):
    """A mock in the same process (the pytest plugin, these tests) logged a warning for most
    generated requests, ~350 lines a run. The first few of a kind pass, then one line says how many more."""
    from mockserver.contract.logs import SHOWN

    caplog.set_level(logging.WARNING)
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        results = run_contract(
            ContractOptions(
                base_url=server.url, checks=["not_a_server_error"], operations=["create-export"], max_examples=5, seed=1
            )
        )
    assert results.ok
    logged = [record.getMessage() for record in caplog.records if record.name == "mockserver"]
    summary = [message for message in logged if "more like this during the contract run, not shown" in message]
    assert len(summary) == 1 and len(logged) == SHOWN + 1, logged
    assert int(summary[0].split()[0]) >= 1  # what it stood for: the records not shown (how many depends on the run)
    logging.getLogger("mockserver").warning("after the run: shown")
    assert caplog.records[-1].getMessage() == "after the run: shown"  # the filter is gone


def test_a_selected_check_that_judged_nothing_is_still_reported(mock_url):
    """Every selected check appears even when nothing came its way: refused credentials stop the run before
    any check (each says so), and a built-in check no request of the run applied to says that."""
    from mockserver.contract.checks import WHOLE_RUN

    stopped = run_contract(
        ContractOptions(
            base_url=mock_url,
            app_id="contract-app",
            app_token="not-its-token",
            checks=["export_lifecycle", "not_a_server_error"],
        )
    )
    assert stopped.errors and not stopped.ok
    assert {
        check: stopped.skipped[(WHOLE_RUN, check)] for check in ("export_lifecycle", "not_a_server_error")
    } == dict.fromkeys(("export_lifecycle", "not_a_server_error"), "not run: the run stopped (see the ERROR below)")
    report = render_text(stopped, base_url=mock_url, seconds=0)
    assert "SKIPPED export_lifecycle: not run" in report and "SKIPPED not_a_server_error: not run" in report
