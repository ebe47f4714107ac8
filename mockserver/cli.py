"""The `mockserver` command: serve the mock, check a contract, proxy a real API, generate CSVs offline."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import argtypes, logs, tuning

if TYPE_CHECKING:
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
    if argv is None:  # the process is the command (not a test or a program calling main): its malloc tuned
        tuning.one_malloc_arena()  # before any thread starts
    argv = list(sys.argv[1:] if argv is None else argv)
    collecting = tuning.starting()  # no garbage collection while the command's modules load
    try:
        parser = build_parser(_command_of(argv))
        args, extras = parser.parse_known_args(argv)
        if extras:  # said by the command's own parser, with the option it most likely meant
            getattr(args, "parser", parser).error(argtypes.unrecognized(extras, getattr(args, "parser", parser)))
        if collecting and args.run is not _serve:  # serve collects once it listens (tuning.settle_heap)
            gc.enable()
        return args.run(args)
    finally:
        if collecting:
            gc.enable()


def _command_of(argv: Sequence[str]) -> str:
    """The command named (the first word that is not an option: the top level's options take no value);
    "" for none (`mockserver --help`)."""
    return next((word for word in argv if not word.startswith("-")), "")


def _add_generate(commands) -> None:
    from .commands.generate import add_generate_parser

    add_generate_parser(commands)


def _add_contract(commands) -> None:
    from .commands.contract import add_contract_parser

    add_contract_parser(commands)


def _add_proxy(commands) -> None:
    from .commands.proxy import add_proxy_parser

    add_proxy_parser(commands)


# command → (its line in `mockserver --help`, what adds its parser). A command's options, and the
# vendors and engines they name, are loaded only when that command runs: `mockserver --help` and
# `--version` import none of them (tests/test_cli_errors.py keeps these lines equal to the parsers' own)
COMMANDS: dict[str, tuple[str, Callable]] = {
    "serve": ("run the mock server", lambda commands: _add_serve_parser(commands)),
    "contract": ("check an implementation (or the mock) against the contract", _add_contract),
    "proxy": ("forward to a real implementation, validating each exchange against the contract", _add_proxy),
    "generate": ("write an export's CSV offline", _add_generate),
    "bundle": ("write a vendor's OpenAPI document as one file (only local $refs)", lambda c: _add_bundle(c)),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `mockserver` command line, with `command`'s options checked while parsing (None: every
    command's, as tests want them; another name: only a line for each in the help)."""
    parser = argtypes.Parser(prog="mockserver", description=__doc__)
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")
    for name, (line, add) in COMMANDS.items():
        if command is None or command == name:
            add(commands)
        else:
            commands.add_parser(name, help=line, add_help=False)
    return parser


class _Version(argparse.Action):
    """`--version`, reading the installed metadata only when asked (importlib.metadata is not free)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"{parser.prog} {_version()}")  # on stdout, as argparse's own version action does
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mockserver")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _add_serve_parser(commands) -> None:
    from . import options, registry

    serve = commands.add_parser("serve", help="run the mock server")
    options.add_arguments(serve, registry.serve_options())
    serve.add_argument(
        "--config",
        type=argtypes.existing_file,
        metavar="FILE",
        help="read these options from a YAML file (default: ./mockserver.yaml when it exists)",
    )
    for vendor, own in registry.vendor_options().items():
        options.add_arguments(serve, own, group=vendor)
    serve.set_defaults(run=_serve, parser=serve)


def _add_bundle(commands) -> None:
    bundle = commands.add_parser(
        "bundle",
        help=COMMANDS["bundle"][0],
        description=(
            "Write a vendor's OpenAPI document as one file: the files of its folder bundled (only local $refs), "
            "its overlays applied; what GET /__mock/openapi serves."
        ),
    )
    bundle.add_argument(
        "vendor",
        type=argtypes.text,
        metavar="VENDOR|DIR",
        help="an installed vendor (mockserver serve --help lists them) or a folder of documents",
    )
    bundle.add_argument(
        "-o", "--output", type=argtypes.writable_file, metavar="FILE", help="write here (default: standard output)"
    )
    bundle.add_argument("--format", choices=("yaml", "json"), help="default: json when FILE ends in .json, else yaml")
    bundle.set_defaults(run=_bundle, parser=bundle)


def _bundle(args: argparse.Namespace) -> int:
    import json

    import yaml

    from .documents import DocumentError, load_document
    from .registry import available

    installed = available()
    if args.vendor in installed:
        folder = installed[args.vendor].schema_dir()
    elif Path(args.vendor).is_dir():
        folder = Path(args.vendor)
    else:
        args.parser.error(f"{args.vendor!r} is neither an installed vendor ({', '.join(installed)}) nor a folder")
    try:
        document = load_document(folder)
    except DocumentError as exc:
        print(f"mockserver bundle: error: {exc}", file=sys.stderr)
        return 2
    form = args.format or ("json" if (args.output or "").endswith(".json") else "yaml")
    if form == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        dumper = type("Dumper", (yaml.SafeDumper,), {"ignore_aliases": lambda self, data: True})
        text = yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    """The config file's values under the command line's; one line and exit 2 for a bad one."""
    from . import options, registry

    groups = {None: registry.serve_options(), **registry.vendor_options()}
    path, data = options.read_config(getattr(args, "config", None))
    config = options.config_values(path, data, groups)
    settings = options.settings_from(groups, config, args)
    settings.config_file = str(path) if path is not None else None
    if settings.admin_token is None:  # kept out of `ps` when given through the environment
        from .control.exposure import TOKEN_VARIABLE

        settings.admin_token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    return settings


def _serve(args: argparse.Namespace) -> int:
    from .errors import FixtureError

    try:
        settings = _settings(args)
    except ValueError as exc:  # a bad config file value, or options that are fine alone but not together
        args.parser.error(str(exc))
    if settings.tls:  # before any worker starts: they all load this CA
        from . import tls

        try:
            settings.tls_dir = str(tls.prepare(settings.tls_dir).parent)
        except ValueError as exc:
            print(f"mockserver serve: error: {exc}", file=sys.stderr)
            return 2
        print(
            f"mockserver: HTTPS certificate authority {Path(settings.tls_dir, tls.CA_FILE)} "
            "(trust this file in clients: docs/sdk-clients.md)",
            flush=True,
        )
    pid = " [%(process)d]" if settings.workers > 1 else ""  # which worker said it
    logs.configure(f"%(asctime)s %(name)s{pid} %(levelname)s %(message)s")  # escaped, floods summarised
    from .control.exposure import warn  # aiohttp loads only for `serve`

    warn(settings.host, settings.admin_token)
    from .serving import cannot_listen, serve_until_stopped

    try:
        if settings.workers > 1:
            from . import workers

            return workers.serve(settings)
        asyncio.run(serve_until_stopped(settings))
    except (FixtureError, ValueError) as exc:  # ValueError: e.g. an unreachable Redis
        print(f"mockserver serve: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        return cannot_listen("serve", settings, exc)
    return 0
