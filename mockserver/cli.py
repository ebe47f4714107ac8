"""The `mockserver` command: serve the mock, generate CSVs offline."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from . import argtypes, tuning
from .app import Settings, create_app
from .control import faults
from .control.config import config_args, config_error
from .fixtures import FixtureError
from .lifecycle import MODES
from .serving import Runner


def main(argv: Sequence[str] | None = None) -> int:
    """The exit status: 0, 1 (the run found failures) or 2 (bad options, said in one line on stderr)."""
    try:
        return _main(argv)
    except SystemExit as exc:  # argparse's way out, as a status like every other
        if not exc.code:
            raise  # --help, --version: argparse's own exit stays as callers expect it
        return exc.code if isinstance(exc.code, int) else 2


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    args = parser.parse_args(argv)
    if args.command == "serve":  # the config file's keys become flags before the command line's
        serve = commands.choices["serve"]
        try:
            extra = config_args(args.config, set(serve._option_string_actions))
        except ValueError as exc:
            serve.error(str(exc))
        _check_config(serve, extra, args.config)
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(["serve", *extra, *argv[argv.index("serve") + 1:]])
    return args.run(args)


def build_parser() -> argparse.ArgumentParser:
    """The `mockserver` command line: each sub-command's options, checked while parsing."""
    parser = argtypes.Parser(prog="mockserver", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_serve_parser(commands)
    from .data.cli import add_generate_parser

    add_generate_parser(commands)
    from .contract.cli import add_contract_parser

    add_contract_parser(commands)
    from .proxy.cli import add_proxy_parser

    add_proxy_parser(commands)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mockserver")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _add_serve_parser(commands) -> None:
    serve = commands.add_parser("serve", help="run the mock server")
    defaults = Settings()
    serve.add_argument("--host", type=argtypes.host, default=defaults.host,
                       help="address to listen on (default %(default)s)")
    serve.add_argument("--port", type=argtypes.PORT, default=defaults.port,
                       help="port, 0 for any free one (default %(default)s)")
    serve.add_argument("--seed", type=argtypes.whole(), default=defaults.seed,
                       help="seed for ids and data (default %(default)s)")
    serve.add_argument("--lifecycle", choices=MODES, default=defaults.lifecycle,
                       help="what moves exports on: time, poll (one step per GET) or instant (default %(default)s)")
    serve.add_argument("--scheduled-seconds", type=argtypes.number(0), default=defaults.scheduled_seconds,
                       help="time mode: seconds an export stays SCHEDULED (default %(default)s)")
    serve.add_argument("--running-seconds", type=argtypes.number(0), default=defaults.running_seconds,
                       help="time mode: seconds an export stays IN_PROGRESS (default %(default)s)")
    serve.add_argument("--rows", type=argtypes.whole(0), default=defaults.rows,
                       help="rows in each synthetic data set (default %(default)s)")
    serve.add_argument("--locale", type=argtypes.locale, default=defaults.locale,
                       help="Faker locale of the data (default %(default)s)")
    serve.add_argument("--app", type=argtypes.pair, action="append", default=[], metavar="ID:TOKEN",
                       help="pin an app's credentials (repeatable); other app ids are bound to their first token")
    serve.add_argument("--chargebee-key", type=argtypes.text, action="append", default=[], metavar="KEY",
                       help="pin a Chargebee API key (repeatable); other keys then get 401 (default: any key works)")
    serve.add_argument("--config", type=argtypes.existing_file, metavar="FILE",
                       help="read these options from a YAML file (default: ./mockserver.yaml when it exists)")
    serve.add_argument("--stateless", action="store_true",
                       help="answer every request from the spec's examples (Prism-style); store nothing")
    serve.add_argument("--state", type=argtypes.state, metavar="FILE|URL",
                       help="keep what clients create in this SQLite file across restarts, or in Redis: "
                            "redis://host:port/db (replicas on several hosts share it)")
    serve.add_argument("--workers", type=argtypes.whole(1), default=defaults.workers, metavar="N",
                       help="serve with N processes on one port, sharing the store (--state, or a temporary "
                            "SQLite file) (default %(default)s)")
    serve.add_argument("--max-exports", type=argtypes.whole(1), default=defaults.max_exports, metavar="N",
                       help="exports kept per app; creating one more deletes the app's oldest (default %(default)s)")
    serve.add_argument("--cors-origin", type=argtypes.origin, action="append", default=[], metavar="ORIGIN",
                       help="allow this browser origin (repeatable; * for any; default: any localhost origin)")
    serve.add_argument("--latency", type=argtypes.from_parser(faults.parse_latency), metavar="MS",
                       help="delay every answer: 50-200 (random in range) or 100")
    serve.add_argument("--error-rate", type=argtypes.number(0, 1), default=defaults.error_rate, metavar="SHARE",
                       help="share of requests (0-1) that fail with a 500 or 503 (default %(default)s)")
    serve.add_argument("--rate-limit", type=argtypes.from_parser(faults.parse_rate_limit), metavar="N/s",
                       help="requests per second per app before 429 + Retry-After")
    serve.add_argument("--journal-size", type=argtypes.whole(1), default=defaults.journal_size, metavar="N",
                       help="requests kept for GET /__mock/requests (default %(default)s)")
    serve.add_argument("--fixtures", type=argtypes.existing_dir, metavar="DIR",
                       help="store the data sets (customers, campaigns, vouchers, orders) of DIR's YAML/JSON files")
    serve.add_argument("--strict", action="store_true",
                       help="refuse (400, in the vendor's error shape) what is otherwise answered with an "
                            "X-Mock-Warning header: unknown properties and filter fields, coerced values")
    serve.set_defaults(run=_serve, parser=serve)


def _check_config(serve: argparse.ArgumentParser, extra: list[str], path: str | None) -> None:
    """The config file's values alone, so a bad one is reported by its key and file."""
    if not extra:
        return

    def refuse(message: str) -> None:
        raise _BadValue(message)

    serve.error = refuse  # type: ignore[method-assign] # for this parse only: see the finally
    try:
        serve.parse_args(extra, namespace=argparse.Namespace())
        problem = None
    except _BadValue as exc:
        problem = str(exc)
    finally:
        del serve.error
    if problem:
        serve.error(config_error(path, problem))


class _BadValue(Exception):
    pass


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = Settings(host=args.host, port=args.port, seed=args.seed, lifecycle=args.lifecycle,
                            scheduled_seconds=args.scheduled_seconds, running_seconds=args.running_seconds,
                            rows=args.rows, locale=args.locale, apps=dict(args.app), stateless=args.stateless,
                            state=args.state, cors_origins=args.cors_origin, latency=args.latency,
                            error_rate=args.error_rate, rate_limit=args.rate_limit, journal_size=args.journal_size,
                            fixtures=args.fixtures, chargebee_keys=args.chargebee_key, workers=args.workers,
                            max_exports=args.max_exports, strict=args.strict)
    except ValueError as exc:  # options that are fine alone but not together
        args.parser.error(str(exc))
    pid = " [%(process)d]" if settings.workers > 1 else ""  # which worker said it
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(name)s{pid} %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        if settings.workers > 1:
            from . import workers

            return workers.serve(settings)
        asyncio.run(_run(settings))
    except (FixtureError, ValueError) as exc:  # ValueError: e.g. an unreachable Redis
        print(f"mockserver serve: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mockserver: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


async def _run(settings: Settings, **create) -> None:
    runner = Runner(create_app(settings, **create))  # HTTP-level errors in the vendor's shape too
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    tuning.settle_heap()  # start-up's objects out of the collector's way: steadier answers
    port = runner.addresses[0][1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"mockserver listening on http://{host}:{port} (lifecycle {settings.lifecycle}, seed {settings.seed})",
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    print("mockserver stopping", flush=True)
    await runner.cleanup()
