"""Which vendors exist: the entry-point group `mockserver.vendors`.

The bundled vendors register there the same way a third party's package
does (pyproject.toml, `[project.entry-points."mockserver.vendors"]`), so
nothing in the shared code lists them; a bundled schema folder that holds an
overlay is a vendor of data (mockserver.vendors.openapi) and needs no entry. A vendor whose entry point cannot be
loaded is reported by name (logged once, and refused when asked for), never
as a traceback.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import vendors as vendors_package
from .documents import DocumentError, is_data_folder
from .options import SERVE, SPEC_KEY, Option
from .spec import schemas_dir
from .vendors.base import Vendor
from .vendors.openapi import AnnotationError, folder_vendor

if TYPE_CHECKING:
    from .options import Settings

GROUP = "mockserver.vendors"
log = logging.getLogger("mockserver")


class UnknownVendor(ValueError):
    """A vendor name nobody registered, or whose entry point is broken; the message says which."""


@cache
def _scan() -> tuple[dict[str, type[Vendor]], dict[str, str]]:
    found: dict[str, type[Vendor]] = {}
    broken: dict[str, str] = {}
    for point in entry_points(group=GROUP):
        try:
            vendor = point.load()
            if not (isinstance(vendor, type) and issubclass(vendor, Vendor)):
                raise TypeError(f"{point.value} is not a mockserver.vendors.base.Vendor subclass")
            if vendor.name != point.name:
                raise TypeError(f"{point.value} is named {vendor.name!r}, not {point.name!r}")
        except Exception as exc:  # a third party's import error must not stop the others
            broken[point.name] = f"{type(exc).__name__}: {exc}"
            log.warning("vendor %s (entry point %s) cannot be loaded: %s", point.name, point.value, broken[point.name])
            continue
        found[point.name] = vendor
    packages = Path(vendors_package.__file__).parent
    for folder in sorted(schemas_dir().iterdir()):  # bundled vendors of data: a document and its overlay
        # a folder whose vendor has a package of its own (its Python for what the overlay cannot say) is
        # served through that package's entry point only, never as data alone
        if (packages / folder.name).is_dir():
            continue
        if folder.name not in found and folder.name not in broken and is_data_folder(folder):
            found[folder.name] = folder_vendor(folder, folder.name)
    return dict(sorted(found.items())), broken


def available() -> dict[str, type[Vendor]]:
    """Every loadable vendor, by name, sorted by name."""
    return dict(_scan()[0])


def vendor_class(name: str) -> type[Vendor]:
    found, broken = _scan()
    if name in found:
        return found[name]
    if name in broken:
        raise UnknownVendor(f"vendor {name} cannot be loaded: {broken[name]}")
    raise UnknownVendor(f"no vendor {name!r}; installed: {', '.join(found) or 'none'}")


def vendor_names(text: str) -> tuple[str, ...]:
    """`a,b` → ("a", "b"), each an installed vendor (the `--vendors` option's type)."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise UnknownVendor(f"takes vendor names separated by commas ({', '.join(available())}), not {text!r}")
    for name in names:
        vendor_class(name)
    return names


def folder(path: str) -> type[Vendor]:
    """The vendor of a folder holding an OpenAPI document and its overlay (`--spec DIR`), checked now:
    UnknownVendor naming the file and the problem of a bad folder, document, overlay or annotation."""
    try:
        vendor = folder_vendor(Path(path))
        vendor()  # reads every annotation: a bad one is said at start-up, not at the first request
    except (DocumentError, AnnotationError) as exc:
        raise UnknownVendor(str(exc)) from None
    vendor.options = (SPEC_KEY,)  # its keys are pinned with --spec-key, beside --spec
    return vendor


def build(settings: Settings) -> list[Vendor]:
    """The vendors a run serves: the folders of `settings.specs` and the vendors `settings.vendors`
    names (default: every installed one, unless folders are given), each built from its options."""
    names = settings.vendors or (() if settings.specs else tuple(available()))
    return [
        *(vendor_class(name).from_settings(settings) for name in names),
        *(folder(path)(keys=settings.spec_keys) for path in settings.specs),
    ]


def _argument(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """A registry check as an option's type: its ValueError becomes the option's one-line error."""

    def parse(text: str) -> Any:
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = check.__name__
    return parse


def _spec_folder(text: str) -> str:
    if not Path(text).is_dir():
        raise ValueError(f"{text!r} is not a folder")
    folder(text)
    return text


VENDORS = Option(
    "vendors",
    "serve only these vendors, e.g. a,b (default: every installed one)",
    _argument(vendor_names),
    metavar="NAMES",
)
SPECS = Option(
    "spec",
    "serve the export API of DIR: its OpenAPI document and overlay (docs/openapi-vendors.md; "
    "repeatable); only these are served unless --vendors names more",
    _argument(_spec_folder),
    repeatable=True,
    metavar="DIR",
    dest="specs",
)


def serve_options() -> tuple[Option, ...]:
    """The serve command's options: the run's own (options.SERVE) and the two that name vendors, which
    only the registry can check (an installed vendor's name, a folder that is a vendor)."""
    at = SERVE.index(SPEC_KEY)
    return (*SERVE[:at], VENDORS, SPECS, *SERVE[at:])


def vendor_options() -> dict[str, tuple[Option, ...]]:
    """Every installed vendor's options (offered even when a run serves fewer vendors)."""
    return {name: vendor.options for name, vendor in available().items() if vendor.options}
