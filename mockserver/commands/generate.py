"""`mockserver generate`: the download's CSV without a server (fixtures, frontend work)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .. import argtypes
from ..data import ExportQuery, Recipes, iter_csv, load_model
from ..progress import Progress

if TYPE_CHECKING:  # the vendors, specs and validators are imported when the command runs, not for --help
    from ..spec import Spec
    from ..validation import Finding


def add_generate_parser(subparsers) -> None:
    parser = subparsers.add_parser("generate", help="write an export's CSV offline", description=__doc__)
    parser.add_argument(
        "exported_object",
        help="an exported object of the --spec (its export-rows.yaml lists them; an unknown one "
        "is answered with the known ones)",
    )
    parser.add_argument(
        "--spec",
        type=argtypes.text,
        metavar="VENDOR|DIR",
        help="whose rows to write: an installed vendor, or a folder of an OpenAPI document and its "
        "overlay (default: the installed vendor that exports the object)",
    )
    parser.add_argument(
        "--rows",
        type=argtypes.whole(0),
        default=100,
        help="rows in the data set before filtering (default %(default)s)",
    )
    parser.add_argument(
        "--fields", type=argtypes.text, help="comma-separated fields, in column order (default: the object's defaults)"
    )
    parser.add_argument("--order", type=argtypes.text, help="order value; write descending ones as --order=-created_at")
    parser.add_argument(
        "--filters", type=_filters, help='filters as JSON, e.g. \'{"status": {"conditions": {"$in": ["PAID"]}}}\''
    )
    parser.add_argument("--seed", type=argtypes.whole(), default=0, help="data seed (default %(default)s)")
    parser.add_argument(
        "--app-id", type=argtypes.text, default="app", help="app id whose data set to write (default %(default)s)"
    )
    parser.add_argument("--locale", type=argtypes.locale, default="en_US", help="Faker locale (default %(default)s)")
    parser.add_argument("--now", type=argtypes.number(), help="epoch seconds relative date filters read (default: now)")
    parser.add_argument("-o", "--output", type=argtypes.writable_file, help="file to write (default: standard output)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse what the server answers with an X-Mock-Warning (e.g. a filter on no field), "
        "as `serve --strict` does",
    )
    parser.set_defaults(run=run_generate, parser=parser)


def run_generate(args: argparse.Namespace) -> int:
    try:
        query = _query(args)
        spec, recipes = _spec(args.spec, query.exported_object)
        model = load_model(spec, recipes)
        model.check_recipes(spec.name)
        for finding in _findings(spec, model, query):  # the server's rules: X-Mock-Warning there, a warning here
            if args.strict:
                raise ValueError(finding.text())
            print(f"mockserver generate: warning: {finding.text()}", file=sys.stderr)
        chunks = iter_csv(
            model,
            query,
            seed=args.seed,
            app_id=args.app_id,
            locale=args.locale,
            now=args.now if args.now is not None else time.time(),
        )
        if query.filters:  # as on the server: the filters pick from the rows made, they do not make more
            print(
                f"mockserver generate: note: --filters keep the matching rows of the {query.rows} generated "
                "(--rows), so the file may have fewer",
                file=sys.stderr,
            )
    except ValueError as exc:  # an unknown object, field or order value for this --spec
        args.parser.error(str(exc))
    out = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:  # a bar on a terminal's stderr (silent otherwise); the total is an upper bound when filters drop rows
        with Progress("generate", total=query.rows, unit="rows") as progress:
            for chunk in chunks:
                out.write(chunk)
                progress.advance(chunk.count(b"\n"))
    finally:
        if args.output:
            out.close()
        else:
            out.flush()
    return 0


def _findings(spec, model, query: ExportQuery) -> list[Finding]:
    """The server's checks of these filters: its request validator (refuses an unknown operator, raising
    ValueError here) and its findings (an unknown filter field), so generate and serve agree."""
    from ..findings import filter_findings
    from ..validation import Invalid, RequestValidator

    if not query.filters:
        return []
    found = []
    try:
        create = spec.operation("create-export")
    except KeyError:  # a vendor without JSON export requests (Chargebee): only the data model's check
        create = None
    if create is not None:
        body = {"exported_object": query.exported_object, "parameters": {"filters": query.filters}}
        validator = RequestValidator.of(create)
        try:
            decoded, media = validator.check_body("application/json", json.dumps(body).encode())
        except Invalid as problem:
            raise ValueError(
                f"--filters: {problem.path.removeprefix('.parameters.filters')}: {problem.message}"
                if problem.path.startswith(".parameters.filters")
                else problem.message
            ) from None
        found += validator.findings(media, decoded)
    found += filter_findings(model.object(query.exported_object), query.filters, ".parameters.filters")
    return found


def _spec(name: str | None, exported_object: str) -> tuple[Spec, Recipes | None]:
    """The --spec (an installed vendor or a folder), or else the one installed vendor exporting the object;
    with the vendor's declared row recipes."""
    from ..registry import available
    from ..spec import load_document, load_spec

    installed = available()
    if name is not None:
        if name in installed:
            return load_spec(name, installed[name].schema_dir()), installed[name].data_recipes
        if Path(name).is_dir():
            return load_spec(Path(name).resolve().name, Path(name)), None
        raise ValueError(f"--spec {name!r} is neither an installed vendor ({', '.join(installed)}) nor a folder")
    documents = {
        vendor: load_document(cls.schema_dir()) for vendor, cls in installed.items() if cls.schema_dir().is_dir()
    }
    having = [
        vendor for vendor, document in documents.items() if exported_object in (document.get("x-export-rows") or {})
    ]
    if len(having) != 1:
        known = sorted({obj for document in documents.values() for obj in document.get("x-export-rows") or {}})
        raise ValueError(
            f"unknown exported object {exported_object!r} (known: {', '.join(known)})"
            if not having
            else f"{exported_object!r} is exported by {' and '.join(having)}: choose one with --spec"
        )
    vendor = installed[having[0]]
    return load_spec(having[0], vendor.schema_dir()), vendor.data_recipes


def _query(args: argparse.Namespace) -> ExportQuery:
    fields = tuple(f.strip() for f in args.fields.split(",") if f.strip()) if args.fields else ()
    return ExportQuery(args.exported_object, fields, order=args.order, filters=args.filters, rows=args.rows)


def _filters(text: str) -> dict:
    try:
        filters = json.loads(text)
    except ValueError as exc:
        raise argtypes.Bad(f"is not JSON: {exc}") from None
    if not isinstance(filters, dict):
        raise argtypes.Bad("must be a JSON object")
    return filters
