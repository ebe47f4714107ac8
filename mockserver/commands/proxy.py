"""`mockserver proxy`: forward to a real implementation, checking the contract live."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .. import argtypes, logs, registry
from ..app import Settings


def add_proxy_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "proxy",
        help="forward to a real implementation, validating each exchange against the contract",
        description="Forward every request to --upstream and its answer back, adding one X-Mock-Violation "
        "header per way the request or the answer breaks the contract; journal every exchange "
        "(GET /__mock/requests).",
    )
    defaults = Settings()
    parser.add_argument(
        "--upstream",
        type=argtypes.http_url,
        required=True,
        metavar="URL",
        help="the implementation to forward to, e.g. a vendor sandbox or a staging server",
    )
    parser.add_argument(
        "--spec",
        choices=tuple(registry.available()),
        action="append",
        help="the contract to check against (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--host", type=argtypes.host, default=defaults.host, help="address to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=argtypes.PORT, default=defaults.port, help="port, 0 for any free one (default %(default)s)"
    )
    parser.add_argument(
        "--record",
        type=argtypes.creatable_dir,
        metavar="DIR",
        help="write the orders the upstream returns as fixtures for `mockserver serve --fixtures DIR`",
    )
    parser.add_argument(
        "--journal-size",
        type=argtypes.whole(1),
        default=defaults.journal_size,
        metavar="N",
        help="exchanges kept for GET /__mock/requests (default %(default)s)",
    )
    parser.add_argument(
        "--cors-origin",
        type=argtypes.origin,
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow this browser origin (repeatable; * for any; default: any localhost origin)",
    )
    parser.add_argument(
        "--allow-host",
        type=argtypes.allowed_host,
        action="append",
        default=[],
        metavar="NAME",
        help="let the admin API (/__mock/) answer requests for this Host name too (repeatable; * for "
        "any; default: localhost, 127.x, [::1] and --host)",
    )
    parser.add_argument(
        "--admin-token",
        type=argtypes.text,
        metavar="TOKEN",
        help="require Authorization: Bearer TOKEN on every admin API call",
    )
    parser.set_defaults(run=_proxy, parser=parser)


def _proxy(args: argparse.Namespace) -> int:
    from ..proxy import Forwarder
    from ..serving import cannot_listen, serve_until_stopped  # the one way of listening until a signal
    from ..vendors.base import Vendor

    try:
        settings = Settings(
            host=args.host,
            port=args.port,
            journal_size=args.journal_size,
            cors_origins=args.cors_origin,
            allow_hosts=args.allow_host,
            admin_token=args.admin_token,
        )
        settings.vendors = tuple(dict.fromkeys(args.spec)) if args.spec else None
        vendors = registry.build(settings)
        forwarder = Forwarder(args.upstream)
        if args.record:
            recorders = [r for r in (v.fixture_recorder(args.record) for v in vendors) if r is not None]
            if not recorders:
                takers = [
                    name
                    for name, vendor in registry.available().items()
                    if vendor.fixture_recorder is not Vendor.fixture_recorder
                ]
                raise ValueError(
                    f"--record writes fixtures of {', '.join(takers) or 'no vendor'}; add --spec for one of them"
                )
            forwarder.observers.extend(recorders)
    except (ValueError, OSError) as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    from ..control.exposure import warn

    logs.configure("%(asctime)s %(name)s %(levelname)s %(message)s")  # escaped, floods summarised
    warn(settings.host, settings.admin_token)
    try:
        asyncio.run(serve_until_stopped(settings, upstream=args.upstream, vendors=vendors, proxy=forwarder))
    except OSError as exc:
        return cannot_listen("proxy", settings, exc)
    return 0
