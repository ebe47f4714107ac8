"""`mockserver contract --from-har / --from-journal`: recorded traffic checked without sending a request.

The recordings are made by real runs through the mock (our own client flow, schemathesis' HAR report, the
mock's journal); the violating ones are those recordings with one exchange changed, as a broken
implementation would have answered.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mockserver.app import Settings
from mockserver.cli import main
from mockserver.testing import ServerThread

HEADERS = {"X-App-Id": "recorder", "X-App-Token": "rec0rded-secret"}
FIELDS = ["id", "status", "created_at"]


def har_entry(response: requests.Response) -> dict:
    request = response.request
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return {
        "startedDateTime": "2026-01-01T00:00:00.000Z",
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": [{"name": k, "value": v} for k, v in request.headers.items()],
            **({"postData": {"mimeType": "application/json", "text": body}} if body else {}),
        },
        "response": {
            "status": response.status_code,
            "headers": [{"name": k, "value": v} for k, v in response.headers.items()],
            "content": {"mimeType": response.headers.get("Content-Type", ""), "text": response.text},
        },
    }


@pytest.fixture(scope="module")
def recording():
    """A real client flow through the mock: create, poll to DONE, download, a 404; as HAR and as journal."""
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        replies = [
            requests.post(
                server.url + "/v1/exports",
                headers=HEADERS,
                json={"exported_object": "order", "parameters": {"fields": FIELDS}},
            )
        ]
        export_id = replies[0].json()["id"]
        while replies[-1].json().get("status") != "DONE":
            replies.append(requests.get(f"{server.url}/v1/exports/{export_id}", headers=HEADERS))
        replies.append(requests.get(replies[-1].json()["result"]["url"]))
        replies.append(requests.get(f"{server.url}/v1/exports/exp_{'0' * 24}", headers=HEADERS))
        har = {
            "log": {
                "version": "1.2",
                "creator": {"name": "tests", "version": "1"},
                "entries": [har_entry(reply) for reply in replies],
            }
        }
        yield server, har


def run(tmp_path: Path, har: dict, capsys, *extra: str) -> tuple[int, str]:
    path = tmp_path / "traffic.har"
    path.write_text(json.dumps(har))
    code = main(["contract", "--from-har", str(path), *extra])
    return code, capsys.readouterr().out


def test_a_recorded_client_flow_passes_every_check(recording, tmp_path, capsys):
    code, out = run(tmp_path, recording[1], capsys)
    assert code == 0, out
    for check in (
        "status_code_conformance",
        "response_schema_conformance",
        "error_shape",
        "export_lifecycle",
        "csv_download",
    ):
        assert re.search(rf"^    ok   {check} \(\d+ passed\)", out, re.M), (check, out)
    assert out.startswith("Recorded traffic from ")


def test_the_journal_of_a_running_mock_is_checked_the_same_way(recording, capsys):
    server, _ = recording
    code = main(["contract", "--from-journal", server.url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"^ok   GET /v1/exports/\{exportId\}\n(?:    .*\n)*?    ok   export_lifecycle", out, re.M), out
    assert "SKIPPED csv_download: the recording does not hold the download's body" in out  # streamed, not journaled


@pytest.mark.slow
def test_schemathesis_har_report_is_checked(tmp_path, capsys):
    har = tmp_path / "schemathesis.har"
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        ran = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                str(Path(__file__).resolve().parent.parent / "schemas/voucherify/openapi.yaml"),
                "--url",
                server.url,
                "-H",
                "X-App-Id: st",
                "-H",
                "X-App-Token: st-token",
                "--max-examples",
                "2",
                "--phases",
                "examples,fuzzing",
                "--seed",
                "1",
                "--report",
                "har",
                "--report-har-path",
                str(har),
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    assert har.is_file(), ran.stdout[-2000:] + ran.stderr[-2000:]
    assert main(["contract", "--from-har", str(har)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^    ok   response_schema_conformance \(\d+ passed\)", out, re.M), out


def _entries(har: dict) -> list[dict]:
    return har["log"]["entries"]


def _body(entry: dict) -> dict:
    return json.loads(entry["response"]["content"]["text"])


def _set_body(entry: dict, body: dict) -> None:
    entry["response"]["content"]["text"] = json.dumps(body)


def status_goes_back(har):
    done = next(e for e in _entries(har) if e["response"]["content"]["text"].find('"DONE"') > 0)
    again = copy.deepcopy(done)
    _set_body(again, {**_body(done), "status": "IN_PROGRESS", "result": None})
    _entries(har).insert(_entries(har).index(done) + 1, again)


def url_before_done(har):
    entry = next(e for e in _entries(har) if '"IN_PROGRESS"' in e["response"]["content"]["text"])
    _set_body(entry, {**_body(entry), "result": {"url": "http://example.invalid/file.csv"}})


def csv_header_differs(har):
    download = next(e for e in _entries(har) if "token=" in e["request"]["url"])
    text = download["response"]["content"]["text"]
    download["response"]["content"]["text"] = "status,id,created_at" + text[text.index("\r\n") :]


def csv_header_reordered(har):
    """The recorded header's own labels, the first two swapped: only the order is wrong."""
    download = next(e for e in _entries(har) if "token=" in e["request"]["url"])
    text = download["response"]["content"]["text"]
    first, second, *rest = text[: text.index("\r\n")].split(",")
    download["response"]["content"]["text"] = ",".join([second, first, *rest]) + text[text.index("\r\n") :]


def error_without_request_id(har):
    entry = _entries(har)[-1]
    _set_body(entry, {k: v for k, v in _body(entry).items() if k != "request_id"})


def undocumented_status(har):
    _entries(har)[-1]["response"]["status"] = 418


def status_outside_enum(har):
    _set_body(_entries(har)[0], {**_body(_entries(har)[0]), "status": "QUEUED"})


@pytest.mark.parametrize(
    "change, check, title",
    [
        (status_goes_back, "export_lifecycle", "Export status moved backwards: DONE → IN_PROGRESS"),
        (url_before_done, "export_lifecycle", "result is not null while IN_PROGRESS"),
        (csv_header_differs, "csv_download", "The header row is not the requested fields in order"),
        (csv_header_reordered, "csv_download", "The header row is not the requested fields in order"),
        (error_without_request_id, "error_shape", "Error body is not the vendor's error object"),
        (undocumented_status, "status_code_conformance", "Undocumented status code 418"),
        (status_outside_enum, "response_schema_conformance", "Response violates schema"),
    ],
    ids=lambda value: value.__name__ if callable(value) else None,
)
def test_a_violating_recording_fails_with_the_named_check(change, check, title, recording, tmp_path, capsys):
    har = copy.deepcopy(recording[1])
    change(har)
    junit = tmp_path / "recorded.xml"
    code, out = run(tmp_path, har, capsys, "--junit", str(junit))
    assert code == 1, out
    assert re.search(rf"^\d+\. \[{check}\] .*: {re.escape(title)}", out, re.M), out
    assert "rec0rded-secret" not in out and "rec0rded-secret" not in junit.read_text()  # a recorded secret
    assert "   reproduce:\n     curl -X " in out


def test_the_checks_option_selects_recorded_checks(recording, tmp_path, capsys):
    code, out = run(tmp_path, recording[1], capsys, "--checks", "export_lifecycle,csv_download")
    assert code == 0
    assert set(re.findall(r"^    ok   (\w+)", out, re.M)) == {"export_lifecycle", "csv_download"}


@pytest.mark.parametrize("content, message", [("not json", "is not a HAR file"), ('{"log": {}}', "is not a HAR file")])
def test_a_file_that_is_no_har_is_one_line_and_exit_2(content, message, tmp_path, capsys):
    path = tmp_path / "bad.har"
    path.write_text(content)
    assert main(["contract", "--from-har", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ---------------------------------------------------------------- answers the client steered
def test_answers_the_client_steered_are_not_blamed_on_the_target(capsys):
    """The README's tour asks for a 429 with `Prefer: code=429`, a generated body with `Prefer: dynamic=true`,
    and forces exports' outcomes through the admin API; `--from-journal` afterwards blames the mock for none of
    it, says which exchanges it left unjudged and why, and still judges the exports steered by `outcome`."""
    tour = {"X-App-Id": "my-app", "X-App-Token": "my-key"}
    with ServerThread(Settings(port=0, lifecycle="poll")) as server:
        url = server.url
        assert requests.get(url + "/v1/exports", headers={**tour, "Prefer": "code=429"}).status_code == 429
        created = requests.post(url + "/v1/exports", headers=tour, json={"exported_object": "order"}).json()
        assert requests.get(f"{url}/v1/exports/{created['id']}", headers={**tour, "Prefer": "dynamic=true"}).ok
        for status in ("ERROR", "DONE"):  # never backwards, so every answer after is a legal step
            forced = requests.post(url + "/v1/exports", headers=tour, json={"exported_object": "voucher"}).json()
            assert requests.post(f"{url}/__mock/exports/{forced['id']}/status", json={"status": status}).ok
            assert requests.get(f"{url}/v1/exports/{forced['id']}", headers=tour).json()["status"] == status
        failing = requests.post(
            url + "/v1/exports",
            headers={**tour, "Prefer": "outcome=error, lifecycle=instant"},
            json={"exported_object": "order"},
        ).json()
        assert requests.get(f"{url}/v1/exports/{failing['id']}", headers=tour).json()["status"] == "ERROR"
        code = main(["contract", "--from-journal", url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(
        r"^ok   GET /v1/exports\n    SKIPPED \w+: the client asked for this answer \(Prefer: code=429\)", out, re.M
    ), out
    assert "the client asked for this answer (Prefer: dynamic=true)" in out
    assert re.search(r"^    ok   export_lifecycle \(\d+ passed\)", out, re.M), out
    assert "FAIL" not in out


def test_a_steered_answer_is_left_out_of_the_export_s_history(recording, tmp_path, capsys):
    """A read answered from an example (`Prefer: example=…`) would look like the export going back: unjudged."""
    har = copy.deepcopy(recording[1])
    done = next(e for e in _entries(har) if '"DONE"' in e["response"]["content"]["text"])
    steered = copy.deepcopy(done)
    steered["request"]["headers"].append({"name": "Prefer", "value": "example=scheduled"})
    _set_body(steered, {**_body(done), "status": "SCHEDULED", "result": None})
    _entries(har).insert(_entries(har).index(done) + 1, steered)
    code, out = run(tmp_path, har, capsys)
    assert code == 0, out
    assert "the client asked for this answer (Prefer: example=scheduled)" in out


# ---------------------------------------------------------------- reproduce lines of recorded traffic (item 2)
def test_a_recorded_reproduce_line_shows_the_app_id_and_hides_only_the_token(recording, tmp_path, capsys):
    har = copy.deepcopy(recording[1])
    undocumented_status(har)
    code, out = run(tmp_path, har, capsys)
    assert code == 1, out
    curl = re.search(r"   reproduce:\n     (curl .*)\n", out).group(1)
    assert "-H 'X-App-Id: recorder'" in curl and "-H 'X-App-Token: '\"$APP_TOKEN\"" in curl, curl
    assert "--app-token" not in out  # --from-har/--from-journal take none
    assert "  export APP_TOKEN=<the X-App-Token the recording sent as app recorder>" in out, out
    assert "OTHER_APP_TOKEN" not in out and "rec0rded-secret" not in out


@pytest.mark.parametrize(
    "header, value, shown",
    [
        ("X-App-Token", "rec0…", "-H 'X-App-Token: '\"$APP_TOKEN\""),  # masked by the recorder: still a variable
        ("Authorization", "Basic ****", '-u "$APP_TOKEN:"'),  # a masked Basic user, not base64
    ],
)
def test_masked_recorded_credentials_still_become_shell_variables(header, value, shown, recording, tmp_path, capsys):
    har = copy.deepcopy(recording[1])
    undocumented_status(har)
    for entry in _entries(har):  # a journal that masks credentials masks every entry's
        headers = entry["request"]["headers"]
        if any(h["name"] == "X-App-Token" for h in headers):
            headers[:] = [h for h in headers if h["name"] != "X-App-Token"] + [{"name": header, "value": value}]
    code, out = run(tmp_path, har, capsys)
    assert code == 1, out
    assert shown in out and value not in out, out


def test_traffic_outside_the_contract_is_one_line_and_escaped(recording, tmp_path, capsys):
    """A fuzzer's journal holds hundreds of made-up paths: one report line says how many, names a few, and no
    control character a client sent reaches the terminal (item 9)."""
    har = copy.deepcopy(recording[1])
    stray = _entries(har)[-1]
    for number in range(40):
        entry = copy.deepcopy(stray)
        entry["request"]["url"] = f"http://127.0.0.1:1/made-up/{number}\x1b[31m"
        _entries(har).append(entry)
    code, out = run(tmp_path, har, capsys)
    assert code == 0, out
    lines = [line for line in out.splitlines() if "no operation of the contract" in line]
    assert len(lines) == 1 and "40 exchange(s) on 40 path(s)" in lines[0], out
    assert "\x1b" not in out and "\\x1b[31m" in lines[0]
