"""The `mockserver` command: serve the mock, generate CSVs offline."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from . import argtypes, options
from .errors import FixtureError
from .options import Settings


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
    args = parser.parse_args(argv)
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
    options.add_arguments(serve, options.SERVE)
    serve.add_argument("--config", type=argtypes.existing_file, metavar="FILE",
                       help="read these options from a YAML file (default: ./mockserver.yaml when it exists)")
    for vendor, own in options.vendor_options().items():
        options.add_arguments(serve, own, group=vendor)
    serve.set_defaults(run=_serve, parser=serve)


def _settings(args: argparse.Namespace) -> options.Settings:
    """The config file's values under the command line's; one line and exit 2 for a bad one."""
    groups = {None: options.SERVE, **options.vendor_options()}
    path, data = options.read_config(getattr(args, "config", None))
    config = options.config_values(path, data, groups)
    settings = options.settings_from(groups, config, args)
    settings.config_file = str(path) if path is not None else None
    return settings


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except ValueError as exc:  # a bad config file value, or options that are fine alone but not together
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
    from .app import MOUNTS, create_app  # the server's imports (aiohttp, the data engine) only for `serve`
    from .control import index
    from .serving import listen

    app = create_app(settings, **create)
    runner = await listen(app, settings.host, settings.port, settle=True)
    port = runner.addresses[0][1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    about = index.describe(app[MOUNTS].vendors, settings, f"http://{host}:{port}")
    print("\n".join(index.banner(about)), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    print("mockserver stopping", flush=True)
    await runner.cleanup()
