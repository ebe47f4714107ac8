"""The contract engine reads each vendor's protocol as data: the Dialect a vendor
package provides. What one vendor needs (a nested error object, Bearer keys,
indexed form lists) is a value of the data, not a copy of the checks."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from mockserver.contract.dialect import (
    Credentials,
    Dialect,
    ErrorShape,
    ExportProtocol,
    Statuses,
    bundled_contracts,
    default_contract,
    dialect_for,
    known_dialects,
)
from mockserver.contract.http import form_fields
from mockserver.contract.options import App

CONTRACT = Path(__file__).resolve().parent.parent / "mockserver" / "contract"
NESTED = ErrorShape(required=("type", "message"), envelope="error", text=("message",), optional_text=("param",),
                    choices={"type": ("invalid_request_error", "api_error")})


def test_every_installed_vendor_provides_its_dialect_as_data():
    dialects = known_dialects()
    assert {"voucherify", "chargebee"} <= set(dialects)
    assert all(isinstance(d, Dialect) and d.exports is not None for d in dialects.values())
    assert default_contract() == "voucherify"  # the one whose data says so
    assert set(dialects) <= set(bundled_contracts())


@pytest.mark.parametrize("body, problem", [
    ({"error": {"type": "invalid_request_error", "message": "No such report run"}}, None),
    ({"error": {"type": "invalid_request_error", "message": "x", "param": "report_type"}}, None),
    ({"type": "invalid_request_error", "message": "x"}, "holding exactly `error`"),
    ({"error": {"type": "invalid_request_error", "message": "x"}, "extra": 1}, "holding exactly `error`"),
    ({"error": "oops"}, "`error` is not an object"),
    ({"error": {"message": "x"}}, "lacks error.type"),
    ({"error": {"type": "card", "message": "x"}}, "`error.type` is 'card'"),
    ({"error": {"type": "api_error", "message": " "}}, "`error.message` is missing or empty"),
    ({"error": {"type": "api_error", "message": "x", "param": 3}}, "`error.param` is not a string"),
])
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


@pytest.mark.parametrize("style, expected", [
    ("json", [("parameters[columns]", '["a", "b"]'), ("report_type", "t")]),
    ("indexed", [("parameters[columns][0]", "a"), ("parameters[columns][1]", "b"), ("report_type", "t")]),
    ("brackets", [("parameters[columns][]", "a"), ("parameters[columns][]", "b"), ("report_type", "t")]),
])
def test_form_lists_are_written_in_the_dialects_style(style, expected):
    assert form_fields({"parameters": {"columns": ["a", "b"]}, "report_type": "t"}, lists=style) == expected


def test_credentials_are_data_headers_basic_or_bearer():
    app = App("site", "sk_test_1")
    assert Credentials("headers", id_header="A-Id", token_header="A-Key").headers(app) == {"A-Id": "site",
                                                                                         "A-Key": "sk_test_1"}
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
            before = next((t for t in reversed(tokens[:number]) if t.type not in (
                tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT)), None)
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
