"""`mockserver contract`: check an implementation against the contract from a shell or CI."""

from __future__ import annotations

import argparse
import sys
import time

from .. import argtypes
from ..contract.known import bundled_contracts, default_contract
from ..contract.options import (
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_WORKERS,
    ONE_WORKER_NOTE,
    ContractOptions,
    ContractUsageError,
    split_names,
    threads_can_parse,
)


def add_contract_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "contract",
        help="check an implementation (or the mock) against the contract",
        description="Run schemathesis' built-in checks and our export checks against --base-url. "
        "Exit status: 0 when everything passes, 1 on failures, 2 on bad options.",
    )
    parser.add_argument(
        "--base-url", type=argtypes.http_url, help="where the implementation listens, e.g. http://127.0.0.1:8080"
    )
    recorded = parser.add_mutually_exclusive_group()
    recorded.add_argument(
        "--from-har",
        type=argtypes.text,
        metavar="FILE",
        help="check the exchanges of this HAR file instead of sending requests "
        "(browser devtools, a proxy, schemathesis --report har)",
    )
    recorded.add_argument(
        "--from-journal",
        type=argtypes.http_url,
        metavar="URL",
        help="check what a running mock journaled (its GET /__mock/requests) instead of sending requests",
    )
    parser.add_argument(
        "--spec",
        type=argtypes.text,
        default=default_contract(),
        help=f"bundled contract name ({', '.join(bundled_contracts())}) or a path to a schema file "
        "or folder "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--app-id",
        type=argtypes.text,
        help="the app id to test as (default: a fresh random app, which the mock accepts)",
    )
    parser.add_argument("--app-token", type=argtypes.text, help="that app's token")
    parser.add_argument(
        "--other-app",
        type=argtypes.pair,
        metavar="ID:TOKEN",
        help="a second app for tenant_isolation (default: a fresh random app)",
    )
    parser.add_argument(
        "--max-examples",
        type=argtypes.whole(1),
        default=DEFAULT_MAX_EXAMPLES,
        help="generated requests per operation and phase (default %(default)s)",
    )
    parser.add_argument(
        "--checks",
        type=argtypes.text,
        nargs="+",
        action="extend",
        metavar="CHECK",
        help="only these checks (ours and schemathesis' names; default: all); "
        "`--checks a,b`, `--checks a b` and `--checks a --checks b` are the same",
    )
    parser.add_argument(
        "--operation",
        type=argtypes.text,
        action="append",
        metavar="OPERATION_ID",
        dest="operations",
        help="let schemathesis test only this operation (repeatable; default: all)",
    )
    parser.add_argument("--junit", type=argtypes.writable_file, metavar="FILE", help="also write JUnit XML here")
    parser.add_argument("--seed", type=argtypes.whole(), help="seed for generated data, to repeat a run")
    parser.add_argument(
        "--workers",
        type=argtypes.whole(1),
        help=f"parallel schemathesis workers (default {DEFAULT_WORKERS}; always 1 on a Python whose "
        "threads cannot parse at once: 3.11 before 3.11.8, 3.12 before 3.12.2)",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="add schemathesis' coverage phase (exhaustive edge cases; takes minutes)",
    )
    parser.add_argument(
        "--poll-timeout",
        type=argtypes.number(above=0),
        default=30.0,
        help="seconds an export may take to finish (default %(default)s)",
    )
    parser.set_defaults(run=run_contract_command, parser=parser)


def run_contract_command(args: argparse.Namespace) -> int:
    from ..contract import report, runner  # schemathesis is imported here, not when the CLI starts
    from ..progress import Progress

    if args.from_har or args.from_journal:
        return _run_recorded(args, report)
    if not args.base_url:
        args.parser.error("--base-url is required (or check recorded traffic with --from-har or --from-journal)")
    try:
        other = args.other_app
        options = ContractOptions(
            base_url=args.base_url,
            spec=args.spec,
            app_id=args.app_id,
            app_token=args.app_token,
            other_app=other,
            max_examples=args.max_examples,
            checks=split_names(args.checks),
            seed=args.seed,
            workers=args.workers or DEFAULT_WORKERS,
            coverage=args.coverage,
            poll_timeout=args.poll_timeout,
            operations=args.operations,
        )
        if (args.workers or 1) > 1 and not threads_can_parse():  # asked for, but not to be had
            print(f"mockserver contract: note: {ONE_WORKER_NOTE}", file=sys.stderr)
        spec = runner.load_contract(options.spec)
        started = time.monotonic()
        with Progress("contract", unit="checks") as progress:
            results = runner.run_contract(options, progress=progress, spec=spec)
    except ContractUsageError as exc:  # what only the loaded contract can tell (checks, operations)
        args.parser.error(str(exc))
    seconds = time.monotonic() - started
    main, other = options.apps
    invented = {app.label: app.token for app, given in ((main, args.app_token), (other, args.other_app)) if not given}
    sys.stdout.write(report.render_text(results, base_url=options.base_url, seconds=seconds, invented=invented))
    return _finish(args, report, results, seconds)


def _run_recorded(args: argparse.Namespace, report) -> int:
    from ..contract import recorded, runner

    started = time.monotonic()
    source = args.from_har or args.from_journal
    try:
        spec = runner.load_contract(args.spec)
        exchanges = recorded.from_har(args.from_har) if args.from_har else recorded.from_journal(args.from_journal)
        results = recorded.check_recorded(spec, exchanges, split_names(args.checks))
    except ContractUsageError as exc:
        args.parser.error(str(exc))
    seconds = time.monotonic() - started
    sys.stdout.write(report.render_text(results, base_url=source, seconds=seconds, title="Recorded traffic from"))
    return _finish(args, report, results, seconds)


def _finish(args: argparse.Namespace, report, results, seconds: float) -> int:
    """JUnit when asked for, then the exit status: 0 passed, 1 failed, 2 the report could not be written."""
    if args.junit:
        try:
            report.write_junit(results, args.junit, seconds=seconds)
        except OSError as exc:
            print(f"mockserver contract: cannot write {args.junit}: {exc.strerror}", file=sys.stderr)
            return 2
    return 0 if results.ok else 1
