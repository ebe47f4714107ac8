"""The contract engine reads each vendor's protocol as data: the Dialect a vendor
package provides. What one vendor needs (a nested error object, Bearer keys,
indexed form lists) is a value of the data, not a copy of the checks."""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path
from types import SimpleNamespace

import pytest

from mockserver.contract.checks import CheckRun, Violation, check_csv
from mockserver.contract.dialect import (
    Credentials,
    Dialect,
    ErrorShape,
    Expect,
    ExportProtocol,
    Prepare,
    Statuses,
)
from mockserver.contract.http import Exchange, form_fields
from mockserver.contract.known import bundled_contracts, default_contract, dialect_for, known_dialects
from mockserver.contract.meaning import Skip
from mockserver.contract.options import App
from mockserver.contract.results import Results

CONTRACT = Path(__file__).resolve().parent.parent / "mockserver" / "contract"
NESTED = ErrorShape(
    required=("type", "message"),
    envelope="error",
    text=("message",),
    optional_text=("param",),
    choices={"type": ("invalid_request_error", "api_error")},
)


def test_every_installed_vendor_provides_its_dialect_as_data():
    dialects = known_dialects()
    assert {"voucherify", "chargebee"} <= set(dialects)
    assert all(isinstance(d, Dialect) and d.exports is not None for d in dialects.values())
    assert default_contract() == "voucherify"  # the one whose data says so
    assert set(dialects) <= set(bundled_contracts())


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"error": {"type": "invalid_request_error", "message": "No such report run"}}, None),
        ({"error": {"type": "invalid_request_error", "message": "x", "param": "report_type"}}, None),
        ({"type": "invalid_request_error", "message": "x"}, "holding exactly `error`"),
        ({"error": {"type": "invalid_request_error", "message": "x"}, "extra": 1}, "holding exactly `error`"),
        ({"error": "oops"}, "`error` is not an object"),
        ({"error": {"message": "x"}}, "lacks error.type"),
        ({"error": {"type": "card", "message": "x"}}, "`error.type` is 'card'"),
        ({"error": {"type": "api_error", "message": " "}}, "`error.message` is missing or empty"),
        ({"error": {"type": "api_error", "message": "x", "param": 3}}, "`error.param` is not a string"),
    ],
)
def test_a_nested_error_object_is_data(body, problem):
    found = NESTED.problem(404, body)
    assert (found is None) if problem is None else (problem in found), found


def test_a_flat_error_object_repeats_the_status_and_carries_a_request_id():
    flat = known_dialects()["voucherify"].errors
    good = {"code": 404, "key": "not_found", "message": "m", "details": "d", "request_id": "v-1"}
    assert flat.problem(404, good) is None and flat.request_id(good) == "v-1"
    assert "not the HTTP status 404" in flat.problem(404, {**good, "code": 400})
    assert "`request_id` is missing or empty" in flat.problem(404, {**good, "request_id": ""})
    assert NESTED.request_id({"error": {"type": "api_error"}}) is None


@pytest.mark.parametrize(
    "style, expected",
    [
        ("json", [("parameters[columns]", '["a", "b"]'), ("report_type", "t")]),
        ("indexed", [("parameters[columns][0]", "a"), ("parameters[columns][1]", "b"), ("report_type", "t")]),
        ("brackets", [("parameters[columns][]", "a"), ("parameters[columns][]", "b"), ("report_type", "t")]),
    ],
)
def test_form_lists_are_written_in_the_dialects_style(style, expected):
    assert form_fields({"parameters": {"columns": ["a", "b"]}, "report_type": "t"}, lists=style) == expected


def test_credentials_are_data_headers_basic_or_bearer():
    app = App("site", "sk_test_1")
    assert Credentials("headers", id_header="A-Id", token_header="A-Key").headers(app) == {
        "A-Id": "site",
        "A-Key": "sk_test_1",
    }
    assert Credentials("basic").headers(app) == {"Authorization": "Basic c2tfdGVzdF8xOg=="}
    assert Credentials("bearer").headers(app) == {"Authorization": "Bearer sk_test_1"}
    bearer = Dialect("x", Credentials("bearer", scheme="SecretKey"), NESTED)
    assert bearer.schemathesis_auth(app) == {"SecretKey": {"bearer": "sk_test_1"}}
    assert bearer.credentials.token_only and not Credentials("headers").token_only


def test_a_bundled_contract_gets_its_vendors_dialect_with_the_documents_scheme_names():
    document = {"components": {"securitySchemes": {"Key": {"type": "http", "scheme": "basic"}}}}
    assert dialect_for(document) is None  # unnamed Basic: which vendor is unknown
    chosen = dialect_for(document, "chargebee")
    assert chosen is not None and chosen.name == "chargebee" and chosen.credentials.scheme == "Key"


def test_status_words_rank_by_phase():
    words = Statuses(pending=("pending",), running=(), done="succeeded", failed="failed")
    assert words.rank == {"pending": 0, "succeeded": 2, "failed": 2} and words.final == ("succeeded", "failed")
    protocol = ExportProtocol(statuses=words, wrapper="export", url="download.download_url")
    assert protocol.unwrap({"export": {"id": "e"}}) == {"id": "e"} and protocol.holder == "download"
    assert protocol.url_of({"download": {"download_url": "u"}}) == "u"


VENDOR = re.compile(r"voucherify|chargebee|stripe|x-app-id", re.IGNORECASE)


def test_the_contract_engine_names_no_vendor_outside_comments_and_docstrings():
    found = []
    for path in sorted(CONTRACT.glob("*.py")):
        source = path.read_text()
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        for number, token in enumerate(tokens):
            if token.type not in (tokenize.NAME, tokenize.STRING) or not VENDOR.search(token.string):
                continue
            before = next(
                (
                    t
                    for t in reversed(tokens[:number])
                    if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT)
                ),
                None,
            )
            docstring = token.type == tokenize.STRING and (before is None or before.string == ":")
            if not docstring:
                found.append(f"{path.name}:{token.start[0]} {token.string[:40]}")
    assert not found, found
    assert not (CONTRACT / "chargebee_checks.py").exists()  # one engine: no per-vendor copy of the checks


def test_the_cli_takes_its_spec_default_and_names_from_the_vendors(capsys):
    from mockserver.cli import main

    with pytest.raises(SystemExit):
        main(["contract", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"bundled contract name ({', '.join(bundled_contracts())})" in out and "(default voucherify)" in out


def _exchange(text: str, status: int = 200) -> Exchange:
    return Exchange(
        operation="GET /x",
        method="GET",
        url="http://h.test/x",
        request_headers={},
        request_body=None,
        status=status,
        content_type="text/csv",
        text=text,
    )


REPORT = ExportProtocol(
    statuses=Statuses(pending=("pending",), running=(), done="succeeded", failed="failed"),
    kind_field="report_type",
    prepare=Prepare(
        "retrieve-report-type",
        "report_type",
        (
            ("parameters.interval_start", "data_available_end", -86_400),
            ("parameters.interval_end", "data_available_end", 0),
        ),
    ),
)


def _no_create():
    raise Skip("no create names its kind")


def _creating(*branches: dict) -> SimpleNamespace:
    schema = {"discriminator": {"propertyName": "report_type", "mapping": {str(i): b for i, b in enumerate(branches)}}}
    return SimpleNamespace(body_schemas={"application/x-www-form-urlencoded": schema})


def test_a_prepare_read_fills_only_what_the_kind_takes_and_the_examples_it_requires():
    """A kind run by another parameter (a single payout's reconciliation) gets no interval, but the example
    of what it requires; a kind that takes the interval gets it."""

    class Reads:
        def call(self, operation, path=None, **_):
            return _exchange(json.dumps({"data_available_end": 1_700_000_000}))

    by_id = {
        "properties": {
            "report_type": {"enum": ["payout_reconciliation.by_id.itemized.1"]},
            "parameters": {
                "required": ["payout"],
                "properties": {"payout": {"type": "string", "example": "po_1"}, "columns": {"type": "array"}},
            },
        },
        "required": ["report_type", "parameters"],
    }
    interval = {
        "properties": {
            "report_type": {"enum": ["payouts.itemized.1"]},
            "parameters": {"properties": {"interval_start": {}, "interval_end": {}}},
        }
    }
    create = _creating(by_id, interval)
    ctx = SimpleNamespace(
        protocol=REPORT, op=lambda name: name, results=Results(), judge_errors=False, generic_create=lambda: create
    )
    run = CheckRun("export_lifecycle", ctx)  # type: ignore[arg-type]
    assert run.prepared(Reads(), {"report_type": "payout_reconciliation.by_id.itemized.1"}) == {
        "report_type": "payout_reconciliation.by_id.itemized.1",
        "parameters": {"payout": "po_1"},
    }
    assert run.prepared(Reads(), {"report_type": "payouts.itemized.1"})["parameters"] == {
        "interval_start": 1_699_913_600,
        "interval_end": 1_700_000_000,
    }


def test_a_prepare_read_fills_the_create_body_from_its_answer():
    sent = []

    class Reads:
        def call(self, operation, path=None, **_):
            sent.append((operation, path))
            return _exchange(json.dumps({"data_available_end": 1_700_000_000}))

    ctx = SimpleNamespace(
        protocol=REPORT, op=lambda name: name, results=Results(), judge_errors=False, generic_create=_no_create
    )
    run = CheckRun("export_lifecycle", ctx)  # type: ignore[arg-type]
    body = {"report_type": "payouts.itemized.1", "parameters": {"interval_end": 5}}
    filled = run.prepared(Reads(), body)
    assert sent == [("retrieve-report-type", {"report_type": "payouts.itemized.1"})]
    assert filled == {
        "report_type": "payouts.itemized.1",
        "parameters": {"interval_start": 1_699_913_600, "interval_end": 5},
    }  # given values stay
    assert body["parameters"] == {"interval_end": 5}  # the scenario's own body is not changed
    assert run.prepared(Reads(), {"other": 1}) == {"other": 1} and len(sent) == 1  # no kind: no read


def test_rows_outside_the_requested_interval_are_a_finding():
    run = CheckRun("csv_download", SimpleNamespace())  # type: ignore[arg-type]
    interval = Expect("created_utc", "interval", since="parameters.interval_start", before="parameters.interval_end")
    body = {"parameters": {"interval_start": 1_700_000_000, "interval_end": 1_700_086_400}}
    inside = "created_utc,net\n2023-11-14 22:13:20,1.00\n2023-11-15 22:13:19,2.00\n"
    check_csv(run, _exchange(inside), ["created_utc", "net"], expect=[interval], body=body)
    with pytest.raises(Violation, match="The interval is ignored: created_utc lies outside it"):
        check_csv(
            run, _exchange(inside + "2023-11-15 22:13:20,3.00\n"), ["created_utc", "net"], expect=[interval], body=body
        )
    floor = Expect("total", "total[gte]", floor=1000)
    with pytest.raises(Violation, match=re.escape("The total[gte] filter is ignored")):
        check_csv(run, _exchange("id,total\na,999\n"), ["id", "total"], expect=[floor])


FORM = "application/x-www-form-urlencoded"
FORM_CONTRACT = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/exports": {
            "post": {
                "operationId": "create",
                "requestBody": {
                    "content": {
                        FORM: {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "item_type": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {"in": {"type": "array", "items": {"type": "string"}}},
                                    }
                                },
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


@pytest.mark.parametrize(
    ("media_type", "sent", "blamed"),
    [
        # schemathesis' {"item_type[in]": […]} and {"item_type": {…}, "extra": []} are sent as the valid filter
        (FORM, b"item_type%5Bin%5D=plan&item_type%5Bin%5D=plan", False),
        (FORM, b"item_type%5Bin%5D%5B0%5D=plan", False),
        (FORM, b"item_type%5Bin%5D=plan&extra=1", True),  # the extra property is on the wire: invalid there too
        (FORM, b"item_type%5Bnope%5D=plan", True),
        ("application/json", b'{"item_type[in]": ["plan"]}', True),  # JSON keeps the name as written
    ],
)
def test_an_invalid_form_body_that_reads_valid_on_the_wire_is_not_blamed(media_type, sent, blamed):
    from mockserver.contract.builtin import WireForms
    from mockserver.spec import spec_from_document

    case = SimpleNamespace(media_type=media_type, operation=SimpleNamespace(method="post", path="/exports"))
    interaction = SimpleNamespace(request=SimpleNamespace(body=sent))
    assert WireForms(spec_from_document("t", FORM_CONTRACT)).reads_valid(case, interaction) is not blamed


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        (
            {"parameters": {"interval_start": 1, "columns": ["a", "b"]}, "report_type": "x"},
            "parameters[interval_start]=1&parameters[columns][0]=a&parameters[columns][1]=b&report_type=x",
        ),
        (
            {"columns": ["a", "b"], "n": 1, "f": True, "z": None},
            "columns=a&columns=b&n=1&f=True",
        ),  # as requests writes it
        ({"parameters[interval_start]": 5}, "parameters[interval_start]=5"),
    ],
)
def test_the_kit_sends_nested_form_objects_in_brackets(body, sent):
    from urllib.parse import unquote

    from mockserver.contract.builtin import bracket_form

    assert unquote(bracket_form(None, body).decode()) == sent


def test_schemathesis_sends_a_oneof_form_body_in_brackets_once_the_kit_has_run():
    """Stripe's create body is a oneOf of report types, so schemathesis finds no properties to apply their
    deepObject encoding to and leaves `parameters` a dict, which requests wrote as `parameters=interval_start`
    (Stripe refuses it: 'given more than once')."""
    from urllib.parse import unquote

    import requests
    import schemathesis

    from mockserver.contract.builtin import _send_forms_in_brackets

    branch = {
        "type": "object",
        "properties": {"parameters": {"type": "object", "properties": {"interval_start": {"type": "integer"}}}},
    }
    contract = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/runs": {
                "post": {
                    "operationId": "create",
                    "responses": {"200": {"description": "ok"}},
                    "requestBody": {
                        "content": {
                            FORM: {
                                "encoding": {"parameters": {"style": "deepObject", "explode": True}},
                                "schema": {"oneOf": [branch]},
                            }
                        }
                    },
                }
            }
        },
    }
    _send_forms_in_brackets()
    operation = next(iter(schemathesis.openapi.from_dict(contract).get_all_operations())).ok()
    case = operation.Case(body={"parameters": {"interval_start": 7}}, media_type=FORM)
    data = case.as_transport_kwargs(base_url="http://127.0.0.1:9")["data"]
    wire = requests.Request("POST", "http://127.0.0.1:9", data=data).prepare().body
    assert unquote(wire.decode() if isinstance(wire, bytes) else wire) == "parameters[interval_start]=7"
