"""Chargebee's export API, in process: trigger, retrieve, the lifecycle, the
zip download and its expiry, every filter operator (each CSV row satisfies it,
and no row that does is missing), every error in Chargebee's shape — and
nothing stored changes when a request is refused."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
from chargebee_support import FORM, KEY, CbApi, basic, read_zip
from conftest import START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import registry
from mockserver.app import Settings, create_app, services_of
from mockserver.contract.checks import least_body
from mockserver.data import load_model
from mockserver.exports import ExportRecord
from mockserver.redact import label
from mockserver.spec import load_spec
from mockserver.store import VendorStore
from mockserver.validation import Invalid, RequestValidator
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.chargebee.filters import translate
from tests.lazy_sdk import one_worker

ROWS = 200
API = Chargebee().api  # the overlay's annotations (schemas/chargebee/overlay.yaml)
MAX_IN_PROCESS, VALID_SECONDS = API.max_in_process, API.url_expires


@pytest.fixture(scope="session")
def cb_spec():
    return load_spec("chargebee")


@pytest.fixture
def make_cb(aiohttp_client, cb_spec, clock):
    async def make(**options) -> CbApi:
        keys = options.pop("chargebee_keys", ())  # Chargebee's own option (--chargebee-key)
        settings = Settings(**{"lifecycle": "poll", "rows": ROWS, **options})
        app = create_app(settings, clock=clock, vendors=[Chargebee(spec=cb_spec, keys=keys)])
        return CbApi(await aiohttp_client(app), cb_spec)

    return make


@pytest.fixture
async def cb(make_cb):
    return await make_cb()


async def stored_exports(api: CbApi, key: str = KEY) -> list[ExportRecord]:
    services = services_of(api.client.server.app)
    return await services.exports.list(VendorStore(services.store, "chargebee").tenant(key))


def epoch(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def utc_day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()


# ------------------------------------------------------------------ resource
async def test_trigger_answers_an_in_process_export(cb, clock):
    reply = await cb.trigger("orders")
    assert reply.status == 200
    export = reply.export
    assert export == {
        "id": export["id"],
        "operation_type": "orders",
        "mime_type": "zip",
        "status": "in_process",
        "created_at": int(clock.now()),
        "object": "export",
    }
    assert export["id"].startswith("__test__") and len(export["id"]) <= 50


async def test_time_lifecycle_in_process_then_completed_with_a_download(make_cb, clock):
    cb = await make_cb(lifecycle="time", scheduled_seconds=1, running_seconds=2)
    export = (await cb.trigger()).export
    clock.advance(1.5)  # running: still in_process to Chargebee clients
    assert (await cb.retrieve(export["id"])).export["status"] == "in_process"
    clock.advance(1.5)
    done = (await cb.retrieve(export["id"])).export
    assert done["status"] == "completed"
    completed_at = export["created_at"] + 3
    assert done["download"]["valid_till"] == completed_at + VALID_SECONDS == completed_at + 4 * 3600
    assert done["download"]["mime_type"] == "application/zip"
    url = done["download"]["download_url"]
    assert url.startswith(f"http://{cb.client.host}:{cb.client.port}/api/v2/exports/{export['id']}/download?token=")


async def test_poll_lifecycle_moves_one_step_per_retrieve(cb):
    export = (await cb.trigger()).export
    statuses = [(await cb.retrieve(export["id"])).export["status"] for _ in range(3)]
    assert statuses == ["in_process", "completed", "completed"]


async def test_failed_export_has_no_download(cb):
    export = (await cb.trigger(headers={"Prefer": "outcome=error"})).export
    statuses = [(await cb.retrieve(export["id"])).export for _ in range(2)]
    assert [s["status"] for s in statuses] == ["in_process", "failed"]
    assert "download" not in statuses[-1]


# ------------------------------------------------------------------ download
async def test_download_is_a_zip_of_the_orders_csv_without_the_api_key(cb, cb_spec):
    export = await cb.completed((await cb.trigger()).export["id"])
    reply = await cb.download(export)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/zip"  # no charset on a binary body
    assert f'filename="orders_{export["id"]}.zip"' in reply.headers["Content-Disposition"]
    names, rows, header = read_zip(reply.raw)
    assert names == ["orders.csv"]
    # the columns are the row schema's attributes, in schema order
    assert header == list(cb_spec.schema("ChargebeeOrderRow")["properties"])
    assert len(rows) == ROWS
    statuses = set(cb_spec.schema("OrderStatus")["enum"])
    for row in rows:
        assert row["status"] in statuses
        assert int(row["total"]) == int(row["sub_total"]) - int(row["discount"]) + int(row["tax"])
        assert row["created_at"].endswith("Z") and epoch(row["updated_at"]) >= epoch(row["created_at"])
        assert (row["shipped_at"] != "") == (
            row["status"] in ("shipped", "delivered", "partially_delivered", "returned")
        )
        assert (row["delivered_at"] != "") <= (row["shipped_at"] != "")
        assert (row["resent_status"] != "") == (row["is_resent"] == "true")


async def test_the_same_export_downloads_the_same_bytes(cb):
    export = await cb.completed((await cb.trigger()).export["id"])
    first, second = await cb.download(export), await cb.download(export)
    assert read_zip(first.raw)[1] == read_zip(second.raw)[1]


async def test_a_wrong_token_or_an_unfinished_export_is_refused_with_403(cb):
    export = (await cb.trigger()).export
    token = (await services_of(cb.client.server.app).exports.find(export["id"]))[1].token
    anonymous = cb.as_key(None)
    early = await anonymous.request("GET", f"/api/v2/exports/{export['id']}/download?token={token}")
    assert early.status == 403 and early.json["api_error_code"] == "api_authorization_failed"
    assert "type" not in early.json
    done = await cb.completed(export["id"])
    wrong = await anonymous.request("GET", f"/api/v2/exports/{export['id']}/download?token=x{token}")
    assert wrong.status == 403
    other = await anonymous.request("GET", f"/api/v2/exports/__test__nope/download?token={token}")
    assert other.status == 403
    missing = await anonymous.request("GET", f"/api/v2/exports/{export['id']}/download")
    assert missing.status == 400 and missing.json["param"] == "token"
    assert (await cb.download(done)).status == 200


async def test_the_download_url_expires_at_valid_till(make_cb, clock):
    cb = await make_cb(lifecycle="instant")
    export = await cb.completed((await cb.trigger()).export["id"])
    valid_till = export["download"]["valid_till"]
    clock.advance(valid_till - clock.now())  # exactly valid_till: still valid
    assert (await cb.download(export)).status == 200
    clock.advance(1)
    expired = await cb.download(export)
    assert expired.status == 403
    assert expired.json["api_error_code"] == "api_authorization_failed"
    assert f"expired at {valid_till}" in expired.json["message"]
    # the export itself is still there, completed, with the same (dead) URL
    assert (await cb.retrieve(export["id"])).export == export


# ------------------------------------------------------------------- filters
class Pick:
    """Operands taken from the data set itself, so that each filter splits it."""

    def __init__(self, rows: list[dict]) -> None:
        middle = len(rows) // 2
        self.rows = rows
        self.t = sorted(epoch(r["updated_at"]) for r in rows)[middle]
        self.lo = sorted(epoch(r["order_date"]) for r in rows)[len(rows) // 4]
        self.total = sorted(int(r["total"]) for r in rows)[middle]
        self.paid = sorted(int(r["amount_paid"]) for r in rows)[middle]
        self.ids = [rows[1]["id"], rows[7]["id"], rows[42]["id"]]
        self.customers = sorted({r["customer_id"] for r in rows})[:3]
        self.resent = sorted({r["original_order_id"] for r in rows if r["original_order_id"]})[0]
        self.shipped = sorted(epoch(r["shipped_at"]) for r in rows if r["shipped_at"])[10]


# name → (form pairs, the rows it must keep), given the Pick of the unfiltered data set
CASES = {
    "id is": lambda p: ([("order[id][is]", p.rows[3]["id"])], lambda r: r["id"] == p.rows[3]["id"]),
    "id is_not": lambda p: ([("order[id][is_not]", p.rows[3]["id"])], lambda r: r["id"] != p.rows[3]["id"]),
    "id starts_with": lambda p: (
        [("order[id][starts_with]", p.rows[0]["id"][:6])],
        lambda r: r["id"].startswith(p.rows[0]["id"][:6]),
    ),
    "id in, Python repr (the SDK)": lambda p: ([("order[id][in]", repr(p.ids))], lambda r: r["id"] in p.ids),
    "id not_in, JSON array": lambda p: ([("order[id][not_in]", json.dumps(p.ids))], lambda r: r["id"] not in p.ids),
    "customer_id in, indexed fields": lambda p: (
        [(f"order[customer_id][in][{i}]", c) for i, c in enumerate(p.customers)],
        lambda r: r["customer_id"] in p.customers,
    ),
    "customer_id starts_with": lambda p: (
        [("order[customer_id][starts_with]", p.customers[0][:7])],
        lambda r: r["customer_id"].startswith(p.customers[0][:7]),
    ),
    "subscription_id is_present true": lambda p: (
        [("order[subscription_id][is_present]", "true")],
        lambda r: r["subscription_id"] != "",
    ),
    "subscription_id is_present false": lambda p: (
        [("order[subscription_id][is_present]", "false")],
        lambda r: r["subscription_id"] == "",
    ),
    "original_order_id is": lambda p: (
        [("order[original_order_id][is]", p.resent)],
        lambda r: r["original_order_id"] == p.resent,
    ),
    "original_order_id is_not (empty never matches)": lambda p: (
        [("order[original_order_id][is_not]", p.resent)],
        lambda r: r["original_order_id"] not in ("", p.resent),
    ),
    "status is": lambda p: ([("order[status][is]", "delivered")], lambda r: r["status"] == "delivered"),
    "status is_not": lambda p: ([("order[status][is_not]", "delivered")], lambda r: r["status"] != "delivered"),
    "status in": lambda p: (
        [("order[status][in]", "['queued', 'complete']")],
        lambda r: r["status"] in ("queued", "complete"),
    ),
    "status not_in": lambda p: (
        [("order[status][not_in]", '["queued","shipped"]')],
        lambda r: r["status"] not in ("queued", "shipped"),
    ),
    "price_type is": lambda p: (
        [("order[price_type][is]", "tax_inclusive")],
        lambda r: r["price_type"] == "tax_inclusive",
    ),
    "resent_status in": lambda p: (
        [("order[resent_status][in]", "['fully_resent']")],
        lambda r: r["resent_status"] == "fully_resent",
    ),
    "is_resent is": lambda p: ([("order[is_resent][is]", "true")], lambda r: r["is_resent"] == "true"),
    "updated_at after (strict)": lambda p: (
        [("order[updated_at][after]", str(p.t))],
        lambda r: epoch(r["updated_at"]) > p.t,
    ),
    "updated_at before (strict)": lambda p: (
        [("order[updated_at][before]", str(p.t))],
        lambda r: epoch(r["updated_at"]) < p.t,
    ),
    "updated_at on (UTC day)": lambda p: (
        [("order[updated_at][on]", str(p.t))],
        lambda r: r["updated_at"][:10] == utc_day(p.t),
    ),
    "order_date between, repeated fields": lambda p: (
        [("order[order_date][between]", str(p.lo)), ("order[order_date][between]", str(p.t))],
        lambda r: p.lo <= epoch(r["order_date"]) <= p.t,
    ),
    "shipped_at after (empty never matches)": lambda p: (
        [("order[shipped_at][after]", str(p.shipped))],
        lambda r: r["shipped_at"] != "" and epoch(r["shipped_at"]) > p.shipped,
    ),
    "total is": lambda p: ([("total[is]", str(p.total))], lambda r: int(r["total"]) == p.total),
    "total is_not": lambda p: ([("total[is_not]", str(p.total))], lambda r: int(r["total"]) != p.total),
    "total lt": lambda p: ([("total[lt]", str(p.total))], lambda r: int(r["total"]) < p.total),
    "total lte": lambda p: ([("total[lte]", str(p.total))], lambda r: int(r["total"]) <= p.total),
    "total gt": lambda p: ([("total[gt]", str(p.total))], lambda r: int(r["total"]) > p.total),
    "total gte": lambda p: ([("total[gte]", str(p.total))], lambda r: int(r["total"]) >= p.total),
    "amount_paid between [a, b]": lambda p: (
        [("order[amount_paid][between]", f"[1000, {p.paid}]")],
        lambda r: 1000 <= int(r["amount_paid"]) <= p.paid,
    ),
    "refundable_credits_issued gt": lambda p: (
        [("order[refundable_credits_issued][gt]", "0")],
        lambda r: int(r["refundable_credits_issued"]) > 0,
    ),
    "between and gte on one attribute: both hold": lambda p: (
        [("total[gte]", "5000"), ("total[between]", f"[0, {p.total}]")],  # the later, looser bound must not win
        lambda r: 5000 <= int(r["total"]) <= p.total,
    ),
    "filters combine with and": lambda p: (
        [("order[status][in]", "['delivered', 'shipped']"), ("total[gte]", str(p.total))],
        lambda r: r["status"] in ("delivered", "shipped") and int(r["total"]) >= p.total,
    ),
    "between the wrong way round matches nothing": lambda p: ([("total[between]", "[9000, 100]")], lambda r: False),
}


@pytest.fixture
async def all_orders(cb):
    return await cb.rows("orders")


@pytest.mark.parametrize("case", CASES)
async def test_every_filter_operator_is_honoured(cb, all_orders, case):
    form, keep = CASES[case](Pick(all_orders))
    expected = [row["id"] for row in all_orders if keep(row)]
    if case != "between the wrong way round matches nothing":
        assert 0 < len(expected) < len(all_orders), "pick an operand that splits the data set"
    rows = await cb.rows("orders", form)
    assert all(keep(row) for row in rows)  # every row satisfies the filter …
    assert [row["id"] for row in rows] == expected  # … and none that does is missing


@pytest.mark.parametrize(
    "what, form, column, allowed",
    [
        ("customers", {"customer[auto_collection][is]": "off"}, "auto_collection", {"off"}),
        ("customers", {"customer[email][starts_with]": "a"}, "email", None),
        ("subscriptions", {"subscription[status][in]": "['active', 'in_trial']"}, "status", {"active", "in_trial"}),
        ("subscriptions", {"item_price_id[is]": "pro-USD-monthly"}, "item_price_id", {"pro-USD-monthly"}),
        (
            "invoices",
            {"invoice[status][not_in]": '["paid"]'},
            "status",
            {"posted", "payment_due", "not_paid", "voided", "pending"},
        ),
    ],
)
async def test_other_exports_download_their_rows_and_honour_filters(cb, cb_spec, what, form, column, allowed):
    everything = await cb.rows(what)
    rows = await cb.rows(what, form)
    assert len(everything) == ROWS and 0 < len(rows) < ROWS
    model = load_model(cb_spec).object(what)
    assert list(rows[0]) == list(model.default_fields)
    for row in rows:
        assert row[column] in allowed if allowed else row[column].startswith("a")


async def test_exports_of_one_key_agree_on_ids(cb):
    """An order's customer_id and invoice_id are ids of the customers and invoices exports."""
    orders = await cb.rows("orders")
    customers = {row["id"] for row in await cb.rows("customers")}
    invoices = {row["id"] for row in await cb.rows("invoices")}
    assert {row["customer_id"] for row in orders} <= customers
    assert {row["invoice_id"] for row in orders} <= invoices


async def test_each_api_key_is_a_site_with_its_own_data(cb):
    mine = await cb.rows("orders")
    theirs = await cb.as_key("test_other_site").rows("orders")
    assert [r["id"] for r in mine] != [r["id"] for r in theirs]


async def test_the_journal_files_requests_under_a_label_of_their_api_key(cb):
    await cb.trigger("orders")
    await cb.as_key("test_other_site").trigger("customers")
    journal = cb.client.get
    mine = await (await journal("/__mock/requests", params={"app_id": KEY})).json()
    assert [(e["method"], e["path"]) for e in mine["requests"]] == [("POST", "/api/v2/exports/orders")]
    assert mine["requests"][0]["app_id"] == label(KEY) != KEY  # filed under a label, found by the key (21.1)
    assert (await (await journal("/__mock/requests", params={"app_id": label(KEY)})).json()) == mine
    theirs = await (await journal("/__mock/requests", params={"app_id": "test_other_site"})).json()
    assert [e["path"] for e in theirs["requests"]] == ["/api/v2/exports/customers"]


# -------------------------------------------------------------------- errors
BAD_FORMS = [
    ("unparseable list", {"order[status][in]": "['queued'"}, "order[status][in]", "param_wrong_value"),
    (
        "a one-item list of an unknown value",
        {"order[status][in]": "shipping"},
        "order[status][in]",
        "param_wrong_value",
    ),
    ("a nested list", {"order[id][in]": "[['a']]"}, "order[id][in]", "param_wrong_value"),
    ("a list of numbers with a fraction", {"total[between]": "[1.5, 2]"}, "total[between]", "param_wrong_value"),
    ("a list of booleans", {"order[id][in]": "[true]"}, "order[id][in]", "param_wrong_value"),
    ("a list holding an object", {"order[id][in]": '[{"a": 1}]'}, "order[id][in]", "param_wrong_value"),
    ("code instead of a list", {"order[id][in]": "[__import__('os').getcwd()]"}, "order[id][in]", "param_wrong_value"),
    ("between with one value", {"total[between]": "[1]"}, "total[between]", "param_wrong_value"),
    ("indexes with a gap", {"order[id][in][0]": "a", "order[id][in][2]": "b"}, "order[id][in]", "invalid_request"),
    ("unknown filter", {"order[nope][is]": "x"}, "order[nope]", "invalid_request"),
    ("unknown operator", {"order[status][starts]": "q"}, "order[status][starts]", "invalid_request"),
    (
        "operator the filter lacks",
        {"order[original_order_id][in]": "['a']"},
        "order[original_order_id][in]",
        "invalid_request",
    ),
    ("unknown top-level parameter", {"limit": "10"}, "limit", "invalid_request"),
    ("a filter without an operator", {"order[status]": "queued"}, "order[status]", "param_wrong_value"),
    ("unknown enum value", {"order[status][is]": "shipping"}, "order[status][is]", "param_wrong_value"),
    ("text for cents", {"total[gte]": "abc"}, "total[gte]", "param_wrong_value"),
    ("a fraction of a cent", {"total[gte]": "10.5"}, "total[gte]", "param_wrong_value"),
    (
        "a date for a timestamp",
        {"order[updated_at][after]": "2025-01-01"},
        "order[updated_at][after]",
        "param_wrong_value",
    ),
    (
        "is_present that is not a flag",
        {"order[subscription_id][is_present]": "yes"},
        "order[subscription_id][is_present]",
        "param_wrong_value",
    ),
    ("an empty value", {"order[id][is]": ""}, "order[id][is]", "param_wrong_value"),
]


@pytest.mark.parametrize("what, form, param, code", BAD_FORMS, ids=[case[0] for case in BAD_FORMS])
async def test_bad_form_encodings_are_400_naming_the_parameter(cb, what, form, param, code):
    reply = await cb.trigger("orders", form)
    assert reply.status == 400, reply.json
    assert reply.json["type"] == "invalid_request"
    assert reply.json["api_error_code"] == code
    assert reply.json["param"] == param
    assert reply.json["message"].startswith(param)
    assert await stored_exports(cb) == []


@pytest.mark.parametrize(
    "raw, param",
    [
        (b"order[status][is]=queued&order[status][is]=shipped", "order[status][is]"),  # repeated
        (b"order=x&order[status][is]=queued", "order"),  # a value and a group
        (b"order[status][in][0]=a&order[status][in]=['b']", "order[status][in]"),  # a list twice
        (b"order[status=queued", None),  # not a parameter name
        (b"order[status][in][" + b"9" * 5000 + b"]=a", None),  # an index too long to be one
        (b"order[status][is]=%FF", None),  # not UTF-8
        (b"order[status][is]", None),  # no value
    ],
)
async def test_malformed_form_bodies_are_400_invalid_request(cb, raw, param):
    reply = await cb.trigger("orders", body=raw, headers={"Content-Type": FORM})
    assert reply.status == 400, reply.json
    assert reply.json["type"] == reply.json["api_error_code"] == "invalid_request"
    assert reply.json.get("param") == param
    assert await stored_exports(cb) == []


async def test_a_json_body_is_415(cb):
    reply = await cb.trigger("orders", body=b'{"order": {}}', headers={"Content-Type": "application/json"})
    assert reply.status == 415
    assert "form-encoded" in reply.json["message"]


async def test_error_messages_say_what_a_value_must_be(cb):
    reply = await cb.trigger("orders", {"order[updated_at][before]": "soon"})
    assert reply.json["message"] == "order[updated_at][before] : 'soon' must be a Unix time in seconds"


@pytest.mark.parametrize("authorization", [None, "Bearer test_cb_key", "Basic !!!", basic("")])
async def test_missing_or_malformed_credentials_are_401(cb, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    reply = await cb.as_key(None).trigger("orders", {}, headers=headers)
    assert reply.status == 401
    assert reply.json["api_error_code"] == "api_authentication_failed"
    assert "type" not in reply.json  # Chargebee gives credential errors no type
    assert (await cb.as_key(None).retrieve("__test__x", headers=headers)).status == 401


async def test_with_pinned_keys_any_other_key_is_401(make_cb):
    cb = await make_cb(chargebee_keys=[KEY])
    assert (await cb.trigger("orders")).status == 200
    wrong = await cb.as_key("test_wrong").trigger("orders")
    assert wrong.status == 401 and wrong.json["message"] == "Sorry, authentication failed. Invalid api key"
    assert await stored_exports(cb, "test_wrong") == []


async def test_the_password_and_site_are_ignored(cb):
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{KEY}:secret".encode()).decode(),
        "Host": "acme-test.chargebee.com",
    }
    export = (await cb.trigger("orders", headers=headers)).export
    assert (await cb.retrieve(export["id"])).status == 200


async def test_unknown_and_other_sites_exports_are_404(cb):
    missing = await cb.retrieve("__test__nope")
    assert missing.status == 404
    assert missing.json["api_error_code"] == "resource_not_found" and missing.json["type"] == "invalid_request"
    export = (await cb.trigger()).export
    assert (await cb.as_key("test_other").retrieve(export["id"])).status == 404
    assert (await cb.retrieve(export["id"])).status == 200


async def test_wrong_method_is_405_and_unknown_path_404_in_chargebee_shape(cb):
    wrong = await cb.request("DELETE", "/api/v2/exports/__test__x")
    assert wrong.status == 405 and wrong.json["api_error_code"] == "http_method_not_supported"
    assert wrong.headers["Allow"] == "GET"
    put = await cb.request("PUT", "/api/v2/exports/orders")
    assert put.status == 405 and "POST" in put.headers["Allow"]
    nowhere = await cb.request("GET", "/api/v2/plans")
    assert nowhere.status == 404 and nowhere.json["api_error_code"] == "resource_not_found"


async def test_a_sixth_export_in_process_is_429_in_time_mode(make_cb, clock):
    cb = await make_cb(lifecycle="time")
    for _ in range(MAX_IN_PROCESS):
        assert (await cb.trigger()).status == 200
    refused = await cb.trigger()
    assert refused.status == 429 and refused.json["api_error_code"] == "api_request_limit_exceeded"
    assert "type" not in refused.json
    assert refused.headers["Retry-After"] == "3"  # the first completes after 1 s scheduled + 2 s running
    assert len(await stored_exports(cb)) == MAX_IN_PROCESS
    assert (await cb.as_key("test_other").trigger()).status == 200  # the limit is per site
    clock.advance(2)  # Retry-After counts down to the first export's completion, not a fixed figure
    assert (await cb.trigger()).headers["Retry-After"] == "1"
    clock.advance(1)  # they complete on their own
    assert (await cb.trigger()).status == 200


async def test_poll_mode_has_no_in_process_limit(cb):
    for _ in range(MAX_IN_PROCESS + 2):
        assert (await cb.trigger()).status == 200


async def test_injected_rate_limit_is_chargebee_shaped(make_cb):
    cb = await make_cb(rate_limit="1/s")
    await cb.retrieve("__test__x")
    limited = await cb.retrieve("__test__x")
    assert limited.status == 429 and limited.json["api_error_code"] == "api_request_limit_exceeded"


async def test_a_body_over_1_mib_is_413(cb):
    reply = await cb.trigger("orders", body=b"order[id][is]=" + b"x" * (1024 * 1024), headers={"Content-Type": FORM})
    assert reply.status == 413 and reply.json["api_error_code"] == "invalid_request"


async def test_injected_server_faults_are_chargebee_shaped(make_cb):
    cb = await make_cb(error_rate=1.0)
    replies = [await cb.retrieve("__test__x") for _ in range(12)]
    codes = {(reply.status, reply.json["api_error_code"]) for reply in replies}
    assert codes == {(500, "internal_error"), (503, "internal_temporary_error")}


async def test_stateless_answers_from_the_contracts_examples(make_cb):
    cb = await make_cb(stateless=True)
    assert (await cb.trigger()).export["status"] == "in_process"
    done = (await cb.retrieve("__test__x", headers={"Prefer": "example=completed"})).export
    assert done["status"] == "completed" and done["download"]["valid_till"] > done["created_at"]


# ------------------------------------------------------- beside Voucherify
async def test_default_app_serves_both_vendors_each_in_its_own_shape(aiohttp_client, clock):
    client = await aiohttp_client(create_app(Settings(lifecycle="poll"), clock=clock))
    cb = CbApi(client, load_spec("chargebee"))
    assert (await cb.trigger()).status == 200
    voucherify = await client.get("/v1/exports", headers={"X-App-Id": "a", "X-App-Token": "t"})
    assert voucherify.status == 200
    v_missing = await (await client.get("/v1/nowhere")).json()
    assert v_missing["key"] == "not_found" and "api_error_code" not in v_missing
    c_missing = await (await client.get("/api/v2/nowhere")).json()
    assert c_missing["api_error_code"] == "resource_not_found" and "key" not in c_missing
    health = await (await client.get("/__mock/health")).json()
    assert health["vendors"] == list(registry.available())  # every installed vendor, by name


async def test_admin_forces_a_chargebee_export_to_completed(cb):
    export = (await cb.trigger()).export
    forced = await cb.client.post(f"/__mock/exports/{export['id']}/status", json={"status": "completed"})
    assert (await forced.json())["status"] == "completed"
    assert (await cb.retrieve(export["id"])).export["status"] == "completed"


# ------------------------------------------------- decoding never crashes
_PARTS = st.sampled_from(
    [
        "order",
        "total",
        "customer",
        "status",
        "id",
        "updated_at",
        "in",
        "not_in",
        "between",
        "is",
        "gte",
        "after",
        "on",
        "is_present",
        "0",
        "1",
        "x",
    ]
)
_NAMES = st.builds(lambda head, rest: head + "".join(f"[{p}]" for p in rest), _PARTS, st.lists(_PARTS, max_size=3))
_VALUES = st.one_of(
    st.text(max_size=12),
    st.integers().map(str),
    st.sampled_from(["true", "queued", "[]", "[[", "[1.5]"]),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3).flatmap(
        lambda items: st.sampled_from([repr(items), json.dumps(items)])
    ),
)


@pytest.fixture(scope="module")
def orders_pipeline():
    vendor = Chargebee()
    operation = vendor.spec.operation("export-orders")
    return vendor, operation, RequestValidator(operation), vendor.filter_params["export-orders"]


def _decode_or_word(orders_pipeline, raw: bytes) -> None:
    """What the pipeline does with a form body: a valid one translates, anything else becomes a 4xx."""
    vendor, operation, validator, params = orders_pipeline
    try:
        body, _ = validator.check_body(FORM, raw, vendor.decode_form)
    except Invalid as problem:
        error = vendor.invalid(problem, operation)
        assert 400 <= error.status < 500 and vendor.error_body(error, "")["message"]
        return
    filters = translate(params, body)
    assert set(filters) <= {p.attribute for p in params}


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=6))
def test_any_form_body_is_translated_or_refused_with_a_4xx(orders_pipeline, pairs):
    _decode_or_word(orders_pipeline, urlencode(pairs).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=80))
def test_any_bytes_are_translated_or_refused_with_a_4xx(orders_pipeline, raw):
    _decode_or_word(orders_pipeline, raw)


def test_python_repr_json_indexed_and_repeated_lists_decode_alike():
    decode_form = Chargebee().decode_form  # the list style of the overlay's x-mock.form
    expected = {"order": {"status": {"in": ["queued", "7"]}}}
    assert decode_form(b"order[status][in]=['queued', 7]") == expected
    assert decode_form(urlencode({"order[status][in]": '["queued", 7]'}).encode()) == expected
    assert decode_form(b"order[status][in][1]=7&order[status][in][0]=queued") == expected
    assert decode_form(b"order[status][in]=queued&order[status][in]=7") == expected
    # one item given item by item, as deepObject renders a one-item list
    assert decode_form(b"order[status][in]=queued") == {"order": {"status": {"in": ["queued"]}}}


# --------------------------------------------------- every operation of the SDK
TRIGGERS = [op for op in load_spec("chargebee").operations if "x-exported-object" in op.raw]


@one_worker("chargebee")
def test_the_contract_has_every_export_operation_of_the_sdk():
    sdk = pytest.importorskip("chargebee.models.export.operations").Export
    served = {op.path.rsplit("/", 1)[1] for op in TRIGGERS}
    methods = {
        name
        for name in vars(sdk)
        if callable(getattr(sdk, name))
        and not name.startswith("_")
        and name not in ("retrieve", "wait_for_export_completion")
        and name[0].islower()
    }
    assert served == methods and len(served) == 18


@pytest.mark.parametrize("op", TRIGGERS, ids=[op.operation_id for op in TRIGGERS])
async def test_every_export_operation_is_served_not_taken_for_retrieve(cb, cb_spec, op):
    """POST /exports/plans once answered 405 "use GET": the retrieve route took any /exports/<word>."""
    reply = await cb.trigger(op.path.rsplit("/", 1)[1], least_body_form(op))
    assert reply.status == 200, reply.json
    assert reply.export["operation_type"] == op.raw["x-exported-object"]
    done = await cb.completed(reply.export["id"])
    names, rows, header = read_zip((await cb.download(done)).raw)
    assert names == [f"{op.raw['x-exported-object']}.csv"]
    assert header == list(load_model(cb_spec).object(op.raw["x-exported-object"]).exported)


def least_body_form(op) -> dict:
    """The required parameters only: the revenue reports' period, this month."""
    body = least_body(op) or {}
    now = datetime.fromtimestamp(START, timezone.utc)
    return {
        **body,
        **(
            {
                "report_from_month": now.month,
                "report_from_year": now.year,
                "report_to_month": now.month,
                "report_to_year": now.year,
            }
            if body
            else {}
        ),
    }


@pytest.mark.parametrize(
    "form, param",
    [
        ({}, "report_by"),
        (
            {"report_by": "customer", "report_from_month": "1", "report_from_year": "2026", "report_to_month": "2"},
            "report_to_year",
        ),
        (
            {
                "report_by": "region",
                "report_from_month": "1",
                "report_from_year": "2026",
                "report_to_month": "2",
                "report_to_year": "2026",
            },
            "report_by",
        ),
        (
            {
                "report_by": "customer",
                "report_from_month": "0",
                "report_from_year": "2026",
                "report_to_month": "2",
                "report_to_year": "2026",
            },
            "report_from_month",
        ),
    ],
)
async def test_the_revenue_reports_require_their_period(cb, form, param):
    reply = await cb.trigger("deferred_revenue", form)
    assert reply.status == 400 and reply.json["type"] == "invalid_request"
    assert reply.json["api_error_code"] == "param_wrong_value" and reply.json["param"] == param
    if param not in form:
        assert reply.json["message"] == f"{param} : cannot be blank"
    assert await stored_exports(cb) == []


async def test_a_revenue_report_without_any_body_says_what_is_blank(cb):
    """No body at all is an empty form (as on the wire), not a missing document."""
    reply = await cb.request("POST", "/api/v2/exports/deferred_revenue")
    assert reply.status == 400 and reply.json["message"] == "report_by : cannot be blank"


@pytest.mark.parametrize("field", ["business_entity_id[in]", "business_entity_id[in][0]"])
async def test_a_list_item_cannot_start_with_a_bracket(cb, field):
    """Sent as one field, `[in]=[x` would read as a list written as text; the contract says so, so a
    client sending lists as repeated fields never meets the ambiguity."""
    form = {
        "report_by": "customer",
        "report_from_month": "1",
        "report_from_year": "2026",
        "report_to_month": "2",
        "report_to_year": "2026",
        field: "[x",
    }
    reply = await cb.trigger("deferred_revenue", form)
    assert reply.status == 400 and reply.json["param"] == "business_entity_id[in]"
    if field.endswith("[0]"):  # the pattern worded by its x-reads-as, backslash and all
        assert reply.json["message"].endswith('must be text that does not start with "["'), reply.json
    plain = await cb.trigger("deferred_revenue", {**form, field: "x"})
    assert plain.status == 200


async def test_a_revenue_report_holds_only_its_months(cb):
    now = datetime.fromtimestamp(START, timezone.utc)
    form = {
        "report_by": "invoice",
        "report_from_month": now.month,
        "report_from_year": now.year,
        "report_to_month": now.month,
        "report_to_year": now.year,
    }
    rows = await cb.rows("revenue_recognition", form)
    first = datetime(now.year, now.month, 1, tzinfo=timezone.utc).timestamp()
    assert rows and all(first <= epoch(row["date"]) <= START for row in rows)
    reversed_period = {**form, "report_from_year": now.year + 1}  # ends before it starts: nothing, as `between`
    assert await cb.rows("revenue_recognition", reversed_period) == []


# --------------------------------------------------------------- idempotency
async def test_an_idempotency_key_replays_its_request_for_30_minutes(cb, clock):
    key = {"chargebee-idempotency-key": "5b2c-retry"}
    form = {"coupon[status][is]": "active"}
    first = await cb.trigger("coupons", form, headers=key)
    assert first.status == 200 and "chargebee-idempotency-replayed" not in first.headers
    again = await cb.trigger("coupons", form, headers=key)
    assert again.headers["chargebee-idempotency-replayed"] == "true"
    assert again.export["id"] == first.export["id"] and len(await stored_exports(cb)) == 1
    clock.advance(30 * 60 + 1)
    later = await cb.trigger("coupons", form, headers=key)
    assert "chargebee-idempotency-replayed" not in later.headers and later.export["id"] != first.export["id"]


async def test_an_idempotency_key_over_100_characters_is_400(cb):
    reply = await cb.trigger("coupons", {}, headers={"chargebee-idempotency-key": "k" * 101})
    assert reply.status == 400 and reply.json["param"] == "chargebee-idempotency-key"
    assert await stored_exports(cb) == []


async def test_an_id_longer_than_any_export_id_is_a_documented_400(cb):
    reply = await cb.request("GET", "/api/v2/exports/" + "x" * 51)
    assert reply.status == 400 and reply.json["param"] == "export-id"
    assert "400" in cb.spec.operation("retrieve-export").responses


def test_chargebee_is_data_served_by_the_generic_engine_but_for_its_filter_grammar():
    """The protocol lives in schemas/chargebee/overlay.yaml; the package keeps only the
    hook no annotation can state: its filter grammar."""
    from mockserver.vendors.openapi import OpenApiVendor

    assert issubclass(Chargebee, OpenApiVendor)
    own = {name for name, value in vars(Chargebee).items() if callable(value) and not name.startswith("__")}
    assert own == {"export_filters"}
    assert Chargebee().roles["retrieve-export"].role == "status"
