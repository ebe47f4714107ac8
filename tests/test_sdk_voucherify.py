"""The user journey through the official `voucherify` Python SDK, unmodified,
against a real listening server: create → poll to DONE → download → list →
delete → not found."""

from __future__ import annotations

import csv
import io

import pytest

from tests.lazy_sdk import one_worker, sdk

voucherify = sdk("voucherify")  # imported at first use: collection stays fast
pytestmark = one_worker("voucherify")

from mockserver.app import Settings  # noqa: E402
from mockserver.testing import ServerThread  # noqa: E402


@pytest.fixture
def exports_api():
    with ServerThread(Settings(port=0, lifecycle="poll", rows=20)) as server:
        config = voucherify.Configuration(host=server.url, api_key={"X-App-Id": "sdk-app", "X-App-Token": "sdk-token"})
        yield voucherify.ExportsApi(voucherify.ApiClient(config))


def test_create_poll_download_list_delete(exports_api):
    body = voucherify.ExportsCreateRequestBody.from_dict(
        {"exported_object": "order", "parameters": {"fields": ["id", "status", "amount", "created_at"]}}
    )
    created = exports_api.create_export(body)
    assert created.status == "SCHEDULED"
    assert created.id.startswith("exp_")

    seen = []
    for _ in range(5):
        export = exports_api.get_export(created.id)
        seen.append(export.status)
        if export.status == "DONE":
            break
    assert seen == ["IN_PROGRESS", "DONE"]
    token = export.result.url.split("token=")[1]

    text = exports_api.download_export(created.id, token=token)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["ID", "Status", "Amount", "Creation Date"]
    assert len(rows) == 21

    listed = exports_api.list_exports(limit=10)
    assert created.id in [e.id for e in listed.exports]
    assert listed.total == 1

    exports_api.delete_export(created.id)
    with pytest.raises(voucherify.exceptions.NotFoundException):
        exports_api.get_export(created.id)


def test_sdk_order_and_transactions_exports_parse(exports_api):
    client = exports_api.api_client
    order_export = voucherify.OrdersApi(client).create_order_export(
        voucherify.OrdersExportCreateRequestBody.from_dict({"parameters": {"fields": ["id", "source_id"]}})
    )
    assert order_export.status == "SCHEDULED"
    assert order_export.exported_object == "order"
    tx_export = voucherify.VouchersApi(client).export_voucher_transactions(
        "GIFT-1",
        voucherify.VouchersTransactionsExportCreateRequestBody.from_dict(
            {"parameters": {"order": "-created_at", "fields": ["id", "type", "amount"]}}
        ),
    )
    assert tx_export.exported_object == "voucher_transactions"
    assert tx_export.status == "SCHEDULED"
    assert tx_export.parameters.fields == ["id", "type", "amount"]


def test_sdk_surfaces_bad_input_and_bad_credentials(exports_api):
    # the SDK knows `amount` as an export field, but customers have none
    bad = voucherify.ExportsCreateRequestBody.from_dict(
        {"exported_object": "customer", "parameters": {"fields": ["id", "amount"]}}
    )
    with pytest.raises(voucherify.exceptions.ApiException) as raised:
        exports_api.create_export(bad)
    assert raised.value.status == 400
    assert "invalid_export_fields" in raised.value.body
    exports_api.list_exports()  # binds the app id to its token
    wrong = voucherify.Configuration(
        host=exports_api.api_client.configuration.host, api_key={"X-App-Id": "sdk-app", "X-App-Token": "wrong"}
    )
    with pytest.raises(voucherify.exceptions.UnauthorizedException):
        voucherify.ExportsApi(voucherify.ApiClient(wrong)).list_exports()


def test_the_echoed_defaults_parse_and_can_be_sent_back(exports_api):
    """The export object echoes the server's defaults (order -created_at, junction and), as the vendor's
    examples show; the SDK parses them, and a create from those parameters is accepted again."""
    created = exports_api.create_export(voucherify.ExportsCreateRequestBody.from_dict({"exported_object": "voucher"}))
    assert created.parameters.order == "-created_at"
    assert created.parameters.filters == {"junction": "and"}
    again = exports_api.create_export(
        voucherify.ExportsCreateRequestBody.from_dict(
            {"exported_object": "voucher", "parameters": created.parameters.to_dict()}
        )
    )
    assert again.parameters.to_dict() == created.parameters.to_dict()


def test_empty_and_repeated_fields_are_accepted_as_the_sdk_sends_them(exports_api):
    empty = exports_api.create_export(
        voucherify.ExportsCreateRequestBody.from_dict({"exported_object": "order", "parameters": {"fields": []}})
    )
    assert empty.parameters.fields == ["id", "source_id", "status"]
    repeated = exports_api.create_export(
        voucherify.ExportsCreateRequestBody.from_dict(
            {"exported_object": "order", "parameters": {"fields": ["id", "id"]}}
        )
    )
    assert repeated.parameters.fields == ["id", "id"]


def test_an_empty_download_token_raises_unauthorized(exports_api):
    created = exports_api.create_export(voucherify.ExportsCreateRequestBody.from_dict({"exported_object": "order"}))
    exports_api.get_export(created.id)
    exports_api.get_export(created.id)  # DONE
    with pytest.raises(voucherify.exceptions.UnauthorizedException) as raised:
        exports_api.download_export(created.id, token="")
    assert raised.value.status == 401 and '"key":"unauthorized"' in raised.value.body.replace(" ", "")


def _download(exports_api, created) -> list[list[str]]:
    export = exports_api.get_export(created.id)
    while export.status != "DONE":
        export = exports_api.get_export(created.id)
    text = exports_api.download_export(created.id, token=export.result.url.split("token=")[1])
    return list(csv.reader(io.StringIO(text)))


def test_documented_filters_apply_and_gift_values_have_decimals(exports_api):
    """Redemption `status` (a filter the vendor documents, read from the redemption's status) selects the
    failed redemptions; a gift card's value is written as the vendor's example writes it (2000.00)."""
    failed = _download(
        exports_api,
        exports_api.create_export(
            voucherify.ExportsCreateRequestBody.from_dict(
                {
                    "exported_object": "redemption",
                    "parameters": {
                        "fields": ["id", "result"],
                        "filters": {"status": {"conditions": {"$in": ["FAILED"]}}},
                    },
                }
            )
        ),
    )
    assert failed[0] == ["ID", "Result"] and len(failed) > 1
    assert {row[1] for row in failed[1:]} == {"FAILURE"}
    vouchers = _download(
        exports_api,
        exports_api.create_export(voucherify.ExportsCreateRequestBody.from_dict({"exported_object": "voucher"})),
    )
    gift = [row for row in vouchers[1:] if row[1] == "GIFT_VOUCHER"]
    assert gift and all(row[2].endswith(".00") and row[2][:-3].isdigit() for row in gift)


@pytest.mark.parametrize(
    "exported_object, header",
    [
        ("product", ["ID", "Name", "Price", "Image URL", "Source ID", "Attributes", "Creation Date"]),
        (
            "sku",
            ["ID", "SKU", "Product ID", "Currency", "Price", "Image URL", "Source ID", "Attributes", "Creation Date"],
        ),
    ],
)
def test_product_and_sku_exports_the_sdk_lists(exports_api, exported_object, header):
    created = exports_api.create_export(
        voucherify.ExportsCreateRequestBody.from_dict(
            {"exported_object": exported_object, "parameters": {"order": "-created_at"}}
        )
    )
    assert created.exported_object == exported_object and created.status == "SCHEDULED"
    assert [label.lower().replace(" ", "_") for label in header][:1] == created.parameters.fields[:1]
    rows = _download(exports_api, created)
    assert rows[0] == header and len(rows) == 21
