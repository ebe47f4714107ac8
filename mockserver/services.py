"""What behaviour code may use: `Services`, built once per application by `app.create_app` and found on
the application under `SERVICES`. It lives below the application, the pipeline, the admin API and the
vendors, so each of them can name the type it is handed instead of `Any`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from .clock import Clock
from .control.faults import Faults
from .control.journal import Journal
from .exports import ExportService
from .options import Settings
from .store import Store

if TYPE_CHECKING:  # a vendor is handed Services (Call.services); the type only, no import at run time
    from .vendors.base import Vendor


@dataclass
class Services:
    """The run's settings, store, clock, export service, served vendors, journal and injected faults."""

    settings: Settings
    store: Store
    clock: Clock
    exports: ExportService
    vendors: list[Vendor]
    journal: Journal
    faults: Faults


SERVICES = web.AppKey("services", Services)


def services_of(app: web.Application) -> Services:
    return app[SERVICES]
