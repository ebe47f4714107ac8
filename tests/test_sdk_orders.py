"""Orders, order import, async actions and every transaction export through the
official clients, unmodified, against a real listening server: the `voucherify`
Python SDK, and the `@voucherify/sdk` npm client run by node."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess

import pytest

from tests.lazy_sdk import one_worker, sdk

voucherify = sdk("voucherify")  # imported at first use: collection stays fast
pytestmark = one_worker("voucherify")

from mockserver.app import Settings  # noqa: E402
from mockserver.data import load_model  # noqa: E402
from mockserver.spec import load_spec  # noqa: E402
from mockserver.testing import ServerThread  # noqa: E402

MODEL = load_model(load_spec("voucherify"))


@pytest.fixture(scope="module")
def server():
    with ServerThread(Settings(port=0, lifecycle="poll", rows=15)) as running:
        yield running


@pytest.fixture
def client(server, request):
    app = request.node.name.replace("[", "-").replace("]", "")  # one app per test: no shared state
    config = voucherify.Configuration(host=server.url, api_key={"X-App-Id": app, "X-App-Token": f"{app}-token"})
    return voucherify.ApiClient(config)


def finish_and_download(client, export_id: str) -> list[list[str]]:
    exports = voucherify.ExportsApi(client)
    statuses = []
    for _ in range(5):
        export = exports.get_export(export_id)
        statuses.append(export.status)
        if export.status == "DONE":
            break
    assert statuses == ["IN_PROGRESS", "DONE"]
    text = exports.download_export(export_id, token=export.result.url.split("token=")[1])
    return list(csv.reader(io.StringIO(text)))


def test_orders_journey(client):
    orders = voucherify.OrdersApi(client)
    made = [
        orders.create_order(
            voucherify.OrdersCreateRequestBody.from_dict(
                {
                    "source_id": f"sdk-{n}",
                    "status": "CREATED",
                    "customer": {"source_id": "sdk-customer"},
                    "items": [{"source_id": "sku-1", "related_object": "sku", "quantity": n + 1, "price": 1000}],
                }
            )
        )
        for n in range(3)
    ]
    assert [o.amount for o in made] == [1000, 2000, 3000]
    assert made[0].id.startswith("ord_") and made[0].customer.id == made[2].customer_id

    updated = orders.update_order(made[1].id, voucherify.OrdersUpdateRequestBody.from_dict({"status": "PAID"}))
    assert updated.status == "PAID" and updated.updated_at is not None
    assert orders.get_order("sdk-1").status == "PAID"

    listed = orders.list_orders(limit=10, order=voucherify.ParameterOrderListOrders("-created_at"))
    assert listed.total == 3 and {o.id for o in listed.orders} == {o.id for o in made}

    export = orders.create_order_export(
        voucherify.OrdersExportCreateRequestBody.from_dict(
            {
                "parameters": {
                    "fields": ["id", "source_id", "status"],
                    "filters": {"status": {"conditions": {"$in": ["PAID"]}}},
                }
            }
        )
    )
    assert export.status == "SCHEDULED"
    rows = finish_and_download(client, export.id)
    assert rows[0] == ["ID", "Source ID", "Status"]
    assert rows[1:] == [[made[1].id, "sdk-1", "PAID"]]

    with pytest.raises(voucherify.exceptions.NotFoundException):
        orders.get_order("ord_missing")


def test_import_followed_to_its_result(client):
    items = [
        voucherify.OrdersImportCreateRequestBodyItem.from_dict(
            {"source_id": f"imp-{n}", "status": "PAID", "amount": 100 + n, "metadata": {"batch": "b1"}}
        )
        for n in range(50)
    ]
    started = voucherify.OrdersApi(client).import_orders(items)
    actions = voucherify.AsyncActionsApi(client)
    seen = []
    for _ in range(5):
        action = actions.get_async_action(started.async_action_id)
        seen.append(action.status)
        if action.status == "DONE":
            break
    assert seen == ["IN_PROGRESS", "DONE"]
    assert action.operation_status == "SUCCESS" and action.progress == 100
    assert action.result["done_count"] == 50
    assert voucherify.OrdersApi(client).list_orders(limit=100).total == 50


@pytest.mark.slow
def test_import_of_too_many_orders_is_a_bad_request(client):
    item = voucherify.OrdersImportCreateRequestBodyItem.from_dict({"amount": 1})
    with pytest.raises(voucherify.exceptions.BadRequestException):
        voucherify.OrdersApi(client).import_orders([item] * 2001)
    assert voucherify.OrdersApi(client).list_orders().total == 0


TX_FIELDS = ["id", "type", "amount", "voucher_id", "created_at"]


def transaction_exports(client):
    """(name, call) for every transaction export method of the SDK. Nothing of the SDK is touched until a
    call runs: the names parametrize the test at collection, which must not import the SDK (lazy_sdk)."""

    def loyalties():
        return voucherify.LoyaltiesApi(client)

    def campaigns():
        return voucherify.CampaignsApi(client)

    def member_body():
        return voucherify.LoyaltiesMembersTransactionsExportCreateRequestBody.from_dict(
            {"parameters": {"order": "-created_at", "fields": TX_FIELDS}}
        )

    def campaign_body():
        return voucherify.LoyaltiesTransactionsExportCreateRequestBody.from_dict({"parameters": {"fields": TX_FIELDS}})

    return {
        "voucher": lambda: voucherify.VouchersApi(client).export_voucher_transactions(
            "GIFT-1",
            voucherify.VouchersTransactionsExportCreateRequestBody.from_dict({"parameters": {"fields": TX_FIELDS}}),
        ),
        "loyalty card": lambda: loyalties().export_loyalty_card_transactions("CARD-1", member_body()),
        "loyalty card in campaign": lambda: loyalties().export_loyalty_card_transactions1(
            "camp_Loyal1", "CARD-1", member_body()
        ),
        "loyalty campaign": lambda: loyalties().export_loyalty_campaign_transactions("camp_Loyal1", campaign_body()),
        "campaign": lambda: campaigns().export_campaign_transactions(
            "Gift Cards",
            voucherify.CampaignsTransactionsExportCreateRequestBody.from_dict({"parameters": {"fields": TX_FIELDS}}),
        ),
        "points expiration": lambda: loyalties().create_points_expiration_export(
            "camp_Loyal1",
            voucherify.LoyaltiesPointsExpirationExportCreateRequestBody.from_dict(
                {"parameters": {"fields": ["id", "campaign_id", "points", "expires_at"]}}
            ),
        ),
        "loyalty card, no body": lambda: loyalties().export_loyalty_card_transactions("CARD-2"),
    }


@pytest.mark.parametrize("name", list(transaction_exports(None)))
def test_every_transaction_export_is_polled_to_done_and_downloaded(client, name):
    export = transaction_exports(client)[name]()
    assert export.status == "SCHEDULED" and export.id.startswith("exp_")
    rows = finish_and_download(client, export.id)
    labels = MODEL.object(export.exported_object)  # the header row: the vendor's label of each field
    assert rows[0] == [labels.label(getattr(field, "value", field)) for field in export.parameters.fields]
    assert len(rows) == 16


# ------------------------------------------------------------- @voucherify/sdk
@pytest.mark.slow
def test_the_npm_client_creates_an_order_and_exports_it(server, npm_sdk):
    node = shutil.which("node")
    done = subprocess.run(
        [node, "orders_export.js"],
        cwd=npm_sdk,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MOCK_URL": server.url},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["order"]["id"].startswith("ord_") and result["order"]["amount"] == 3000
    assert result["paid"]["status"] == "PAID"
    assert result["statuses"] == ["SCHEDULED", "IN_PROGRESS", "DONE"]
    rows = list(csv.reader(io.StringIO(result["csv"])))
    assert rows == [["ID", "Status", "Amount"], [result["order"]["id"], "PAID", "3000"]]
