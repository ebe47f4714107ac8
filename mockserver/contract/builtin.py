"""Run schemathesis' own engine (examples, fuzzing with positive and negative
data, stateful sequences) and fold what its built-in checks find into Results.

The engine is driven through its Python API; nothing here generates data or
judges responses except `error_shape`, which reads the responses schemathesis
already received.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import parse_qsl, urlencode

import schemathesis
from jsonschema import Draft7Validator
from schemathesis.config import ConfigError
from schemathesis.engine import Status, events, from_schema

from .. import tuning
from ..progress import Progress
from ..spec import Spec
from .dialect import Dialect
from .http import App, Redactor, form_fields
from .options import threads_can_parse
from .results import Finding, Results, excerpt

ERROR_SHAPE = "error_shape"
PHASES = ("examples", "coverage", "fuzzing", "stateful")  # schemathesis' phases, in the order they run


def _negative_rejections() -> list[str]:
    """schemathesis' default "rejected" statuses of negative_data_rejection, read through its public config."""
    from schemathesis.config import SchemathesisConfig

    return list(SchemathesisConfig().projects.default.checks.negative_data_rejection.expected_statuses)


NEGATIVE_REJECTIONS = _negative_rejections()


def builtin_check_names() -> list[str]:
    """Every response check schemathesis ships (the OpenAPI ones register when their module loads)."""
    import schemathesis.specs.openapi.checks  # noqa: F401
    from schemathesis.checks import CHECKS

    return sorted(check.__name__ for check in CHECKS.get_all() if not isinstance(check, type))


@tuning.fewer_collections()  # the collector runs less often while schemathesis generates
def run_builtin(
    spec: Spec,
    *,
    base_url: str,
    app: App,
    dialect: Dialect | None,
    checks: list[str],
    max_examples: int,
    seed: int | None,
    workers: int,
    coverage: bool,
    results: Results,
    redact: Redactor,
    progress: Progress,
    error_shape: bool,
    operations: list[str] | None = None,
    max_time: int | None = None,
    phases: Collection[str] | None = None,
) -> None:
    """`phases` names the schemathesis phases that run (None: all of them, coverage as `coverage` says);
    a run with a `max_time` shares it between its phases, so a phase that must run whatever the machine's
    load goes in a run of its own."""
    config = schemathesis.Config.from_dict(
        _config(
            base_url=base_url,
            app=app,
            dialect=dialect,
            checks=checks,
            max_examples=max_examples,
            seed=seed,
            workers=workers,
            coverage=coverage,
            max_time=max_time,
            phases=phases,
        )
    )
    schema = schemathesis.openapi.from_dict(spec.document, config=config)
    if operations:
        schema = schema.include(operation_id=operations)
    # one scenario per operation and phase, plus the stateful walks (grown as they come)
    progress.grow(len(list(schema.get_all_operations())) * (3 if coverage else 2) + 1)
    _warm_lazy_imports()
    _send_forms_in_brackets()
    forms = WireForms(spec)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _fold(event.recorder, results, redact, forms)
            if error_shape and dialect is not None:
                _error_shapes(event.recorder, dialect, results, redact)
            if progress.total is not None and progress.completed + 1 > progress.total:
                progress.grow(1)
            progress.advance(detail=f"{event.phase.value}: {event.recorder.label}")
        elif isinstance(event, events.NonFatalError) and isinstance(event.value, schemathesis.errors.NoLinksFound):
            # --operation left out what the links join: nothing to walk, not a fault of the target
            results.skip(event.label, "stateful", str(event.value).split("\n")[0])
        elif isinstance(event, events.NonFatalError):
            results.error(f"schemathesis could not test {event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            results.error(f"schemathesis stopped: {event.exception}")
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures:
                results.failed(
                    Finding(
                        check=_check_of(failure),
                        operation=failure.operation or "(run)",
                        title=failure.title,
                        message=failure.message,
                    )
                )


FORM_MEDIA = "application/x-www-form-urlencoded"


def bracket_form(_ctx: Any, value: Any) -> bytes | None:
    """A form body as requests writes it, except that a nested object is written in bracket notation
    (`parameters[interval_start]=…`, its lists indexed), as OpenAPI's deepObject and the form APIs we speak
    (Stripe, Chargebee) read it. schemathesis applies each property's `encoding` first, but a property whose
    schema is no plain object (a oneOf of report types) reaches requests as a dict, which requests writes as
    its keys (`parameters=interval_end&parameters=interval_start`): a request no such API can read."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return value.encode() if isinstance(value, str) else value
    if not isinstance(value, dict):
        return json.dumps(value).encode()  # an out-of-spec body (a list, a number), as schemathesis sends it
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        if isinstance(item, dict):
            pairs += form_fields({key: item}, lists="indexed")
        elif isinstance(item, list):  # repeated, as requests and OpenAPI's exploded form write a list
            pairs += [
                pair
                for element in item
                for pair in (
                    form_fields({key: element}, lists="indexed") if isinstance(element, dict) else [(key, str(element))]
                )
            ]
        elif item is not None:
            pairs.append((str(key), str(item)))
    return urlencode(pairs).encode()


def _send_forms_in_brackets() -> None:
    """bracket_form for schemathesis' form bodies, through its public serializer registry (for every run after)."""
    schemathesis.serializer(FORM_MEDIA)(bracket_form)


def _warm_lazy_imports() -> None:
    """Hypothesis imports a strategy's module when the strategy is first made; schemathesis' workers
    are threads, and two making the first `randoms()` at once can meet a half-imported module
    ("cannot import name 'RandomStrategy'"). Made once here, before the workers start, it cannot."""
    from hypothesis import strategies

    strategies.randoms().validate()  # a strategy is made lazily: validate() makes it now


def _config(
    *,
    base_url: str,
    app: App,
    dialect: Dialect | None,
    checks: list[str],
    max_examples: int,
    seed: int | None,
    workers: int,
    coverage: bool,
    max_time: int | None = None,
    phases: Collection[str] | None = None,
) -> dict[str, Any]:
    enabled = set(checks)
    config: dict[str, Any] = {
        "base-url": base_url,
        "workers": workers if threads_can_parse() else 1,
        "generation": {"mode": "all", "max-examples": max_examples, "database": "none"},
        # the coverage phase enumerates every optional filter operator: minutes on our schemas
        "phases": {"coverage": {"enabled": coverage}},
        "checks": {name: {"enabled": name in enabled} for name in builtin_check_names()},
        # full values in code samples; report.py masks the secrets it knows
        "output": {"sanitization": {"enabled": False}},
    }
    if phases is not None:
        config["phases"] = {name: {"enabled": name in phases and (coverage or name != "coverage")} for name in PHASES}
    if "negative_data_rejection" in enabled:
        # a body over the size limit is refused with 413 (documented by our schemas); schemathesis'
        # default list of "rejected" statuses lacks it, so an oversized invalid body read as accepted
        config["checks"]["negative_data_rejection"]["expected-statuses"] = [*NEGATIVE_REJECTIONS, "413"]
    if seed is not None:
        config["seed"] = seed
    if max_time is not None:  # seconds for the whole run, shared out between the phases by schemathesis
        config["max-time"] = max_time
    if dialect is not None:  # without one, how credentials travel is unknown: none are sent
        config["auth"] = {"openapi": dialect.schemathesis_auth(app)}
    return config


def validate_config(**kwargs: Any) -> None:
    """Raise ConfigError for options schemathesis would refuse, before anything runs."""
    schemathesis.Config.from_dict(_config(**kwargs))


def _curl(recorder, case_id: str, redact: Redactor) -> str:
    """The request schemathesis sent, as a curl line with secrets as shell variables."""
    interaction = recorder.interactions.get(case_id)
    if interaction is None:
        return ""
    request = interaction.request
    headers = {
        k: v[0]
        for k, v in request.headers.items()
        if k.lower() not in ("user-agent", "accept-encoding", "accept", "connection", "content-length")
    }
    return redact.curl(request.method, request.uri, headers, request.body or None)


def _fold(recorder, results: Results, redact: Redactor, forms: WireForms) -> None:
    for case_id, nodes in recorder.checks.items():
        case = recorder.cases[case_id].value
        operation = case.operation.label
        for node in nodes:
            if node.status == Status.SUCCESS:
                results.passed(operation, node.name)
            elif node.status == Status.FAILURE and node.failure_info is not None:
                sent = recorder.interactions.get(case_id)
                if unframed(sent):
                    continue
                if node.name == "negative_data_rejection" and forms.reads_valid(case, sent):
                    results.passed(operation, node.name)
                    continue
                failure = node.failure_info.failure
                response = recorder.find_response(case_id=case_id)
                results.failed(
                    Finding(
                        check=node.name,
                        operation=failure.operation or operation,
                        title=failure.title,
                        message=redact(failure.message),
                        curl=_curl(recorder, case_id, redact),
                        status=response.status_code if response is not None else None,
                        response=excerpt(response.content) if response is not None else "",
                    )
                )


class WireForms:
    """Whether an "invalid" form body reads valid on the wire, so a target accepting it is right and
    negative_data_rejection must not blame it. What schemathesis generates is an object; what it sends
    is its form encoding, and two objects can share one: an extra property named `a[b]` is the field
    `a[b]=…`, which bracket notation reads as the declared `a: {b: …}`; an extra property holding an
    empty list sends no field at all. So the sent body is read back as bracket notation reads it and
    checked against the operation's schema (any doubt keeps the finding)."""

    def __init__(self, spec: Spec) -> None:
        self.operations = {(op.method.upper(), op.path): op for op in spec.operations}

    def reads_valid(self, case: Any, interaction: Any) -> bool:
        media = getattr(case, "media_type", None) or ""
        request = getattr(interaction, "request", None)
        if "form-urlencoded" not in media or request is None or not request.body:
            return False
        op = self.operations.get((case.operation.method.upper(), case.operation.path))
        schema = op.body_schemas.get(media) if op is not None else None
        sent = read_form(request.body)
        return schema is not None and sent is not None and Draft7Validator(schema).is_valid(sent)


_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def read_form(raw: bytes) -> dict[str, Any] | None:
    """A form body as bracket notation reads it: `a[b][c]=v` nests, a repeated name or `a[]` makes a list,
    indexes `a[0]`, `a[1]` too. None where it cannot be read that way. (Not vendors/forms.py's decoder:
    that one reads one vendor's own list style, and the target here may be anyone's.)"""
    out: dict[str, Any] = {}
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    for name, value in pairs:
        match = _NAME.match(name)
        if match is None:
            return None
        keys = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                return None
        last = keys[-1]
        if last == "" or last in node:
            held = node.pop(last, [])
            node[last] = [*(held if isinstance(held, list) else [held]), value]
        else:
            node[last] = value
    return _lists(out)


def _lists(node: Any) -> Any:
    """Objects keyed 0, 1, … as lists; an empty-bracket list under its name."""
    if not isinstance(node, dict):
        return node
    node = {key: _lists(value) for key, value in node.items()}
    if set(node) == {""}:
        return node[""]
    if node and all(key.isdigit() for key in node) and sorted(map(int, node)) == list(range(len(node))):
        return [node[str(index)] for index in range(len(node))]
    return node


def _error_shapes(recorder, dialect: Dialect, results: Results, redact: Redactor) -> None:
    """`error_shape` over every 4xx schemathesis provoked."""
    for case_id, interaction in recorder.interactions.items():
        response = interaction.response
        if response is None or not 400 <= response.status_code < 500 or unframed(interaction):
            continue
        node = recorder.cases.get(case_id)
        operation = node.value.operation.label if node is not None else "(unknown)"
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        problem = dialect.error_problem(response.status_code, body)
        if problem is None:
            results.passed(operation, ERROR_SHAPE)
            continue
        results.failed(
            Finding(
                check=ERROR_SHAPE,
                operation=operation,
                title="Error body is not the vendor's error object",
                message=problem,
                curl=_curl(recorder, case_id, redact),
                status=response.status_code,
                response=excerpt(response.content),
            )
        )


def unframed(interaction: Any) -> str | None:
    """Why a request schemathesis sent was not HTTP/1.1 a server can frame, else None: its generated
    headers can name Content-Length (with text that is no length) or Transfer-Encoding. A server must
    answer such a request with a bare 400 and close (RFC 9112, section 6.3), before any API sees it, so
    no check judges that answer."""
    request = getattr(interaction, "request", None)
    for name, values in (getattr(request, "headers", None) or {}).items():
        name = name.lower()
        if name == "transfer-encoding" or (name == "content-length" and not all(v.isdigit() for v in values)):
            return f"{name}: {values[0]}"
    return None


def _check_of(failure) -> str:
    return failure.checks[0] if getattr(failure, "checks", ()) else "run"


__all__ = ["ConfigError", "ERROR_SHAPE", "builtin_check_names", "run_builtin", "validate_config"]
