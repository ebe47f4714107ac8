"""Stripe's Reporting API: report runs, report types, files and file links.

The generic engine (mockserver.vendors.openapi) serves what schemas/stripe/overlay.yaml states: the
error object (`{"error": {type, code, message, param}}`), the wording of a request's problems, form
lists (`parameters[columns][0]=…`, `[]`), the secret key as a Bearer token or HTTP Basic's user name,
and each key an account of its own (`sk_live_` keys in live mode); idempotent requests replaying the
first answer, lists paged by object id, the checks of `expand[]` and of unknown query parameters;
the report runs once made: retrieving and listing them, their File (a document of its own: id, name,
size, URL, a year's expiry), its contents, and Stripe's `resource_missing` 404s; and file links, a
stored resource of their own (`x-mock.resources.file_links`: created naming a File, listed, retrieved,
updated with Stripe's metadata merge and `expires_at`, their public `/links/<token>` download, the
File's `links` list). Python stays for what Stripe does beyond the generic protocols: its keys' form
(`sk_test_…`, `sk_live_…`, `rk_…`, echoed masked when wrong) and `Stripe-Version`; a run's parameters
and columns, which depend on its report type, and its CSV rows (reporting.py, report_types.py,
csv.py); the report types; the list of files; `livemode` and a File's title.

With keys pinned (`--stripe-key`), only those exist and any other is refused, as the real API refuses
an unknown key; with none pinned, any well-formed secret or restricted key is accepted. Mounted at
/v1/reporting, /v1/files, /v1/file_links and /links (file link downloads) (`x-mock-mount` of its
openapi.yaml), next to a vendor that serves the rest of /v1.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable

from aiohttp import web

from ... import argtypes
from ...errors import ApiError
from ...options import Option
from ...spec import Operation, Spec, bundled_spec, schemas_dir
from ...store import VendorStore
from ..base import Handler, Imported
from ..common import basic_user, bearer_token, same
from ..openapi import OpenApiVendor
from ..openapi.expand import checking
from ..openapi.idempotency import guard
from .reporting import Reporting

KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{1,247}$")
_REQUEST_ID = string.ascii_letters + string.digits
VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")  # an API version: 2026-10-28.endive


class Stripe(OpenApiVendor):
    name = "stripe"
    folder = schemas_dir() / "stripe"
    contract = Imported(f"{__name__}.contract", "CONTRACT")  # the contract kit's dialect: data in contract.py
    options = (
        Option(
            "stripe-key",
            "pin a Stripe secret key (repeatable); other keys then get 401 (default: any "
            "well-formed sk_test_/sk_live_/rk_ key works)",
            argtypes.text,
            repeatable=True,
            metavar="KEY",
            dest="keys",
        ),
    )

    def __init__(self, spec: Spec | None = None, keys: Iterable[str] = ()) -> None:
        super().__init__(keys=tuple(keys), spec=spec or bundled_spec("stripe"))
        self.reporting = Reporting(self.exports)
        # what the engine's runs, files and file links take from Stripe: the CSV, `livemode`, a File's title
        self.exports.csv_of = lambda record, services: self.reporting._csv(record, services)
        self.exports.extend_view = self.reporting.extend_view
        self.exports.extend_file = self.reporting.extend_file
        self.api_version = str(self.spec.document.get("x-api-version") or self.spec.document["info"]["version"])

    def handlers(self) -> dict[str, Handler]:
        handlers = self.exports.operations({**self.reporting.handlers(), **self.resources.handlers()})
        handlers = guard(handlers, self.spec.operations, self.roles, self.api.idempotency)  # every POST's key
        return checking(handlers, self.spec.operations, self.api, self.invalid)  # expand[], unknown parameters

    # -- credentials -----------------------------------------------------------
    async def authenticate(self, request: web.Request, operation: Operation, owners: VendorStore) -> str | None:
        """The secret key of `Authorization: Bearer <key>` or `Basic base64(<key>:)`, in Stripe's form."""
        asked = request.headers.get("Stripe-Version")
        if asked is not None and not VERSION.match(asked):
            raise ApiError(
                400, "invalid_api_version", "Invalid API version", f"Invalid Stripe API version: {asked[:64]}"
            )
        if not operation.secured:
            return None
        key = _presented_key(request.headers.get("Authorization", ""))
        if not key:
            raise ApiError(
                401,
                "unauthorized",
                "No API key",
                "You did not provide an API key. Send your secret key as `Authorization: Bearer "
                "sk_test_…` (or as the user name of HTTP Basic auth).",
            )
        pinned = self.credentials.pinned
        if (pinned and not any(same(known, key) for known in pinned)) or (not pinned and not KEY.match(key)):
            raise ApiError(401, "unauthorized", "Invalid API key", f"Invalid API Key provided: {_masked(key)}")
        return key

    def request_id(self) -> str:
        return "req_" + "".join(secrets.choice(_REQUEST_ID) for _ in range(14))

    def response_headers(self, request: web.Request, request_id: str) -> dict[str, str]:
        """`Request-Id` (the SDKs' `request_id`, on errors too), the API version the request ran with
        (`Stripe-Version`: the one it asked for, else the schema's), and a POST's `Idempotency-Key`."""
        asked = request.headers.get("Stripe-Version", "")
        headers = {"Request-Id": request_id, "Stripe-Version": asked if VERSION.match(asked) else self.api_version}
        rules = self.api.idempotency
        key = request.headers.get(rules.header) if rules and request.method == "POST" else None
        if key and len(key) <= (rules.max_length or len(key)) and key.isprintable() and key.isascii():
            headers[rules.header] = key
        return headers


def _presented_key(header: str) -> str:
    return bearer_token(header) or basic_user(header)


def _masked(key: str) -> str:
    """A key as Stripe echoes a wrong one: its prefix and last four characters."""
    prefix = key[:8] if KEY.match(key) else ""
    return f"{prefix}{'*' * 8}{key[-4:]}" if len(key) > 12 else "*" * 8
