"""Example data sets that `mockserver serve --fixtures DIR` loads at start-up.

Every `*.yaml`, `*.yml` or `*.json` file of DIR is one app's data set:
customers, campaigns, vouchers and orders, in the format of the spec's
`FixtureDataSet` schema (schemas/voucherify/orders.yaml). All files are read
and checked — against the schema and against each other — before anything is
stored, so a bad file stops the server with a message that names the file and
the property, and never leaves half a data set behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import best_match

from ...clock import Clock
from ...errors import ApiError, FixtureError
from ...ids import Ids
from ...spec import Spec
from ...store import Store, Transaction, VendorStore
from ...validation import json_path
from . import orders, transactions

SUFFIXES = (".yaml", ".yml", ".json")
__all__ = ["FixtureError", "load_into", "read"]


@dataclass(frozen=True)
class DataSet:
    source: Path
    app_id: str
    token: str | None
    content: dict[str, Any]


async def load_into(directory: str | Path, vendor: Any, *, store: Store, ids: Ids, clock: Clock) -> list[DataSet]:
    """Read every data set of `directory`, pin their tokens (on `vendor`, the Voucherify instance)
    and store their records: each data set in one transaction, once every one has been tried
    (a transaction rolled back) against what is stored, so a bad one stores nothing of any."""
    data_sets = read(directory, vendor.spec)
    owners = VendorStore(store, vendor.name)
    now = clock.now()
    for trial in (True, False):
        for data_set in data_sets:
            stage = partial(_stage, data_set, vendor.spec, ids, now, trial)
            try:
                await owners.tenant(data_set.app_id).transact(stage)
            except _Tried:
                pass
    for data_set in data_sets:
        if data_set.token:
            vendor.apps.setdefault(data_set.app_id, data_set.token)  # a --app flag wins
    return data_sets


class _Tried(Exception):
    """A trial run of a data set went through: undo it."""


def read(directory: str | Path, spec: Spec) -> list[DataSet]:
    """Parse and validate the data sets of a folder (one per file, one app per data set)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FixtureError(f"fixtures: {folder} is not a directory")
    files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
    if not files:
        raise FixtureError(f"fixtures: {folder} has no {', '.join(SUFFIXES)} files")
    validator = Draft7Validator(spec.schema("FixtureDataSet"), format_checker=FormatChecker())
    data_sets: dict[str, DataSet] = {}
    for path in files:
        content = _parse(path)
        error = best_match(validator.iter_errors(content))
        if error is not None:
            where = json_path(error.absolute_path) or "the file"
            raise FixtureError(f"{path}: {where}: {error.message}")
        app_id = content.get("app_id") or path.stem
        if app_id in data_sets:
            raise FixtureError(f"{path}: app {app_id} is already defined by {data_sets[app_id].source}")
        data_sets[app_id] = DataSet(path, app_id, content.get("token"), content)
    return list(data_sets.values())


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        content = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise FixtureError(f"{path}: cannot be read: {exc}") from None
    return {} if content is None else content


def _stage(data_set: DataSet, spec: Spec, ids: Ids, now: float, trial: bool, txn: Transaction) -> None:
    """Store one data set's records in a store transaction (raising _Tried, to undo it, on a trial)."""
    content, path = data_set.content, data_set.source
    book = orders.OrderBook(txn, ids, now, spec.schema("OrderStatus")["enum"][0])
    customers = {c["source_id"]: book.upsert_customer(c) for c in content.get("customers", [])}
    campaigns = {}
    for campaign in content.get("campaigns", []):
        record = {"id": campaign.get("id") or transactions.campaign_id(campaign["name"]), **campaign}
        campaigns[campaign["name"]] = record
    vouchers = []
    for index, voucher in enumerate(content.get("vouchers", [])):
        for ref, known in (("campaign", campaigns), ("customer", customers)):
            if voucher.get(ref) and voucher[ref] not in known:
                raise FixtureError(f"{path}: .vouchers[{index}].{ref}: {voucher[ref]!r} is not defined in this file")
        vouchers.append(transactions.voucher_record(voucher, campaigns, customers, book.created_at()))
    for index, order in enumerate(content.get("orders", [])):
        try:
            book.upsert(order, create_with_id=True)
        except ApiError as exc:
            raise FixtureError(f"{path}: .orders[{index}]: {exc.details}") from None
    # keys carry the app id: two data sets may use the same codes and campaign names
    for c in campaigns.values():
        txn.put(transactions.CAMPAIGNS, f"{data_set.app_id}/{c['id']}", c)
    for v in vouchers:
        txn.put(transactions.VOUCHERS, f"{data_set.app_id}/{v['id']}", v)
    if trial:
        raise _Tried
