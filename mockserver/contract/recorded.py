"""Check recorded traffic against the contract without sending a request.

A HAR file (browser devtools, a proxy, schemathesis' `--report har`) or a
running mock's journal (`GET /__mock/requests`) holds exchanges a client
really had, perhaps with the real vendor. Each is judged alone (status
documented, body valid against the documented schema, the vendor's error
shape) and as part of a sequence (an export's status never goes back,
`result.url` only when DONE, a recorded CSV download's header is the
requested fields). Findings go into the same `Results` as a live run.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests
from jsonschema import Draft7Validator, FormatChecker

from ..control import prefer
from ..errors import ApiError
from ..spec import Operation, Spec
from .checks import _heading as heading
from .dialect import Dialect, dig
from .http import Redactor, label
from .known import dialect_of, known_dialects, no_dialect_reason
from .meaning import Skip, body_schema, branch_for, column_labels, default_fields, export_api
from .options import ContractUsageError
from .results import Finding, Results, excerpt, printable

CHECKS = ("status_code_conformance", "response_schema_conformance", "error_shape", "export_lifecycle", "csv_download")
UNMATCHED_SHOWN = 3  # paths outside the contract named in the report
RECORDING = "(recording)"  # where a check that applies to the whole recording is reported
DROPPED_HEADERS = {"cookie", "host", "content-length", "connection", "accept-encoding", "user-agent"}


@dataclass
class Recorded:
    """One exchange as it was recorded."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int
    content_type: str
    body: str | None  # None: not recorded (a streamed download in the journal)
    operation: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def request_json(self) -> Any:
        try:
            return json.loads(self.request_body) if self.request_body else None
        except ValueError:
            return None


# ---------------------------------------------------------------- sources
def from_har(path: str | Path) -> list[Recorded]:
    try:
        log = json.loads(Path(path).read_text(encoding="utf-8"))["log"]
        entries = sorted(log["entries"], key=lambda entry: entry.get("startedDateTime") or "")
        return [_har_entry(entry) for entry in entries]
    except OSError as exc:
        raise ContractUsageError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ContractUsageError(f"{path} is not a HAR file ({type(exc).__name__}: {exc})") from None


def _har_entry(entry: dict[str, Any]) -> Recorded:
    request, response = entry["request"], entry["response"]
    content = response.get("content") or {}
    text = content.get("text")
    if text is not None and content.get("encoding") == "base64":
        text = base64.b64decode(text).decode("utf-8", "replace")
    headers = {h["name"]: h["value"] for h in request.get("headers") or []}
    content_type = next(
        (h["value"] for h in response.get("headers") or [] if h["name"].lower() == "content-type"),
        content.get("mimeType") or "",
    )
    return Recorded(
        method=request["method"].upper(),
        url=request["url"],
        request_headers=headers,
        request_body=(request.get("postData") or {}).get("text"),
        status=int(response["status"]),
        content_type=content_type,
        body=text,
    )


def from_journal(url: str) -> list[Recorded]:
    """The exchanges a running mock journaled (`url`: the mock, or its /__mock/requests)."""
    if not urlsplit(url).path.rstrip("/").endswith("/__mock/requests"):
        url = urljoin(url, "/__mock/requests")
    try:
        from ..control.exposure import admin_headers  # MOCKSERVER_ADMIN_TOKEN, for a mock started with one

        reply = requests.get(url, headers=admin_headers(), timeout=30)
        reply.raise_for_status()
        entries = reply.json()["requests"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ContractUsageError(f"cannot read the journal at {url}: {exc}") from None
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    out = []
    for entry in entries:
        query = urlencode(entry.get("query") or {})
        response = entry.get("response") or {}
        content_type = next((v for k, v in (response.get("headers") or {}).items() if k.lower() == "content-type"), "")
        out.append(
            Recorded(
                method=entry["method"].upper(),
                url=origin + entry["path"] + (f"?{query}" if query else ""),
                request_headers=dict(entry.get("headers") or {}),
                request_body=_text(entry.get("body")),
                status=int(response.get("status", 0)),
                content_type=content_type,
                body=_text(response.get("body")),
            )
        )
    return out


def _text(body: Any) -> str | None:
    if body is None or isinstance(body, str):
        return body
    return json.dumps(body)


# ---------------------------------------------------------------- checking
def check_recorded(spec: Spec, exchanges: Iterable[Recorded], checks: list[str] | None = None) -> Results:
    selected = list(checks or CHECKS)
    unknown = [name for name in selected if name not in CHECKS]
    if unknown:
        raise ContractUsageError(
            f"unknown check(s) for recorded traffic {', '.join(unknown)}; choose from {', '.join(CHECKS)}"
        )
    results = Results()
    dialect = dialect_of(spec)
    redact = _redactor(spec, exchanges := list(exchanges), results)
    judge = Judge(spec, dialect, results, redact, selected)
    judged, elsewhere = [], Counter()
    for exchange in exchanges:
        operation = spec.match(exchange.method, exchange.path)
        if operation is None:
            elsewhere[f"{exchange.method} {printable(exchange.path)}"] += 1
            continue
        exchange.operation = operation
        why = steered(exchange)
        if why is not None:  # the client chose this answer: nothing of the target's to judge
            for check in selected:
                results.skip(label(operation), check, why)
            continue
        judge.alone(exchange)
        judged.append(exchange)
    judge.sequences(judged)
    if elsewhere:  # one line, however many (a fuzzer's traffic has hundreds of made-up paths)
        shown = ", ".join(list(elsewhere)[:UNMATCHED_SHOWN]) + (", …" if len(elsewhere) > UNMATCHED_SHOWN else "")
        results.skip(
            RECORDING,
            "recorded",
            f"{sum(elsewhere.values())} exchange(s) on {len(elsewhere)} path(s) "
            f"that are no operation of the contract: {shown}",
        )
    if not exchanges:
        results.error("the recording holds no exchanges")
    seen = {check for _, check in results.pairs()}
    for check in selected:  # every check appears in the report, run or SKIPPED with why
        if check not in seen:
            results.skip(
                RECORDING,
                check,
                no_dialect_reason()
                if check == "error_shape" and dialect is None
                else "no recorded exchange it applies to",
            )
    return results


def steered(exchange: Recorded) -> str | None:
    """Why an answer is the client's choice rather than the target's, or None: a `Prefer` header asking for a
    status, an example or a generated body (the mock's and Prism's convention; a real API ignores it), or one
    the mock refuses as such. Preferences that steer a real export (outcome, rows, lifecycle, delay) leave the
    answer the target's own: still judged."""
    sent = [value for name, value in exchange.request_headers.items() if name.lower() == "prefer"]
    if not sent:
        return None
    try:
        wanted = prefer.parse(sent, creates_export=True)
    except ApiError:
        return f"the client sent a Prefer header the mock refuses ({printable(', '.join(sent))})"
    return f"the client asked for this answer (Prefer: {printable(', '.join(sent))})" if wanted.from_spec else None


def secret_headers(spec: Spec) -> set[str]:
    """Request headers (lower case) whose values are secrets: every known dialect's, and the contract's header
    api keys, but never an app id header (a dialect's, or one whose name ends in `id`, in any case)."""
    dialects = known_dialects().values()
    ids = {d.credentials.id_header.lower() for d in dialects if d.credentials.id_header}
    keys = {name for dialect in dialects for name in dialect.credentials.secret_headers()} | {
        str(scheme.get("name", "")).lower()
        for scheme in spec.security_schemes.values()
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header"
    }
    return {name for name in keys - ids if not name.endswith("id")}


def _redactor(spec: Spec, exchanges: list[Recorded], results: Results) -> Redactor:
    """Recorded credentials (perhaps real ones, perhaps masked by the recorder) become shell variables in
    reports: one per distinct secret, `APP_TOKEN`, `APP_TOKEN_2` …; `results.variables` says what each
    stands for (the recording's, not a command-line option's: recorded traffic is checked without any)."""
    secret = secret_headers(spec)
    ids = {d.credentials.id_header.lower() for d in known_dialects().values() if d.credentials.id_header}
    redact = Redactor()
    for exchange in exchanges:
        app = next((v for k, v in exchange.request_headers.items() if k.lower() in ids), "")
        for name, value in exchange.request_headers.items():
            if name.lower() not in secret:
                continue
            what = name
            scheme, _, credentials = value.partition(" ")
            if name.lower() == "authorization" and scheme.lower() == "basic":
                try:
                    value = base64.b64decode(credentials, validate=True).decode().partition(":")[0]
                except ValueError:  # masked: the Basic user is what it stood for
                    value = credentials
                what = "Basic user (the API key)"
            elif name.lower() == "authorization":
                value, what = credentials, f"{scheme} token"
            if not value or value in redact.secrets:
                continue
            variable = "APP_TOKEN" + (f"_{len(redact.secrets) + 1}" if redact.secrets else "")
            redact.add(value, variable)
            results.variables[variable] = f"<the {what} the recording sent{f' as app {app}' if app else ''}>"
    return redact


class Judge:
    def __init__(
        self, spec: Spec, dialect: Dialect | None, results: Results, redact: Redactor, selected: list[str]
    ) -> None:
        self.spec, self.dialect, self.results, self.redact, self.selected = spec, dialect, results, redact, selected

    def verdict(self, check: str, exchange: Recorded, problem: str | None, title: str = "", message: str = "") -> None:
        if check not in self.selected:
            return
        operation = label(exchange.operation) if exchange.operation else exchange.path
        if problem is None:
            self.results.passed(operation, check)
            return
        headers = {k: v for k, v in exchange.request_headers.items() if k.lower() not in DROPPED_HEADERS}
        self.results.failed(
            Finding(
                check=check,
                operation=operation,
                title=title or problem,
                message=self.redact(message or problem),
                curl=self.redact.curl(exchange.method, exchange.url, headers, exchange.request_body),
                status=exchange.status,
                response=self.redact(excerpt(exchange.body or "")),
            )
        )

    def alone(self, exchange: Recorded) -> None:
        operation = exchange.operation
        assert operation is not None
        documented = operation.responses.get(str(exchange.status), operation.responses.get("default"))
        if documented is None:
            self.verdict(
                "status_code_conformance",
                exchange,
                f"Undocumented status code {exchange.status}",
                message=f"documented: {', '.join(operation.responses)}",
            )
            return
        self.verdict("status_code_conformance", exchange, None)
        media = exchange.content_type.split(";")[0].strip()
        schema = documented.get(media)
        if schema is not None and media.endswith("json") and exchange.body is not None:
            errors = sorted(
                Draft7Validator(schema, format_checker=FormatChecker()).iter_errors(exchange.json()),
                key=lambda e: list(e.path),
            )
            problem = None
            if errors:
                where = "/".join(map(str, errors[0].path)) or "(root)"
                problem = f"at {where}: {errors[0].message}"[:500]
            self.verdict(
                "response_schema_conformance",
                exchange,
                problem,
                "Response violates schema" if problem else "",
                problem or "",
            )
        if 400 <= exchange.status < 500 and self.dialect is not None and exchange.body is not None:
            problem = self.dialect.error_problem(exchange.status, exchange.json())
            self.verdict(
                "error_shape",
                exchange,
                problem,
                "Error body is not the vendor's error object" if problem else "",
                problem or "",
            )

    def sequences(self, exchanges: list[Recorded]) -> None:
        protocol = self.dialect.exports if self.dialect is not None else None
        try:
            if protocol is None:
                raise Skip("the contract speaks no dialect whose export protocol the kit knows")
            api = export_api(self.spec, protocol.statuses.all(), protocol.wrapper)
        except Skip as skip:
            for check in ("export_lifecycle", "csv_download"):
                if check in self.selected:
                    self.results.skip(RECORDING, check, str(skip))
            return
        download_op = self.spec.operation(protocol.download_operation) if protocol.download_operation else api.get
        created: dict[str, dict] = {}  # export id → the create request's body
        kind_of: dict[str, str] = {}
        last: dict[str, str] = {}
        for exchange in exchanges:
            body = protocol.unwrap(exchange.json())
            is_create = exchange.operation in api.creates
            reads = exchange.operation == api.get and api.id_param
            downloads = exchange.operation == download_op and (
                download_op != api.get or protocol.token_param in exchange.query
            )
            if exchange.status == 200 and (is_create or reads) and not downloads and "status" in body:
                export_id = str(body.get("id"))
                if is_create:
                    created[export_id] = exchange.request_json() or {}
                    if protocol.kind_field is None and isinstance(exchange.operation.raw.get("x-exported-object"), str):
                        kind_of[export_id] = exchange.operation.raw["x-exported-object"]
                if protocol.kind_field and isinstance(body.get(protocol.kind_field), str):
                    kind_of[export_id] = body[protocol.kind_field]
                self._step(exchange, body, last.get(export_id))
                last[export_id] = body.get("status")
            elif downloads and exchange.status == 200 and exchange.body is None:
                self.results.skip(label(download_op), "csv_download", "the recording does not hold the download's body")
            elif downloads and exchange.status == 200:
                export_id = exchange.path.rstrip("/").rsplit("/", 1)[-1]
                if download_op != api.get:  # …/{id}/download
                    export_id = exchange.path.rstrip("/").rsplit("/", 2)[-2]
                self._download(exchange, api, created.get(export_id), kind_of.get(export_id))

    def _step(self, exchange: Recorded, export: dict, previous: str | None) -> None:
        assert self.dialect is not None and self.dialect.exports is not None
        protocol = self.dialect.exports
        rank, final, done = protocol.statuses.rank, protocol.statuses.final, protocol.statuses.done
        status = export.get("status")
        if status not in rank:
            return self.verdict("export_lifecycle", exchange, f"Unknown export status {status!r}")
        if previous in rank and (rank[status] < rank[previous] or (previous in final and status != previous)):
            return self.verdict("export_lifecycle", exchange, f"Export status moved backwards: {previous} → {status}")
        if status == done and not protocol.url_of(export):
            return self.verdict("export_lifecycle", exchange, f"A {done} export has no {protocol.url}")
        if status != done and export.get(protocol.holder) is not None:
            return self.verdict("export_lifecycle", exchange, f"{protocol.holder} is not null while {status}")
        self.verdict("export_lifecycle", exchange, None)

    def _download(self, exchange: Recorded, api: Any, request: dict | None, kind: str | None) -> None:
        assert self.dialect is not None and self.dialect.exports is not None
        protocol = self.dialect.exports
        tag = protocol.kind_field
        fields = dig(request or {}, protocol.fields_field) if protocol.fields_field else None
        if not fields and tag and protocol.fields_field:
            kind = kind or (request or {}).get(tag)
            create = next((op for op in api.creates if kind and branch_for(body_schema(op), kind, tag)), None)
            try:
                fields = default_fields(create, kind, tag, protocol.fields_field) if create and kind else None
            except Skip:
                fields = None
        if not fields:
            return self.results.skip(
                label(exchange.operation),
                "csv_download",
                "the recording holds a download whose export's creation it does not hold",
            )
        if protocol.media == "application/zip":
            return self.results.skip(
                label(exchange.operation), "csv_download", "recorded zip downloads are not read (a HAR holds text)"
            )
        try:
            header = next(csv.reader(io.StringIO(exchange.body or "", newline="")), [])
        except csv.Error as exc:
            return self.verdict("csv_download", exchange, f"The download is not RFC 4180 CSV: {exc}")
        expected = column_labels(self.spec, kind or (request or {}).get(tag or "") or "", list(fields))
        same = [heading(h) for h in header] == [heading(e) for e in expected]  # as a live run compares them
        problem = None if same else "The header row is not the requested fields in order"
        self.verdict("csv_download", exchange, problem, message=f"expected {expected}, got {header}")


__all__ = ["CHECKS", "Recorded", "check_recorded", "from_har", "from_journal"]
