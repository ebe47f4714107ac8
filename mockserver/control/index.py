"""What a running mock serves, said once and shown three ways: the start-up banner, `GET /`
(JSON, or HTML to a browser) and the neutral 404 of a path under no vendor's mount.

A newcomer's first questions are "which URL do I point my client at" and "which key will it
take"; the answers live in the vendors (their mounts, `trusts_new_credentials`) and the
settings, so they are read from there rather than written down again.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from ..errors import ApiError, scrub
from ..pipeline import http_error
from ..respond import json_response

ADMIN = "/__mock/"
DASHBOARD = "/__mock/ui"


def served_paths(vendor: Any) -> list[str]:
    """The vendor's mounts, each with the resources under it (`/v1` → `/v1/exports`, `/v1/orders` …):
    a mount alone (`/v1`) does not tell a newcomer which URLs answer."""
    found: set[str] = set()
    for prefix in vendor.prefixes:
        for op in vendor.spec.operations:
            if op.path.startswith(prefix + "/"):
                first = op.path[len(prefix) + 1 :].split("/", 1)[0]
                found.add(prefix if not first or first.startswith("{") else f"{prefix}/{first}")
    return sorted(found)


def credential_mode(vendor: Any) -> str:
    """How the vendor takes credentials in this run, in words: the contract kit and a newcomer both
    need to know whether an invented key is accepted."""
    if vendor.trusts_new_credentials():
        flags = ", ".join(option.flag for option in vendor.options if option.repeatable)
        return "trusting new keys" + (f" (pin with {flags})" if flags else "")
    return "pinned keys only"


def describe(vendors: Iterable[Any], settings: Any, base_url: str) -> dict[str, Any]:
    """The index: every served vendor with its paths and credential mode, the admin API and dashboard,
    and where the settings came from."""
    return {
        "mockserver": base_url,
        "vendors": [
            {
                "name": vendor.name,
                "paths": served_paths(vendor),
                "mounts": list(vendor.prefixes),
                "credentials": credential_mode(vendor),
                "openapi": f"{base_url}{ADMIN}openapi?vendor={vendor.name}",
            }
            for vendor in vendors
        ],
        "admin": base_url + ADMIN,
        "dashboard": base_url + DASHBOARD,
        "lifecycle": settings.lifecycle,
        "seed": settings.seed,
        "config_file": getattr(settings, "config_file", None),
    }


def base_url(settings: Any, port: int) -> str:
    """Where the server answers, as the banner and the index say it (an IPv6 host in brackets)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{'https' if settings.tls else 'http'}://{host}:{port}"


def banner(about: dict[str, Any], extra: str = "") -> list[str]:
    """The lines `mockserver serve` prints: the first keeps the one-line form scripts wait for
    (`listening on URL`); the rest say what is served."""
    lines = [
        f"mockserver listening on {about['mockserver']} (lifecycle {about['lifecycle']}, seed {about['seed']}{extra})"
    ]
    width = max([len(v["name"]) for v in about["vendors"]] + [len("dashboard")])
    for vendor in about["vendors"]:
        lines.append(f"  {vendor['name']:<{width}}  {' '.join(vendor['paths'])}  [{vendor['credentials']}]")
    lines.append(f"  {'admin API':<{width}}  {about['admin']}")
    lines.append(f"  {'dashboard':<{width}}  {about['dashboard']}")
    config = about["config_file"]
    lines.append(f"  {'config':<{width}}  {config if config else 'no config file read (built-in defaults)'}")
    return lines


def wants_html(request: web.Request) -> bool:
    """A browser asks for text/html first; curl, SDKs and fetch() do not."""
    accept = request.headers.get("Accept", "")
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first in ("text/html", "application/xhtml+xml")


def index_handler(vendors: Callable[[], Iterable[Any]], settings: Any):
    """`GET /`: the index as JSON, or as a short HTML page to a browser."""

    async def index(request: web.Request) -> web.Response:
        about = describe(vendors(), settings, str(request.url.origin()))
        if wants_html(request):
            return web.Response(text=_page(about), content_type="text/html", charset="utf-8")
        return json_response(about)

    return index


def _page(about: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(v['name'])}</td><td>{'<br>'.join(e(p) for p in v['paths'])}</td>"
        f'<td>{e(v["credentials"])}</td><td><a href="{e(v["openapi"])}">spec</a></td></tr>'
        for v in about["vendors"]
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>mockserver</title></head><body>'
        f"<h1>mockserver</h1><p>lifecycle {e(about['lifecycle'])}, seed {about['seed']}; config: "
        f"{e(str(about['config_file'] or 'none (built-in defaults)'))}</p>"
        f"<table><tr><th>vendor</th><th>paths</th><th>credentials</th><th>contract</th></tr>{rows}</table>"
        f'<p><a href="{e(about["dashboard"])}">dashboard</a> · <a href="{e(about["admin"])}health">'
        f"admin API</a></p></body></html>"
    )


def unmounted_failure(request: web.Request, exc: Exception) -> web.Response | None:
    """A path under no vendor's mount (nor the admin API's) answers a neutral JSON error naming what is
    served: no vendor owns it, so none of their error shapes would be honest (it used to be the first
    vendor's). None for a failure that is no refusal (answer_failure's then); a redirect is re-raised."""
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        error = http_error(exc)
    elif isinstance(exc, ApiError):
        error = exc
    else:
        return None
    body: dict[str, Any] = {"error": error.details, "status": error.status}
    if error.status == 404:
        body["error"] = f"No vendor is served at {request.path}; GET / lists what is"
    return json_response(scrub(body), status=error.status, headers=error.headers)
