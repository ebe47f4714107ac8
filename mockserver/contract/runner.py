"""One contract run: load the contract, run our checks, then schemathesis'.

Our checks go first: they take a few seconds and find the semantic breaks
(lifecycle, CSV, tenants) that a person usually wants to read first. Not
beside schemathesis, though their waits would hide in its generation time:
it fills path parameters with ids seen in earlier responses, and deleted the
exports our checks were polling (one run in two, measured).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
import yaml

from .. import registry
from ..documents import is_data_folder
from ..progress import Progress
from ..spec import Spec, load_spec, schemas_dir, spec_from_document
from . import builtin, logs
from .checks import CHECKS, WHOLE_RUN, Context, Skip, run_check
from .foreign import as_openapi3
from .http import Redactor, label
from .known import bundled_contracts, default_contract, dialect_of, no_dialect_reason
from .options import ContractOptions, ContractUsageError
from .results import Results


def load_contract(reference: str | None) -> Spec:
    """An installed vendor (`voucherify`, or one from another package: its schema folder), a schema folder
    like schemas/<vendor>/ or a folder of an OpenAPI document and its overlay, or one OpenAPI file
    (None: the default dialect's bundled contract)."""
    if reference is None:
        reference = default_contract()
        if reference is None:
            raise ContractUsageError("no vendor with a contract dialect is installed; pass --spec")
    path = Path(reference)
    installed = registry.available()
    try:
        if "/" not in reference and reference in installed:
            return load_spec(reference, installed[reference].schema_dir())
        if "/" not in reference and (schemas_dir() / reference).is_dir():
            return load_spec(reference)
        if path.is_dir():
            if is_data_folder(path):  # a vendor of data: the dialect its annotations state
                vendor = registry.folder(reference)
                spec = load_spec(vendor.name, directory=path)
                spec.dialect = vendor.contract
                return spec
            return load_spec(path.name, directory=path)
        if path.is_file():
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
                raise ValueError("not an OpenAPI or Swagger document")
            # schemathesis reads `document` as it is; our checks read its OpenAPI 3 shape
            return spec_from_document(path.stem, document, as_openapi3(document))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        raise ContractUsageError(f"cannot load the contract {reference!r}: {exc}") from None
    known = bundled_contracts()
    raise ContractUsageError(
        f"--spec {reference!r} is neither a bundled contract ({', '.join(known)}) nor a schema file or folder"
    )


def available_checks(spec: Spec) -> list[str]:
    """Our checks and every schemathesis built-in check: each appears in every report, run or SKIPPED with
    the reason (ours, on a contract whose dialect the kit does not know: `no_dialect_reason`)."""
    ours = list(CHECKS)
    return ours + [name for name in builtin.builtin_check_names() if name not in ours]


def run_contract(options: ContractOptions, progress: Progress | None = None, spec: Spec | None = None) -> Results:
    """Run every selected check against `options.base_url` and return what was found (repeated warnings
    logged meanwhile, e.g. by a mock in this process, summarised: logs.py)."""
    with logs.summarised():
        return _run(options, progress, spec)


def _run(options: ContractOptions, progress: Progress | None, spec: Spec | None) -> Results:
    progress = progress or Progress("contract", enabled=False)
    spec = spec or load_contract(options.spec)
    selected = _selected(options.checks, available_checks(spec))
    unknown = set(options.operations or ()) - {op.operation_id for op in spec.operations}
    if unknown:
        raise ContractUsageError(f"unknown operation(s) {', '.join(sorted(unknown))}")
    dialect = dialect_of(spec)
    main, other = options.apps
    redact = Redactor()
    redact.add(main.token, main.label)
    redact.add(other.token, other.label)
    results = Results()
    health = target_health(options.base_url) if dialect is not None else {}
    trusting = dialect is not None and target_trusts_new_credentials(options.base_url, dialect.name, health)
    theirs = [name for name in selected if name not in CHECKS]
    if trusting and TRUST_SENSITIVE in theirs:
        theirs.remove(TRUST_SENSITIVE)
        for operation in (op for op in spec.operations if op.secured):
            results.skip(label(operation), TRUST_SENSITIVE, TRUSTING_REASON)
    if dialect is not None and not options.checks:  # the defaults: not what the vendor itself would fail
        for name, reason in dialect.unstated_rules.items():
            if name in theirs:
                theirs.remove(name)
                for operation in spec.operations:
                    results.skip(label(operation), name, reason)
    settings: dict[str, Any] = dict(
        base_url=options.base_url,
        app=main,
        dialect=dialect,
        max_examples=options.max_examples,
        seed=options.seed,
        workers=options.workers,
        coverage=options.coverage,
        checks=theirs,
    )
    try:
        builtin.validate_config(**settings)
    except builtin.ConfigError as exc:
        raise ContractUsageError(f"schemathesis refuses these options: {exc}") from None
    ours = [name for name in CHECKS if name in selected]
    if dialect is None:
        for name in ours:
            results.skip(WHOLE_RUN, name, no_dialect_reason())
    else:
        progress.grow(len(ours))
        ctx = Context(
            spec=spec,
            dialect=dialect,
            base_url=options.base_url,
            app=main,
            other=other,
            results=results,
            redact=redact,
            poll_timeout=options.poll_timeout,
            poll_interval=poll_interval(health),
            parallel=max(4, options.workers * 4),
            judge_errors="error_shape" in selected,
            trusting=trusting,
            other_given=options.other_app is not None,
        )
        if _credentials_work(ctx, results):
            for name in ours:
                run_check(name, CHECKS[name], ctx)
                progress.advance(detail=name)
    error_shape = dialect is not None and "error_shape" in selected  # judged on schemathesis' answers too
    if not results.errors and (settings["checks"] or error_shape):
        builtin.run_builtin(
            spec,
            results=results,
            redact=redact,
            progress=progress,
            error_shape=error_shape,
            operations=options.operations,
            **settings,
        )
    return unreported(results, selected)


def unreported(results: Results, selected: list[str]) -> Results:
    """Every selected check appears in the report: one that neither ran nor was skipped is SKIPPED with why."""
    seen = {check for _, check in results.pairs()}
    reason = (
        "not run: the run stopped (see the ERROR below)"
        if results.errors
        else "no operation of this contract gave it anything to check in this run"
    )
    for name in selected:
        if name not in seen:
            results.skip(WHOLE_RUN, name, reason)
    return results


def connection_problem(exc: BaseException) -> str:
    """The operating system's words for a failed connection ("connection refused", "name or service not
    known"), not the three nested exceptions requests wraps them in."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return found.group(1).strip().lower() if found else "the connection failed"


TRUST_SENSITIVE = "ignored_auth"  # schemathesis' check that invented credentials are refused
TRUSTING_REASON = (
    "the target is a mock that accepts new credentials on first use; pin them to check this "
    "(mockserver serve --app ID:KEY, then --app-id ID --app-token KEY)"
)


def target_health(base_url: str) -> dict[str, Any]:
    """A mock's /__mock/health (whom it trusts, how its exports move); {} from a real API, which has no such page."""
    try:
        from ..control.exposure import admin_headers  # MOCKSERVER_ADMIN_TOKEN, for a mock started with one

        reply = requests.get(
            urljoin(base_url, "/__mock/health"),
            headers=admin_headers(),  # at the root
            timeout=5,
        )
        health = reply.json() if reply.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return {}
    return health if isinstance(health, dict) else {}


def target_trusts_new_credentials(base_url: str, vendor: str, health: dict[str, Any] | None = None) -> bool:
    """Whether the target is a mock that accepts unknown credentials (`health`: its /__mock/health, if read)."""
    trust = (target_health(base_url) if health is None else health).get("trusts_new_credentials")
    return isinstance(trust, dict) and trust.get(vendor) is True


STEPPED_LIFECYCLES = ("poll", "instant")  # the mock's lifecycles whose exports move on a read, not with time
STEPPED_POLL_INTERVAL = 0.01  # seconds between reads there: nothing to wait for, but no busy loop either


def poll_interval(health: dict[str, Any]) -> float:
    """Seconds between reads of an unfinished export: next to none against a mock whose exports move on each
    read (its health says `poll` or `instant`), else the pace a real API needs (Context's default)."""
    return STEPPED_POLL_INTERVAL if health.get("lifecycle") in STEPPED_LIFECYCLES else Context.poll_interval


def _selected(requested: list[str] | None, available: list[str]) -> list[str]:
    if not requested:
        return available
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise ContractUsageError(f"unknown check(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    return list(dict.fromkeys(requested))


def _credentials_work(ctx: Context, results: Results) -> bool:
    """A first authenticated call; it also binds a fresh app id to its token on the mock."""
    try:
        api = ctx.exports()
        operation, path = (api.list, {}) if api.list is not None else (api.get, api.path(ctx.protocol.unknown_id))
    except Skip:  # no exports in this contract: any secured GET without path parameters
        operation, path = next(
            (
                (op, {})
                for op in ctx.spec.operations
                if op.method == "GET" and op.secured and not any(p.location == "path" for p in op.parameters)
            ),
            (None, {}),
        )
    if operation is None:
        return True
    try:
        hello = ctx.client().call(operation, path=path)
    except requests.ConnectionError as exc:  # nothing listens there: a bad --base-url, said in one line
        raise ContractUsageError(f"cannot reach {ctx.base_url}: {connection_problem(exc)}; is it running?") from None
    except Exception as exc:  # noqa: BLE001 - a target that answers nonsense, reported as a run error
        results.error(f"cannot reach {ctx.base_url}: {exc}")
        return False
    if hello.status in (401, 403):
        results.error(f"the app credentials were refused ({hello.status}); check --app-id and --app-token")
        return False
    return True
