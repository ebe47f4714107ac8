"""Run schemathesis' own engine (examples, fuzzing with positive and negative
data, stateful sequences) and fold what its built-in checks find into Results.

The engine is driven through its Python API; nothing here generates data or
judges responses except `error_shape`, which reads the responses schemathesis
already received.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.config import ConfigError
from schemathesis.engine import Status, events, from_schema

from ..progress import Progress
from .dialect import Dialect
from .http import App, Redactor
from .results import Finding, Results, excerpt

ERROR_SHAPE = "error_shape"

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


def run_builtin(document: dict[str, Any], *, base_url: str, app: App, dialect: Dialect | None, checks: list[str],
                max_examples: int, seed: int | None, workers: int, coverage: bool, results: Results,
                redact: Redactor, progress: Progress, error_shape: bool,
                operations: list[str] | None = None, max_time: int | None = None) -> None:
    config = schemathesis.Config.from_dict(_config(base_url=base_url, app=app, dialect=dialect, checks=checks,
                                                   max_examples=max_examples, seed=seed, workers=workers,
                                                   coverage=coverage, max_time=max_time))
    schema = schemathesis.openapi.from_dict(document, config=config)
    if operations:
        schema = schema.include(operation_id=operations)
    # one scenario per operation and phase, plus the stateful walks (grown as they come)
    progress.grow(len(list(schema.get_all_operations())) * (3 if coverage else 2) + 1)
    _warm_lazy_imports()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _fold(event.recorder, results, redact)
            if error_shape and dialect is not None:
                _error_shapes(event.recorder, dialect, results, redact)
            if progress.total is not None and progress.completed + 1 > progress.total:
                progress.grow(1)
            progress.advance(detail=f"{event.phase.value}: {event.recorder.label}")
        elif isinstance(event, events.NonFatalError):
            results.error(f"schemathesis could not test {event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            results.error(f"schemathesis stopped: {event.exception}")
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures:
                results.failed(Finding(check=_check_of(failure), operation=failure.operation or "(run)",
                                       title=failure.title, message=failure.message))


def _warm_lazy_imports() -> None:
    """Hypothesis imports a strategy's module when the strategy is first made; schemathesis' workers
    are threads, and two making the first `randoms()` at once can meet a half-imported module
    ("cannot import name 'RandomStrategy'"). Made once here, before the workers start, it cannot."""
    from hypothesis import strategies

    strategies.randoms().validate()  # a strategy is made lazily: validate() makes it now


def _config(*, base_url: str, app: App, dialect: Dialect | None, checks: list[str], max_examples: int,
            seed: int | None, workers: int, coverage: bool, max_time: int | None = None) -> dict[str, Any]:
    enabled = set(checks)
    config: dict[str, Any] = {
        "base-url": base_url,
        "workers": workers,
        "generation": {"mode": "all", "max-examples": max_examples},
        # the coverage phase enumerates every optional filter operator: minutes on our schemas
        "phases": {"coverage": {"enabled": coverage}},
        "checks": {name: {"enabled": name in enabled} for name in builtin_check_names()},
        # full values in code samples; report.py masks the secrets it knows
        "output": {"sanitization": {"enabled": False}},
    }
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
    headers = {k: v[0] for k, v in request.headers.items()
               if k.lower() not in ("user-agent", "accept-encoding", "accept", "connection", "content-length")}
    return redact.curl(request.method, request.uri, headers, request.body or None)


def _fold(recorder, results: Results, redact: Redactor) -> None:
    for case_id, nodes in recorder.checks.items():
        case = recorder.cases[case_id].value
        operation = case.operation.label
        for node in nodes:
            if node.status == Status.SUCCESS:
                results.passed(operation, node.name)
            elif node.status == Status.FAILURE and node.failure_info is not None:
                if node.name == "negative_data_rejection" and reads_valid_as_a_form(case):
                    results.passed(operation, node.name)
                    continue
                failure = node.failure_info.failure
                response = recorder.find_response(case_id=case_id)
                results.failed(Finding(
                    check=node.name, operation=failure.operation or operation, title=failure.title,
                    message=redact(failure.message), curl=_curl(recorder, case_id, redact),
                    status=response.status_code if response is not None else None,
                    response=excerpt(response.content) if response is not None else ""))


def reads_valid_as_a_form(case: Any) -> bool:
    """Whether an "invalid" form body cannot be told from a valid one on the wire: a generated extra
    property named `a[b]` is sent as the field `a[b]=…`, which bracket notation reads as `a: {b: …}`,
    a declared filter. A target accepting it is right, so negative_data_rejection must not blame it."""
    if "form-urlencoded" not in (getattr(case, "media_type", None) or ""):
        return False

    def bracketed(value: Any) -> bool:
        if isinstance(value, dict):
            return any("[" in str(key) or "]" in str(key) or bracketed(item) for key, item in value.items())
        return isinstance(value, list) and any(bracketed(item) for item in value)

    return bracketed(getattr(case, "body", None))


def _error_shapes(recorder, dialect: Dialect, results: Results, redact: Redactor) -> None:
    """`error_shape` over every 4xx schemathesis provoked."""
    for case_id, interaction in recorder.interactions.items():
        response = interaction.response
        if response is None or not 400 <= response.status_code < 500:
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
        results.failed(Finding(check=ERROR_SHAPE, operation=operation,
                               title="Error body is not the vendor's error object",
                               message=problem, curl=_curl(recorder, case_id, redact), status=response.status_code,
                               response=excerpt(response.content)))


def _check_of(failure) -> str:
    return failure.checks[0] if getattr(failure, "checks", ()) else "run"


__all__ = ["ConfigError", "ERROR_SHAPE", "builtin_check_names", "run_builtin", "validate_config"]
