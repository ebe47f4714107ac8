"""Tolerant but visible mistakes: the mock answers as the vendor does and
adds one X-Mock-Warning per finding, journals and logs it; `--strict` refuses it
in the vendor's error shape. Through real HTTP, as a client sees it."""

from __future__ import annotations

import logging

import pytest

from mockserver import cli
from mockserver.app import Settings
from mockserver.spec import load_spec
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify
from tests.control_support import CREDENTIALS, http

TYPO = {
    "exported_object": "order",
    "parameters": {"fields": ["id", "status"], "filters": {"stauts": {"conditions": {"$in": ["PAID"]}}}},
}
CORRECT = {
    "exported_object": "order",
    "parameters": {"fields": ["id", "status"], "filters": {"status": {"conditions": {"$in": ["PAID"]}}}},
}
EXTRA = {"exported_object": "voucher", "colour": "blue", "parameters": {"fields": ["code"], "response_format": "CSV"}}


def opened(spec):
    """The spec with open request bodies (unknown properties ignored, as the real API does)."""
    seen: set[int] = set()

    def walk(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, dict):
            if node.get("additionalProperties") is False:
                del node["additionalProperties"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for op in spec.operations:
        walk(op.body_schemas)
    return spec


@pytest.fixture(scope="module")
def open_spec():
    return opened(load_spec("voucherify"))


def serve(spec, **settings) -> ServerThread:
    return ServerThread(Settings(port=0, lifecycle="poll", **settings), vendors=[Voucherify(spec=spec)])


def warnings_of(answer) -> list[str]:
    return answer.headers.get_all("X-Mock-Warning") or []


def test_unknown_filter_field_is_answered_and_told(spec, caplog):
    caplog.set_level(logging.WARNING, logger="mockserver")
    with serve(spec) as server:
        typo = http("POST", server.url + "/v1/exports", TYPO, CREDENTIALS)
        assert typo.status == 200, typo.text  # as the vendor answers: it documents no error for it
        (warning,) = warnings_of(typo)
        assert "stauts" in warning and "status" in warning and "filters" in warning
        correct = http("POST", server.url + "/v1/exports", CORRECT, CREDENTIALS)
        assert correct.status == 200 and warnings_of(correct) == []
        journal = http("GET", server.url + "/__mock/requests?path=/v1/exports").json["requests"]
    assert [len(entry["warnings"]) for entry in journal] == [1, 0]
    assert journal[0]["warnings"][0]["path"] == ".parameters.filters.stauts"
    assert journal[0]["warnings"][0]["severity"] == "warning"
    assert any("stauts" in record.getMessage() for record in caplog.records)
    # the export answers as one with the filter (it matches no record), not as a refusal
    assert typo.json["parameters"]["filters"] == {"junction": "and", **TYPO["parameters"]["filters"]}


def test_a_coerced_filter_operand_is_answered_and_told(spec):
    coerced = {
        "exported_object": "order",
        "parameters": {"fields": ["id", "amount"], "filters": {"amount": {"conditions": {"$more_than": "1000"}}}},
    }
    as_number = {
        "exported_object": "order",
        "parameters": {"fields": ["id", "amount"], "filters": {"amount": {"conditions": {"$more_than": 1000}}}},
    }
    with serve(spec) as server:
        answer = http("POST", server.url + "/v1/exports", coerced, CREDENTIALS)
        assert answer.status == 200, answer.text
        (warning,) = warnings_of(answer)
        assert warning.startswith("body.parameters.filters.amount.conditions.$more_than: '1000' is text")
        assert "amount is a number" in warning
        assert warnings_of(http("POST", server.url + "/v1/exports", as_number, CREDENTIALS)) == []
    with serve(spec, strict=True) as server:
        refused = http("POST", server.url + "/v1/exports", coerced, CREDENTIALS)
        assert refused.status == 400 and "amount is a number" in refused.json["details"]


@pytest.mark.slow
def test_unknown_body_properties_are_answered_and_told(open_spec):
    with serve(open_spec) as server:
        answer = http("POST", server.url + "/v1/exports", EXTRA, CREDENTIALS)
        assert answer.status == 200, answer.text
        told = warnings_of(answer)
        assert len(told) == 2
        assert any("'colour'" in w and "exported_object" in w for w in told)
        assert any("'response_format'" in w and "fields" in w for w in told)
        journal = http("GET", server.url + "/__mock/requests?path=/v1/exports").json["requests"]
        assert {w["path"] for w in journal[-1]["warnings"]} == {".colour", ".parameters.response_format"}


def test_strict_refuses_findings_in_the_vendor_shape(spec, open_spec):
    with serve(spec, strict=True) as server:
        typo = http("POST", server.url + "/v1/exports", TYPO, CREDENTIALS)
        assert typo.status == 400
        assert typo.json["key"] == "invalid_payload" and "stauts" in typo.json["details"]
        assert set(typo.json) >= {"code", "key", "message", "details", "request_id"}
        assert http("POST", server.url + "/v1/exports", CORRECT, CREDENTIALS).status == 200
        assert http("GET", server.url + "/v1/exports", headers=CREDENTIALS).json["total"] == 1  # nothing stored
    with serve(open_spec, strict=True) as server:
        extra = http("POST", server.url + "/v1/exports", EXTRA, CREDENTIALS)
        assert extra.status == 400 and "colour" in extra.json["details"]


def test_a_correct_client_sees_no_difference(spec):
    """Default mode: the same answers (bar ids and times) and no warning header for a correct request."""
    with serve(spec) as plain, serve(spec, strict=True) as strict:
        answers = [http("POST", server.url + "/v1/exports", CORRECT, CREDENTIALS) for server in (plain, strict)]
    for answer in answers:
        assert answer.status == 200 and warnings_of(answer) == []
    shown = [{k: v for k, v in a.json.items() if k not in ("id", "created_at")} for a in answers]
    assert shown[0] == shown[1]


def test_strict_comes_from_the_flag_and_the_config_file(tmp_path, monkeypatch):
    chosen = []

    async def run(settings, **kwargs):
        chosen.append(settings.strict)

    monkeypatch.setattr("mockserver.serving.serve_until_stopped", run)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["serve", "--port", "0"]) == 0
    assert cli.main(["serve", "--port", "0", "--strict"]) == 0
    (tmp_path / "mockserver.yaml").write_text("strict: true\n")
    assert cli.main(["serve", "--port", "0"]) == 0
    assert chosen == [False, True, True]


@pytest.mark.slow
def test_generate_warns_as_the_server_does(capsys):
    filters = '{"stauts": {"conditions": {"$in": ["PAID"]}}}'
    assert cli.main(["generate", "order", "--rows", "5", "--filters", filters]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1  # the header row alone: no record has the field, as on the server
    line, note = err.splitlines()
    assert line.startswith("mockserver generate: warning: body.parameters.filters.stauts: 'stauts' is not")
    assert note.startswith("mockserver generate: note: --filters keep the matching rows of the 5 generated")
    assert cli.main(["generate", "order", "--filters", filters, "--strict"]) == 2


@pytest.mark.parametrize("name", ["st\x00tus", "st\x1ftus", "st\x7ftus", "st\u2028tus", "\U0001f600tatus", "st\rtus"])
def test_a_finding_naming_what_a_client_sent_is_a_readable_header(spec, name):
    """A filter field with control or non-ASCII characters is named in the warning, escaped, and the
    answer still arrives (an unescaped \\x00 in a header made aiohttp drop the connection)."""
    body = {
        "exported_object": "order",
        "parameters": {"fields": ["id"], "filters": {name: {"conditions": {"$in": ["PAID"]}}}},
    }
    with serve(spec) as server:
        answer = http("POST", server.url + "/v1/exports", body, CREDENTIALS)
    assert answer.status == 200, answer.text
    (warning,) = warnings_of(answer)
    assert warning.isascii() and warning.isprintable()
    assert " ".join(name.split()).encode("unicode_escape").decode("ascii") in warning


def test_only_the_levels_a_body_reaches_are_worked_out():
    """The create-export schema has ~132,000 nodes; walking them all took 0.8 s on the event loop at the
    first create. A body's findings need only the levels it reaches."""
    from mockserver.spec import bundled_spec
    from mockserver.validation import Declared

    declared = Declared.of(bundled_spec("voucherify").operation("create-export").body_schemas["application/json"])
    found = declared.unknown({"exported_object": "order", "parameters": {"fields": ["id"], "nope": 1}}, "body")
    assert [f.path for f in found] == [".parameters.nope"]

    def worked_out(node, seen):
        if id(node) in seen or node._props is None:
            return 0
        seen.add(id(node))
        children = [*node._props.values(), *node._branches.values(), *([node._items] if node._items else [])]
        return 1 + sum(worked_out(child, seen) for child in children)

    assert worked_out(declared, set()) < 20  # of thousands
