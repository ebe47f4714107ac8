"""The `mockserver` command: serve the mock, generate CSVs offline."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from . import tuning
from .app import Settings, create_app
from .control.config import config_args
from .fixtures import FixtureError
from .lifecycle import MODES
from .serving import Runner


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_serve_parser(commands)
    from .data.cli import add_generate_parser

    add_generate_parser(commands)
    from .contract.cli import add_contract_parser

    add_contract_parser(commands)
    from .proxy.cli import add_proxy_parser

    add_proxy_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "serve":  # the config file's keys become flags before the command line's
        try:
            extra = config_args(args.config, set(commands.choices["serve"]._option_string_actions))
        except ValueError as exc:
            print(f"mockserver: {exc}", file=sys.stderr)
            return 2
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser.parse_args(["serve", *extra, *argv[argv.index("serve") + 1:]])
    return args.run(args)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mockserver")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _add_serve_parser(commands) -> None:
    serve = commands.add_parser("serve", help="run the mock server")
    defaults = Settings()
    serve.add_argument("--host", default=defaults.host, help="address to listen on (default %(default)s)")
    serve.add_argument("--port", type=int, default=defaults.port, help="port, 0 for any free one (default %(default)s)")
    serve.add_argument("--seed", type=int, default=defaults.seed, help="seed for ids and data (default %(default)s)")
    serve.add_argument("--lifecycle", choices=MODES, default=defaults.lifecycle,
                       help="what moves exports on: time, poll (one step per GET) or instant (default %(default)s)")
    serve.add_argument("--scheduled-seconds", type=float, default=defaults.scheduled_seconds,
                       help="time mode: seconds an export stays SCHEDULED (default %(default)s)")
    serve.add_argument("--running-seconds", type=float, default=defaults.running_seconds,
                       help="time mode: seconds an export stays IN_PROGRESS (default %(default)s)")
    serve.add_argument("--rows", type=int, default=defaults.rows,
                       help="rows in each synthetic data set (default %(default)s)")
    serve.add_argument("--locale", default=defaults.locale, help="Faker locale of the data (default %(default)s)")
    serve.add_argument("--app", action="append", default=[], metavar="ID:TOKEN",
                       help="pin an app's credentials (repeatable); other app ids are bound to their first token")
    serve.add_argument("--chargebee-key", action="append", default=[], metavar="KEY",
                       help="pin a Chargebee API key (repeatable); other keys then get 401 (default: any key works)")
    serve.add_argument("--config", metavar="FILE",
                       help="read these options from a YAML file (default: ./mockserver.yaml when it exists)")
    serve.add_argument("--stateless", action="store_true",
                       help="answer every request from the spec's examples (Prism-style); store nothing")
    serve.add_argument("--state", metavar="FILE|URL",
                       help="keep what clients create in this SQLite file across restarts, or in Redis: "
                            "redis://host:port/db (replicas on several hosts share it)")
    serve.add_argument("--workers", type=int, default=defaults.workers, metavar="N",
                       help="serve with N processes on one port, sharing the store (--state, or a temporary "
                            "SQLite file) (default %(default)s)")
    serve.add_argument("--max-exports", type=int, default=defaults.max_exports, metavar="N",
                       help="exports kept per app; creating one more deletes the app's oldest (default %(default)s)")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                       help="allow this browser origin (repeatable; * for any; default: any localhost origin)")
    serve.add_argument("--latency", metavar="MS", help="delay every answer: 50-200 (random in range) or 100")
    serve.add_argument("--error-rate", type=float, default=defaults.error_rate, metavar="SHARE",
                       help="share of requests (0-1) that fail with a 500 or 503 (default %(default)s)")
    serve.add_argument("--rate-limit", metavar="N/s", help="requests per second per app before 429 + Retry-After")
    serve.add_argument("--journal-size", type=int, default=defaults.journal_size, metavar="N",
                       help="requests kept for GET /__mock/requests (default %(default)s)")
    serve.add_argument("--fixtures", metavar="DIR",
                       help="store the data sets (customers, campaigns, vouchers, orders) of DIR's YAML/JSON files")
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    try:
        apps = dict(_app_pair(item) for item in args.app)
        settings = Settings(host=args.host, port=args.port, seed=args.seed, lifecycle=args.lifecycle,
                            scheduled_seconds=args.scheduled_seconds, running_seconds=args.running_seconds,
                            rows=args.rows, locale=args.locale, apps=apps, stateless=args.stateless,
                            state=args.state, cors_origins=args.cors_origin, latency=args.latency,
                            error_rate=args.error_rate, rate_limit=args.rate_limit, journal_size=args.journal_size,
                            fixtures=args.fixtures, chargebee_keys=args.chargebee_key, workers=args.workers,
                            max_exports=args.max_exports)
    except ValueError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    pid = " [%(process)d]" if settings.workers > 1 else ""  # which worker said it
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(name)s{pid} %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        if settings.workers > 1:
            from . import workers

            return workers.serve(settings)
        asyncio.run(_run(settings))
    except (FixtureError, ValueError) as exc:  # ValueError: e.g. an unreachable Redis
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mockserver: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def _app_pair(item: str) -> tuple[str, str]:
    app_id, sep, token = item.partition(":")
    if not sep or not app_id or not token:
        raise ValueError(f"--app takes ID:TOKEN, not {item!r}")
    return app_id, token


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
