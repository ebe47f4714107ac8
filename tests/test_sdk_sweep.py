"""Every method of the official `voucherify` Python SDK that calls an operation
the mock serves, called with only its required arguments, as a user's first
try would: each one succeeds and parses.

The methods are found by reading the SDK's Api classes (the HTTP method
and path each one's request serializer names) against the spec's operations,
so a new SDK method for a served path joins the sweep by itself.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver.app import Settings
from mockserver.spec import load_spec
from mockserver.testing import ServerThread
from tests.lazy_sdk import one_worker, sdk

voucherify = sdk("voucherify")  # imported at first use: importing it cost a third of the suite's collection
pytestmark = one_worker("voucherify")

# The one method whose only required argument is not enough: Create Export needs `exported_object`, which the
# SDK makes optional (a deliberate choice, docs/fidelity.md); called bare, it gets a clear 400 instead.
NEEDS_A_BODY = {("ExportsApi", "create_export"): {"exported_object": "voucher"}}


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _served() -> set[tuple[str, str]]:
    return {(op.method, _template(op.path)) for op in load_spec("voucherify").operations}


def served_sdk_methods() -> list[tuple[str, str]]:
    """(Api class name, method name) of every SDK method calling a served operation, read from the SDK's
    generated sources (each method's `_<name>_serialize` names its HTTP method and path) without importing
    the SDK: importing it took seconds of every worker's collection. `introspected_sdk_methods` finds the
    same list by importing, and a test holds the two equal."""
    found_spec = importlib.util.find_spec("voucherify")
    if found_spec is None or found_spec.origin is None:
        return []  # no SDK: the sweep is empty and test_the_sweep_covers_every_served_operation skips
    served, found = _served(), []
    for source in sorted((Path(found_spec.origin).parent / "api").glob("*_api.py")):
        text = source.read_text(encoding="utf-8")
        for cls, body in re.findall(r"^class (\w+Api)\b.*?:\n(.*?)(?=^class |\Z)", text, re.M | re.S):
            for method, verb, path in re.findall(
                r"^    def _(\w+)_serialize\(.*?method='(\w+)',\s*resource_path='([^']+)'", body, re.M | re.S
            ):
                if (verb, _template(path)) in served and re.search(rf"^    def {method}\(", body, re.M):
                    found.append((cls, method))
    return found


def introspected_sdk_methods() -> list[tuple[str, str]]:
    """The same list found by importing the SDK and reading its Api classes (the sweep's former discovery)."""
    served, found = _served(), []
    for name in dir(voucherify):
        cls = getattr(voucherify, name) if name.endswith("Api") else None
        if not (inspect.isclass(cls) and name != "ApiClient"):
            continue
        for method, _function in inspect.getmembers(cls, inspect.isfunction):
            serializer = getattr(cls, f"_{method}_serialize", None)
            if method.startswith("_") or serializer is None:
                continue
            source = inspect.getsource(serializer)
            verb = re.search(r"method='(\w+)'", source).group(1)
            path = re.search(r"resource_path='([^']+)'", source).group(1)
            if (verb, _template(path)) in served:
                found.append((name, method))
    return found


def _required(cls: type, method: str) -> list[str]:
    """The names of the method's arguments that have no default."""
    parameters = list(inspect.signature(getattr(cls, method)).parameters.values())[1:]
    return [p.name for p in parameters if p.default is inspect.Parameter.empty]


SWEEP = served_sdk_methods()


def test_the_sweep_covers_every_served_operation():
    served = _served()
    assert sorted(SWEEP) == sorted(introspected_sdk_methods())  # the source scan finds what importing finds
    assert len(SWEEP) == 18  # the SDK's methods for our 17 operations (+ download_export beside get_export)
    assert len(served) == 17


@pytest.fixture(scope="module")
def client():
    with ServerThread(Settings(port=0, lifecycle="instant", rows=5)) as server:
        config = voucherify.Configuration(host=server.url, api_key={"X-App-Id": "sweep", "X-App-Token": "sweep-key"})
        yield voucherify.ApiClient(config)


def _arguments(client, required: list[str]) -> list[str]:
    """Values for the required (path) arguments, naming things that exist where the call needs them."""
    exports, orders = voucherify.ExportsApi(client), voucherify.OrdersApi(client)
    made = {}
    for name in required:
        if name == "export_id":
            made[name] = exports.create_export(
                voucherify.ExportsCreateRequestBody.from_dict({"exported_object": "order"})
            ).id
        elif name == "order_id":
            made[name] = orders.create_order().id
        elif name == "async_action_id":
            made[name] = orders.import_orders().async_action_id
        else:  # a voucher code, card code or campaign: an app without fixtures has them all
            made[name] = {"code": "GIFT-1", "member_id": "LOYAL-1", "campaign_id": "camp_Sweep"}[name]
    return [made[name] for name in required]


@pytest.mark.parametrize("cls_name, method", SWEEP, ids=[f"{c}.{m}" for c, m in SWEEP])
def test_each_sdk_method_succeeds_with_only_its_required_arguments(client, cls_name, method):
    cls = getattr(voucherify, cls_name)
    api = cls(client)
    arguments = _arguments(client, _required(cls, method))
    body = NEEDS_A_BODY.get((cls_name, method))
    if body is not None:
        with pytest.raises(voucherify.exceptions.BadRequestException) as refused:
            getattr(api, method)(*arguments)
        assert '"invalid_payload"' in refused.value.body and "body is required" in refused.value.body
        answer = getattr(api, method)(voucherify.ExportsCreateRequestBody.from_dict(body))
    else:
        answer = getattr(api, method)(*arguments)
    if method == "delete_export":
        assert answer is None
        with pytest.raises(voucherify.exceptions.NotFoundException):
            voucherify.ExportsApi(client).get_export(arguments[0])
    else:
        assert answer is not None


def test_sdk_minimal_export_calls_export_the_documented_defaults(client):
    orders, vouchers = voucherify.OrdersApi(client), voucherify.VouchersApi(client)
    for export in (
        orders.create_order_export(),  # no body at all
        orders.create_order_export(voucherify.OrdersExportCreateRequestBody.from_dict({})),
    ):  # null
        assert export.status == "SCHEDULED" and export.parameters.fields == ["id", "source_id", "status"]
    export = vouchers.export_voucher_transactions("GIFT-1")
    assert export.exported_object == "voucher_transactions" and export.parameters.fields[:2] == ["id", "type"]


def test_sdk_read_modify_write_of_an_order(client):
    orders = voucherify.OrdersApi(client)
    created = orders.create_order(
        voucherify.OrdersCreateRequestBody.from_dict(
            {
                "source_id": "sweep-rmw",
                "customer": {"source_id": "sweep-customer"},
                "items": [{"source_id": "sku-1", "quantity": 2, "price": 700}],
            }
        )
    )
    got = orders.get_order(created.id)
    body = voucherify.OrdersUpdateRequestBody.from_dict({**got.to_dict(), "status": "PAID"})
    updated = orders.update_order(created.id, body)
    assert updated.status == "PAID" and updated.amount == 1400 and updated.customer_id == got.customer_id
    plain = orders.create_order(voucherify.OrdersCreateRequestBody.from_dict({"amount": 5}))
    assert plain.customer is None and '"customer":' not in orders.get_order_with_http_info(plain.id).raw_data.decode()


def test_every_npm_sdk_method_we_serve_succeeds_with_only_its_required_arguments(npm_sdk):
    """The npm client has 12 calls (13 with the campaign variant) for our operations: tests/js/sweep.js."""
    node = shutil.which("node")
    with ServerThread(Settings(port=0, lifecycle="instant", rows=5)) as server:
        done = subprocess.run(
            [node, "sweep.js"],
            cwd=npm_sdk,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "MOCK_URL": server.url},
        )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == 13
    failed = {name: result for name, result in results.items() if not result["ok"]}
    assert not failed, failed
    assert results["orders.create"]["answer"]["status"] == "CREATED"
    assert "customer" not in results["orders.create"]["answer"]
    assert results["vouchers.exportTransactions"]["answer"]["status"] == "SCHEDULED"
