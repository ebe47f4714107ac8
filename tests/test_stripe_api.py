"""Stripe Reporting in-process: report runs through their lifecycle, the CSV
each report type writes (columns, interval, filters, time zones, amounts),
the balance summary adding up, pagination, report types, credentials and
Stripe's errors. Every answer is checked against schemas/stripe/."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from mockserver.app import Settings, create_app
from mockserver.clock import Clock
from mockserver.spec import Spec, load_spec
from mockserver.vendors.stripe import Stripe

KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
LIVE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Reply:
    status: int
    headers: Any
    body: Any  # parsed JSON, text, or None


class StripeApi:
    def __init__(self, client, spec: Spec, key: str = KEY) -> None:
        self.client, self.spec, self.key = client, spec, key

    def as_key(self, key: str) -> StripeApi:
        return StripeApi(self.client, self.spec, key)

    async def request(self, method: str, path: str, *, auth: bool = True, headers=None, **kwargs) -> Reply:
        sent = dict(headers or {})
        if auth:
            sent.setdefault("Authorization", f"Bearer {self.key}")
        resp = await self.client.request(method, path, headers=sent, **kwargs)
        raw = await resp.read()
        media = resp.content_type if raw else None
        body: Any = json.loads(raw) if media == "application/json" else raw.decode() if raw else None
        operation = self.spec.match(method, path.split("?")[0])
        if operation is not None:
            self.spec.check_response(operation, resp.status, media, body)
        if resp.status >= 400:
            assert media == "application/json" and set(body) == {"error"}, body
            assert body["error"]["type"] in ("invalid_request_error", "api_error", "idempotency_error")
            assert body["error"]["message"]
        return Reply(resp.status, resp.headers, body)

    async def get(self, path: str, **kwargs) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def create(self, report_type: str, pairs=(), *, headers=None) -> Reply:
        """POST a run: `pairs` are extra form fields, e.g. [("parameters[columns][0]", "net")]."""
        body = urlencode([("report_type", report_type), *pairs])
        return await self.request("POST", "/v1/reporting/report_runs", data=body, headers={**FORM, **(headers or {})})

    async def finish(self, run: dict, steps: int = 4) -> dict:
        """Retrieve a run (lifecycle `poll`) until it is no longer pending."""
        for _ in range(steps):
            run = (await self.get(f"/v1/reporting/report_runs/{run['id']}")).body
            if run["status"] != "pending":
                break
        return run

    async def rows(self, run: dict) -> tuple[list[str], list[dict]]:
        """(header, rows) of a succeeded run's CSV."""
        run = await self.finish(run)
        assert run["status"] == "succeeded", run
        path = "/v1/files/" + run["result"]["url"].split("/v1/files/")[1]
        reply = await self.get(path)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/csv")
        assert len(reply.body.encode()) == run["result"]["size"]
        reader = csv.reader(io.StringIO(reply.body))
        header = next(reader)
        return header, [dict(zip(header, line)) for line in reader]


def interval(pairs_start: int, pairs_end: int) -> list[tuple[str, str]]:
    return [("parameters[interval_start]", str(pairs_start)), ("parameters[interval_end]", str(pairs_end))]


def columns(*names: str) -> list[tuple[str, str]]:
    return [(f"parameters[columns][{index}]", name) for index, name in enumerate(names)]


async def make_stripe_api(aiohttp_client, spec: Spec, clock: Clock, *, keys=(), **options) -> StripeApi:
    settings = Settings(**options)
    app = create_app(settings, clock=clock, vendors=[Stripe(spec=spec, keys=keys)])
    return StripeApi(await aiohttp_client(app), spec)


START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
END = 1_699_999_200  # the start of that hour: where data ends (data_available_end)
DAY = 86_400
ITEMIZED = "balance_change_from_activity.itemized.1"
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
STAMP = "%Y-%m-%d %H:%M:%S"


@pytest.fixture(scope="module")
def spec():
    return load_spec("stripe")


@pytest.fixture
def clock():
    return Clock(start=START, frozen=True)


@pytest.fixture
async def api(aiohttp_client, spec, clock):
    return await make_stripe_api(aiohttp_client, spec, clock, lifecycle="poll", rows=300)


def _utc(text: str) -> int:
    return int(datetime.strptime(text, STAMP).replace(tzinfo=timezone.utc).timestamp())


async def test_a_run_is_pending_then_succeeds_and_its_csv_has_the_columns_asked_for_in_that_order(api):
    wanted = ("net", "created_utc", "reporting_category", "balance_transaction_id", "fee")
    created = await api.create(ITEMIZED, interval(END - 2 * DAY, END - DAY) + columns(*wanted))
    assert created.status == 200
    run = created.body
    assert run["status"] == "pending" and run["result"] is None and run["succeeded_at"] is None
    assert run["id"].startswith("frr_") and run["livemode"] is False
    assert run["parameters"] == {"interval_start": END - 2 * DAY, "interval_end": END - DAY, "columns": list(wanted)}
    header, rows = await api.rows(run)
    assert tuple(header) == wanted
    assert rows and all(END - 2 * DAY <= _utc(row["created_utc"]) < END - DAY for row in rows)
    assert all(AMOUNT.match(row["net"]) and AMOUNT.match(row["fee"]) for row in rows)
    assert all(row["balance_transaction_id"].startswith("txn_") for row in rows)
    done = await api.finish(run)
    assert done["succeeded_at"] == int(START) and done["result"]["purpose"] == "finance_report_run"
    assert done["result"]["id"] == "file_" + run["id"][4:]


async def test_the_interval_picks_exactly_the_rows_between_its_ends(api):
    _, everything = await api.rows((await api.create(ITEMIZED, interval(END - 30 * DAY, END))).body)
    _, early = await api.rows((await api.create(ITEMIZED, interval(END - 30 * DAY, END - DAY))).body)
    _, late = await api.rows((await api.create(ITEMIZED, interval(END - DAY, END))).body)
    assert early and late
    assert sorted(early + late, key=lambda r: r["balance_transaction_id"]) == sorted(
        everything, key=lambda r: r["balance_transaction_id"]
    )


async def test_without_columns_a_run_gets_the_report_types_default_columns(api, spec):
    header, _ = await api.rows((await api.create("payouts.itemized.1", interval(END - DAY, END))).body)
    branch = spec.schema("ReportRunCreateRequest")["discriminator"]["mapping"]["payouts.itemized.1"]
    assert header == branch["properties"]["parameters"]["properties"]["columns"]["default"]
    described = (await api.get("/v1/reporting/report_types/payouts.itemized.1")).body
    assert described["default_columns"] == header


async def test_columns_may_come_with_empty_brackets(api):
    pairs = interval(END - DAY, END) + [("parameters[columns][]", "currency"), ("parameters[columns][]", "net")]
    header, rows = await api.rows((await api.create(ITEMIZED, pairs)).body)
    assert header == ["currency", "net"] and rows


async def test_currency_and_reporting_category_keep_only_matching_rows(api):
    pairs = interval(END - 30 * DAY, END) + [
        ("parameters[currency]", "EUR"),
        ("parameters[reporting_category]", "refund"),
    ]
    run = (await api.create(ITEMIZED, pairs + columns("currency", "reporting_category", "gross"))).body
    assert run["parameters"]["currency"] == "eur"
    _, rows = await api.rows(run)
    assert rows and all(row["currency"] == "eur" and row["reporting_category"] == "refund" for row in rows)
    assert all(row["gross"].startswith("-") for row in rows)  # refunds take money out


async def test_decimal_separator_comma_writes_amounts_with_a_comma(api):
    pairs = interval(END - DAY, END) + [("parameters[decimal_separator]", ",")] + columns("net")
    _, rows = await api.rows((await api.create(ITEMIZED, pairs)).body)
    assert rows and all(re.match(r"^-?\d+,\d{2}$", row["net"]) for row in rows)


async def test_timezone_writes_activity_timestamps_in_that_zone(api):
    base = interval(END - DAY, END) + columns("balance_transaction_id", "activity_at", "amount")
    _, utc_rows = await api.rows((await api.create("activity.itemized.2", base)).body)
    _, tokyo_rows = await api.rows(
        (await api.create("activity.itemized.2", base + [("parameters[timezone]", "Asia/Tokyo")])).body
    )
    assert utc_rows and len(utc_rows) == len(tokyo_rows)
    for utc, tokyo in zip(utc_rows, tokyo_rows):
        assert utc["balance_transaction_id"] == tokyo["balance_transaction_id"]
        shifted = datetime.strptime(utc["activity_at"], STAMP) + timedelta(hours=9)
        assert tokyo["activity_at"] == shifted.strftime(STAMP)


@pytest.mark.parametrize("report_type", ["balance.summary.1", "balance.summary.2"])
async def test_balance_summary_adds_up_to_the_itemized_reports(api, report_type):
    start, end = END - 2 * DAY, END - DAY // 2
    _, summary = await api.rows((await api.create(report_type, interval(start, end))).body)
    _, activity = await api.rows((await api.create(ITEMIZED, interval(start, end) + columns("currency", "net"))).body)
    _, payouts = await api.rows(
        (await api.create("payouts.itemized.1", interval(start, end) + columns("currency", "net"))).body
    )
    _, before = await api.rows(
        (await api.create(ITEMIZED, interval(END - 700 * DAY, start) + columns("currency", "net"))).body
    )
    _, paid_before = await api.rows(
        (await api.create("payouts.itemized.1", interval(END - 700 * DAY, start) + columns("currency", "net"))).body
    )

    def total(rows, currency):
        return sum(round(float(row["net"]) * 100) for row in rows if row["currency"] == currency)

    lines = {(row["currency"], row["category"]): row for row in summary}
    currencies = {row["currency"] for row in summary}
    assert "usd" in currencies
    for currency in currencies:
        cents = {
            category: round(float(lines[currency, category]["net_amount"]) * 100)
            for category in ("starting_balance", "activity", "payouts", "ending_balance")
        }
        assert cents["activity"] == total(activity, currency)
        assert cents["payouts"] == total(payouts, currency)
        assert cents["starting_balance"] == total(before, currency) + total(paid_before, currency)
        assert cents["ending_balance"] == cents["starting_balance"] + cents["activity"] + cents["payouts"]
    first = lines["usd", "starting_balance"]["description"]
    assert first == "Starting balance (2023-11-12)"
    assert lines["usd", "ending_balance"]["description"] == "Ending balance (2023-11-14)"


async def test_balance_summary_dates_follow_the_timezone_and_columns_their_order(api):
    pairs = (
        interval(END - 2 * DAY, END)
        + [("parameters[timezone]", "America/Los_Angeles"), ("parameters[currency]", "usd")]
        + columns("net_amount", "description")
    )
    header, rows = await api.rows((await api.create("balance.summary.1", pairs)).body)
    assert header == ["net_amount", "description"]
    assert [row["description"] for row in rows] == [
        "Starting balance (2023-11-12)",
        "Activity",
        "Total payouts",
        "Ending balance (2023-11-14)",
    ]


async def test_the_same_seed_gives_the_same_file_and_another_key_another_data_set(api):
    pairs = interval(END - DAY, END)
    first = await api.rows((await api.create(ITEMIZED, pairs)).body)
    again = await api.rows((await api.create(ITEMIZED, pairs)).body)
    other = await api.as_key("sk_test_someoneelse").rows(
        (await api.as_key("sk_test_someoneelse").create(ITEMIZED, pairs)).body
    )
    assert first == again and first[1] != other[1]


async def test_time_lifecycle_moves_with_the_mock_clock(aiohttp_client, spec, clock):
    api = await make_stripe_api(aiohttp_client, spec, clock, lifecycle="time", scheduled_seconds=5, running_seconds=10)
    run = (await api.create(ITEMIZED, interval(END - DAY, END))).body
    assert (await api.get(f"/v1/reporting/report_runs/{run['id']}")).body["status"] == "pending"
    clock.advance(14)
    assert (await api.get(f"/v1/reporting/report_runs/{run['id']}")).body["status"] == "pending"
    clock.advance(1)
    done = (await api.get(f"/v1/reporting/report_runs/{run['id']}")).body
    assert done["status"] == "succeeded" and done["succeeded_at"] == int(START) + 15


async def test_a_failed_run_says_why_and_has_no_file(api):
    created = await api.create(ITEMIZED, interval(END - DAY, END), headers={"Prefer": "outcome=error"})
    assert created.status == 200, created.body
    run = created.body
    run = await api.finish(run)
    assert run["status"] == "failed" and run["error"] and run["result"] is None
    missing = await api.get(f"/v1/files/file_{run['id'][4:]}")
    assert missing.status == 404 and missing.body["error"]["code"] == "resource_missing"


async def test_a_pending_runs_file_does_not_exist_yet(api):
    run = (await api.create(ITEMIZED, interval(END - DAY, END))).body
    for path in (f"/v1/files/file_{run['id'][4:]}", f"/v1/files/file_{run['id'][4:]}/contents"):
        reply = await api.get(path)
        assert reply.status == 404 and reply.body["error"]["param"] == "file"


@pytest.mark.parametrize(
    ("pairs", "param", "code"),
    [
        (interval(END - DAY, END + 3600), "parameters[interval_end]", "parameter_invalid"),
        (interval(END - 731 * DAY, END), "parameters[interval_start]", "parameter_invalid"),
        (interval(END, END - DAY), "parameters[interval_start]", "parameter_invalid"),
        (interval(END - DAY, END - DAY), "parameters[interval_start]", "parameter_invalid"),
        ([("parameters[interval_start]", str(END - DAY))], "parameters[interval_end]", "parameter_missing"),
        (
            [("parameters[interval_start]", "yesterday"), ("parameters[interval_end]", str(END))],
            "parameters[interval_start]",
            "parameter_invalid",
        ),
        (interval(END - DAY, END) + [("parameters[payout]", "po_123")], "parameters[payout]", "parameter_unknown"),
        (
            interval(END - DAY, END) + [("parameters[connected_account]", "acct_1")],
            "parameters[connected_account]",
            "parameter_unknown",
        ),
        (interval(END - DAY, END) + columns("net", "no_such_column"), "parameters[columns]", "parameter_invalid"),
        (interval(END - DAY, END) + [("parameters[currency]", "dollars")], "parameters[currency]", "parameter_invalid"),
    ],
)
async def test_bad_parameters_are_400s_naming_the_parameter(api, pairs, param, code):
    reply = await api.create(ITEMIZED, pairs)
    assert reply.status == 400, reply.body
    error = reply.body["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["code"] == code
    assert param in error["message"] or "Unix timestamp" in error["message"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "../../etc/passwd", ""])
async def test_an_unknown_time_zone_is_a_400(api, zone):
    reply = await api.create("activity.itemized.2", interval(END - DAY, END) + [("parameters[timezone]", zone)])
    assert reply.status == 400 and reply.body["error"]["param"] == "parameters[timezone]"


async def test_a_timestamp_that_is_not_one_is_worded_as_such(api):
    reply = await api.create(
        ITEMIZED, [("parameters[interval_start]", "yesterday"), ("parameters[interval_end]", str(END))]
    )
    assert "a Unix timestamp in whole seconds" in reply.body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ("", "report_type"),
        ("parameters[interval_start]=1", "report_type"),
        ("report_type=balance.monthly.9&parameters[interval_start]=1", "report_type"),
        (urlencode([("report_type", "balance.summary.1")]), "parameters"),
    ],
)
async def test_report_type_must_be_given_and_known(api, body, param):
    reply = await api.request("POST", "/v1/reporting/report_runs", data=body, headers=FORM)
    assert reply.status == 400 and reply.body["error"]["param"] == param


@pytest.mark.parametrize(
    "body",
    [
        "report_type=balance.summary.1&parameters[columns][0]=a&parameters[columns][2]=b",
        "report_type=balance.summary.1&report_type=balance.summary.1",
        "report_type=balance.summary.1&parameters=x&parameters[interval_start]=1",
        "report_type=balance.summary.1&%ff=1",
        "report_type=balance.summary.1&parameters[[x]]=1",
    ],
)
async def test_malformed_form_bodies_are_400s(api, body):
    reply = await api.request("POST", "/v1/reporting/report_runs", data=body, headers=FORM)
    assert reply.status == 400 and reply.body["error"]["type"] == "invalid_request_error"


async def test_a_json_body_is_refused(api):
    reply = await api.request("POST", "/v1/reporting/report_runs", json={"report_type": ITEMIZED})
    assert reply.status == 415


async def test_credentials_bearer_basic_missing_and_wrong(api):
    path = "/v1/reporting/report_types"
    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert (await api.get(path, headers={"Authorization": basic})).status == 200
    missing = await api.get(path, auth=False)
    assert missing.status == 401 and "API key" in missing.body["error"]["message"]
    for wrong in ("Bearer pk_test_123", "Bearer nonsense", "Basic !!!", "Token sk_test_1"):
        reply = await api.get(path, headers={"Authorization": wrong})
        assert reply.status == 401 and reply.body["error"]["type"] == "invalid_request_error", wrong


async def test_pinned_keys_are_the_only_keys(aiohttp_client, spec, clock):
    api = await make_stripe_api(aiohttp_client, spec, clock, keys=[KEY])
    assert (await api.get("/v1/reporting/report_types")).status == 200
    refused = await api.as_key("sk_test_other").get("/v1/reporting/report_types")
    assert refused.status == 401 and "sk_test_****" in refused.body["error"]["message"]


async def test_live_keys_run_in_live_mode(api):
    live = api.as_key("sk_live_abc123")
    run = (await live.create(ITEMIZED, interval(END - DAY, END))).body
    assert run["livemode"] is True
    assert (await live.get("/v1/reporting/report_types/balance.summary.1")).body["livemode"] is True


async def test_a_key_sees_only_its_own_runs(api):
    run = (await api.create(ITEMIZED, interval(END - DAY, END))).body
    other = api.as_key("sk_test_other")
    missing = await other.get(f"/v1/reporting/report_runs/{run['id']}")
    assert missing.status == 404 and missing.body["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "id",
        "message": f"No such report run: '{run['id']}'",
    }
    assert (await other.get("/v1/reporting/report_runs")).body["data"] == []


async def test_list_pages_newest_first_with_cursors(api, clock):
    ids = []
    for _ in range(5):
        ids.append((await api.create(ITEMIZED, interval(END - DAY, END))).body["id"])
        clock.advance(1)
    newest_first = ids[::-1]
    first = (await api.get("/v1/reporting/report_runs?limit=2")).body
    assert [run["id"] for run in first["data"]] == newest_first[:2] and first["has_more"] is True
    assert first["url"] == "/v1/reporting/report_runs" and first["object"] == "list"
    second = (await api.get(f"/v1/reporting/report_runs?limit=2&starting_after={newest_first[1]}")).body
    assert [run["id"] for run in second["data"]] == newest_first[2:4] and second["has_more"] is True
    last = (await api.get(f"/v1/reporting/report_runs?limit=2&starting_after={newest_first[3]}")).body
    assert [run["id"] for run in last["data"]] == newest_first[4:] and last["has_more"] is False
    back = (await api.get(f"/v1/reporting/report_runs?limit=2&ending_before={newest_first[3]}")).body
    assert [run["id"] for run in back["data"]] == newest_first[1:3] and back["has_more"] is True
    default = (await api.get("/v1/reporting/report_runs")).body
    assert len(default["data"]) == 5 and default["has_more"] is False
    since = int(START) + 3
    recent = (await api.get(f"/v1/reporting/report_runs?created[gte]={since}")).body
    assert [run["id"] for run in recent["data"]] == newest_first[:2]
    older = (await api.get(f"/v1/reporting/report_runs?created[lt]={since}&created[gt]={int(START)}")).body
    assert [run["id"] for run in older["data"]] == newest_first[2:4]


async def test_list_refuses_bad_cursors_and_limits(api):
    unknown = await api.get("/v1/reporting/report_runs?starting_after=frr_nope")
    assert unknown.status == 404 and unknown.body["error"]["param"] == "starting_after"
    both = await api.get("/v1/reporting/report_runs?starting_after=a&ending_before=b")
    assert both.status == 400
    for limit in ("0", "101", "ten"):
        reply = await api.get(f"/v1/reporting/report_runs?limit={limit}")
        assert reply.status == 400 and reply.body["error"]["param"] == "limit", limit


async def test_report_types_describe_what_runs_accept(api, spec):
    listed = (await api.get("/v1/reporting/report_types")).body
    ids = [t["id"] for t in listed["data"]]
    assert set(ids) >= {"balance.summary.1", ITEMIZED, "payouts.itemized.1", "activity.itemized.2"}
    catalogue = _catalogue(spec)
    assert ids == [i for i in catalogue if not catalogue[i]["x-report-type"].get("live_only")]
    live = (await api.as_key(LIVE_KEY).get("/v1/reporting/report_types")).body
    assert [t["id"] for t in live["data"]] == list(catalogue) and len(ids) < len(catalogue)
    for described in listed["data"]:
        assert described["data_available_end"] == END
        assert described["data_available_start"] == END - 730 * DAY
        assert described["version"] == int(described["id"][-1])
    one = (await api.get("/v1/reporting/report_types/activity.itemized.2")).body
    assert one == next(t for t in listed["data"] if t["id"] == "activity.itemized.2")
    missing = await api.get("/v1/reporting/report_types/balance.monthly.9")
    assert missing.status == 404 and missing.body["error"]["code"] == "resource_missing"


async def test_a_file_is_retrievable_and_matches_its_run(api):
    run = await api.finish((await api.create(ITEMIZED, interval(END - DAY, END))).body)
    file = (await api.get(f"/v1/files/{run['result']['id']}")).body
    assert file == run["result"]
    assert file["url"].endswith(f"/v1/files/{file['id']}/contents") and file["type"] == "csv"
    other = await api.as_key("sk_test_other").get(f"/v1/files/{file['id']}/contents")
    assert other.status == 404


async def test_unknown_paths_under_reporting_answer_in_stripes_shape(api):
    reply = await api.get("/v1/reporting/nothing_here")
    assert reply.status == 404 and set(reply.body) == {"error"}


async def test_the_control_plane_moves_runs_by_neutral_phase(aiohttp_client, spec, clock):
    api = await make_stripe_api(aiohttp_client, spec, clock, lifecycle="time", scheduled_seconds=60)
    run = (await api.create(ITEMIZED, interval(END - DAY, END))).body
    forced = await api.client.post(f"/__mock/exports/{run['id']}/status", json={"status": "done"})
    assert forced.status == 200
    done = (await api.get(f"/v1/reporting/report_runs/{run['id']}")).body
    assert done["status"] == "succeeded" and done["result"]["size"] > 0
    later = (await api.create(ITEMIZED, interval(END - DAY, END))).body
    assert (await api.client.post("/__mock/clock/advance", json={"seconds": 3600})).status == 200
    assert (await api.get(f"/v1/reporting/report_runs/{later['id']}")).body["status"] == "succeeded"


@pytest.mark.parametrize(
    ("report_type", "at"),
    [(ITEMIZED, "created_utc"), ("payouts.itemized.1", "effective_at_utc"), ("activity.itemized.2", "activity_at")],
)
async def test_itemized_rows_come_oldest_first(api, report_type, at):
    _, rows = await api.rows((await api.create(report_type, interval(END - 5 * DAY, END) + columns(at))).body)
    moments = [row[at] for row in rows]
    assert len(moments) > 1 and moments == sorted(moments)


async def test_a_balance_summary_before_any_activity_is_zero_in_the_default_currency(api, spec):
    start = END - 60 * DAY  # 300 rows reach back about 17 days
    _, summary = await api.rows((await api.create("balance.summary.1", interval(start, start + 3600))).body)
    default = spec.schema("StripeBalanceTransactionRow")["properties"]["currency"]["enum"][0]
    assert [row["category"] for row in summary] == ["starting_balance", "activity", "payouts", "ending_balance"]
    assert {row["currency"] for row in summary} == {default}
    assert {row["net_amount"] for row in summary} == {"0.00"}


# -- headers, idempotency, expand ---------------------------------------------
async def test_request_id_and_version_on_every_answer_downloads_and_unknown_paths_too(api):
    run = await api.finish((await api.create(ITEMIZED, interval(END - DAY, END))).body)
    for reply in (
        await api.get(f"/v1/reporting/report_runs/{run['id']}"),
        await api.get(run["result"]["url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])),
        await api.get("/v1/reporting/nowhere"),
        await api.get("/v1/files/file_nope"),
        await api.get("/v1/reporting/report_types", auth=False),
    ):
        assert re.match(r"^req_[A-Za-z0-9]{14}$", reply.headers["Request-Id"]), reply
        assert reply.headers["Stripe-Version"] == "2026-10-28.endive"
    asked = await api.get("/v1/reporting/report_types", headers={"Stripe-Version": "2020-08-27"})
    assert asked.status == 200 and asked.headers["Stripe-Version"] == "2020-08-27"
    bad = await api.get("/v1/reporting/report_types", headers={"Stripe-Version": "latest please"})
    assert bad.status == 400 and "Invalid Stripe API version" in bad.body["error"]["message"]


async def test_an_idempotency_key_refused_by_validation_stores_nothing(api):
    key = {"Idempotency-Key": "fix-and-retry"}
    refused = await api.create(ITEMIZED, interval(END - DAY, END + 7200), headers=key)
    assert refused.status == 400 and refused.body["error"]["code"] == "parameter_invalid"
    fixed = await api.create(ITEMIZED, interval(END - DAY, END), headers=key)
    assert fixed.status == 200 and "Idempotent-Replayed" not in fixed.headers
    assert fixed.headers["Idempotency-Key"] == "fix-and-retry"
    replayed = await api.create(ITEMIZED, interval(END - DAY, END), headers=key)
    assert replayed.body == fixed.body and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers["Request-Id"] != fixed.headers["Request-Id"]


async def test_idempotency_keys_expire_after_a_day_and_each_account_keeps_a_bounded_number(
    api, clock, aiohttp_client, spec
):
    key = {"Idempotency-Key": "daily"}
    first = (await api.create(ITEMIZED, interval(END - DAY, END), headers=key)).body
    clock.advance(DAY - 1)
    assert (await api.create(ITEMIZED, interval(END - DAY, END), headers=key)).body["id"] == first["id"]
    clock.advance(1)
    assert (await api.create(ITEMIZED, interval(END - DAY, END), headers=key)).body["id"] != first["id"]

    from dataclasses import replace

    stripe = Stripe(spec=spec)  # the overlay's max-keys (1,000), made 3
    stripe.api = replace(stripe.api, idempotency=replace(stripe.api.idempotency, max_keys=3))
    app = create_app(Settings(lifecycle="poll", rows=300), clock=clock, vendors=[stripe])
    api = StripeApi(await aiohttp_client(app), spec)
    made = [
        (await api.create(ITEMIZED, interval(END - DAY, END), headers={"Idempotency-Key": f"k{n}"})).body["id"]
        for n in range(5)
    ]
    again = [
        (await api.create(ITEMIZED, interval(END - DAY, END), headers={"Idempotency-Key": f"k{n}"})).body["id"]
        for n in (0, 4)
    ]
    assert again[0] != made[0] and again[1] == made[4]  # the oldest key went, the newest is kept


async def test_a_bad_idempotency_key_is_refused(api):
    too_long = await api.create(ITEMIZED, interval(END - DAY, END), headers={"Idempotency-Key": "k" * 256})
    assert too_long.status == 400 and "Idempotency-Key" in too_long.body["error"]["message"]


async def test_expand_on_a_form_body_and_unknown_query_parameters(api):
    made = await api.create(ITEMIZED, interval(END - DAY, END) + [("expand[]", "result")])
    assert made.status == 200
    refused = await api.create(ITEMIZED, interval(END - DAY, END) + [("expand[0]", "report_type")])
    assert refused.status == 400 and refused.body["error"] == {
        "type": "invalid_request_error",
        "message": "This property cannot be expanded (report_type).",
    }
    deep = await api.get(f"/v1/reporting/report_runs/{made.body['id']}?expand[]=result.links.data.file.x")
    assert deep.status == 400 and "more than 4 levels" in deep.body["error"]["message"]
    unknown = await api.get("/v1/reporting/report_types?limit=3")
    assert unknown.status == 400 and unknown.body["error"]["code"] == "parameter_unknown"
    assert unknown.body["error"]["param"] == "limit"


# -- files and file links ---------------------------------------------------------
async def test_file_links_belong_to_their_account_and_their_token_is_a_capability(api):
    run = await api.finish((await api.create(ITEMIZED, interval(END - DAY, END))).body)
    file_id = run["result"]["id"]
    made = await api.request("POST", "/v1/file_links", data=urlencode({"file": file_id}), headers=FORM)
    assert made.status == 200
    token = made.body["url"].rsplit("/links/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9]{64}", token) and re.search(r"\d", token) and re.search(r"[A-Za-z]", token)
    other = api.as_key("sk_test_someoneelse")
    assert (await other.get(f"/v1/file_links/{made.body['id']}")).status == 404
    assert (await other.get("/v1/file_links")).body["data"] == []
    refused = await other.request("POST", "/v1/file_links", data=urlencode({"file": file_id}), headers=FORM)
    assert refused.status == 400 and refused.body["error"]["param"] == "file"
    assert (await api.get("/links/" + token, auth=False)).status == 200
    other_token = token[:-1] + ("y" if token.endswith("x") else "x")  # the token is random: never itself
    assert (await api.get("/links/" + other_token, auth=False)).status == 404
    past = await api.request(
        "POST", "/v1/file_links", data=urlencode({"file": file_id, "expires_at": END}), headers=FORM
    )
    assert past.status == 400 and past.body["error"]["param"] == "expires_at"
    for path in ("/v1/file_links/link_x/more", "/links/"):
        stray = await api.get(path)
        assert stray.status == 404 and set(stray.body) == {"error"}, path  # Stripe's shape, not another vendor's


async def test_file_link_updates_merge_metadata_and_expire_as_stripe_does(api, clock):
    """An empty metadata value unsets its key, `expires_at=` (empty) clears the expiry, `now` expires the link,
    whose expiry is then not changed (400, nothing stored); a File lists its newest 10 links and has_more."""
    run = await api.finish((await api.create(ITEMIZED, interval(END - DAY, END))).body)
    file_id = run["result"]["id"]

    async def post(path: str, pairs: dict, status: int = 200) -> dict:
        reply = await api.request("POST", path, data=urlencode(pairs), headers=FORM)
        assert reply.status == status, reply.body
        return reply.body

    links = []
    for _ in range(11):
        clock.advance(1)
        links.append(await post("/v1/file_links", {"file": file_id, "metadata[a]": "1", "metadata[b]": "2"}))
    path = f"/v1/file_links/{links[0]['id']}"
    merged = await post(path, {"metadata[a]": "", "metadata[c]": "3", "expires_at": str(int(clock.now()) + 60)})
    assert merged["metadata"] == {"b": "2", "c": "3"} and merged["expires_at"] == int(clock.now()) + 60
    assert (await post(path, {"expires_at": ""}))["expires_at"] is None
    assert (await post(path, {"metadata": ""}))["metadata"] == {}
    gone = await post(path, {"expires_at": "now"})
    assert gone["expired"] is True and gone["url"] is None and gone["expires_at"] == int(clock.now())
    refused = await post(path, {"expires_at": ""}, status=400)
    assert refused["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_invalid",
        "message": "Invalid expires_at: an expired link cannot be changed",
        "param": "expires_at",
    }
    assert (await api.get(path)).body == gone
    shown = (await api.get(f"/v1/files/{file_id}")).body["links"]
    assert [link["id"] for link in shown["data"]] == [link["id"] for link in links[:0:-1]]  # newest 10
    assert shown["has_more"] is True and shown["url"] == f"/v1/file_links?file={file_id}"


async def test_the_file_list_pages_and_filters_by_purpose(api, clock):
    made = []
    for _ in range(3):
        made.append((await api.finish((await api.create(ITEMIZED, interval(END - DAY, END))).body))["result"]["id"])
        clock.advance(1)
    page = (await api.get("/v1/files?limit=2")).body
    assert [f["id"] for f in page["data"]] == made[::-1][:2] and page["has_more"] is True
    rest = (await api.get(f"/v1/files?limit=2&starting_after={made[1]}")).body
    assert [f["id"] for f in rest["data"]] == [made[0]] and rest["has_more"] is False
    assert (await api.get("/v1/files?purpose=selfie")).body["data"] == []
    assert (await api.get("/v1/files?purpose=nonsense")).status == 400


# -- a file's size ----------------------------------------------------------------
async def test_a_runs_csv_is_generated_once_for_its_size_and_every_download(api, monkeypatch):
    from mockserver.vendors.stripe import reporting

    made = []
    original = reporting.report_csv

    def counted(*args, **kwargs):
        made.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(reporting, "report_csv", counted)
    run = await api.finish((await api.create(ITEMIZED, interval(END - 30 * DAY, END))).body)
    contents = "/v1/files/" + run["result"]["url"].split("/v1/files/")[1]
    first, second = await api.get(contents), await api.get(contents)
    assert len(first.body.encode()) == len(second.body.encode()) == run["result"]["size"] > 0
    assert first.body == second.body and len(made) == 1  # size and two downloads: one generation


async def test_a_file_no_longer_spooled_is_made_again_with_the_same_size(api, monkeypatch):
    from mockserver.vendors.openapi import spool  # the engine's, which Stripe's files use

    monkeypatch.setattr(spool, "SIZES_KEPT", 0)
    run = await api.finish((await api.create(ITEMIZED, interval(END - 30 * DAY, END))).body)
    size = run["result"]["size"]
    for kept in _spools(api):  # as after an eviction: no size remembered, no file kept
        kept.limit = 0
        kept._files.clear()
    again = await api.get(f"/v1/reporting/report_runs/{run['id']}")
    contents = await api.get("/v1/files/" + run["result"]["url"].split("/v1/files/")[1])
    assert again.body["result"]["size"] == size == len(contents.body.encode())


def test_a_file_asked_for_while_it_is_written_is_waited_for_not_written_twice(tmp_path):
    """A list and a read of one finished run at once (as the contract kit's threads ask) make its file once."""
    import threading

    from mockserver.vendors.openapi.spool import Spool

    spool, made, writing, release = Spool(), [], threading.Event(), threading.Event()

    def produce():
        made.append(1)
        if len(made) == 1:  # the first writer holds on until the second asker has come
            writing.set()
            assert release.wait(10)
        yield b"a,b\r\n"

    sizes: list[int] = []
    first = threading.Thread(target=lambda: sizes.append(spool.size("run", produce)))
    first.start()
    assert writing.wait(10)
    second = threading.Thread(target=lambda: sizes.append(spool.size("run", produce)))
    second.start()
    second.join(0.2)
    waited = second.is_alive()  # one that wrote the file itself would be done already
    release.set()
    first.join(10)
    second.join(10)
    assert waited and sizes == [5, 5] and len(made) == 1


def _spools(api) -> list:
    from mockserver.app import SERVICES

    return [vendor.exports.spool for vendor in api.client.app[SERVICES].vendors if isinstance(vendor, Stripe)]


# -- the report-type catalogue and time zones ---------------------------------
def _catalogue(spec) -> dict:
    return spec.schema("ReportRunCreateRequest")["discriminator"]["mapping"]


async def _required(api, spec, report_type: str) -> list[tuple[str, str]]:
    """The parameters a run of the type requires: the last 60 days, or a payout (and its connected account)
    that has rows, read off an itemized payout reconciliation."""
    required = _catalogue(spec)[report_type]["properties"]["parameters"]["required"]
    if required == ["interval_end"]:  # ending balance reconciliation: what was not yet paid out 10 days ago
        return [("parameters[interval_end]", str(END - 10 * DAY))]
    if "payout" not in required:
        end = END - 3600 * _catalogue(spec)[report_type]["x-report-type"].get("available_after_hours", 0)
        return interval(end - 60 * DAY, end)
    connect = "connected_account" in required
    source = f"{'connected_account_' if connect else ''}payout_reconciliation.itemized.5"
    payout, rows = await _a_payout(api, source)
    return [("parameters[payout]", payout)] + (
        [("parameters[connected_account]", rows[0]["connected_account"])] if connect else []
    )


@pytest.mark.parametrize("report_type", sorted(_catalogue(load_spec("stripe"))))
async def test_every_report_type_runs_with_its_default_columns(api, spec, report_type):
    if _catalogue(spec)[report_type]["x-report-type"].get("live_only"):
        api = api.as_key(LIVE_KEY)  # Stripe's Fees reports: live mode only
    described = (await api.get(f"/v1/reporting/report_types/{report_type}")).body
    branch = _catalogue(spec)[report_type]["properties"]["parameters"]["properties"]
    if "columns" in branch:
        assert described["default_columns"] == branch["columns"]["default"]
        assert set(described["default_columns"]) <= set(branch["columns"]["items"]["enum"])
    else:  # a type that takes no columns: null, as Stripe's, and every run writes them all
        assert described["default_columns"] is None
    header, rows = await api.rows((await api.create(report_type, await _required(api, spec, report_type))).body)
    assert header == (described["default_columns"] or _catalogue(spec)[report_type]["x-report-type"]["columns"])
    assert rows or report_type.startswith("connected_account_balance.summary"), report_type


async def test_grouped_summaries_add_up_to_their_itemized_reports(api):
    window = interval(END - 30 * DAY, END)
    _, items = await api.rows(
        (await api.create(ITEMIZED, window + columns("reporting_category", "currency", "gross", "fee", "net"))).body
    )
    _, summary = await api.rows((await api.create("balance_change_from_activity.summary.1", window)).body)
    expected: dict = {}
    for row in items:
        totals = expected.setdefault((row["reporting_category"], row["currency"]), [0, 0, 0, 0])
        totals[0] += 1
        for index, name in enumerate(("gross", "fee", "net"), 1):
            totals[index] += round(float(row[name]) * 100)
    got = {
        (row["reporting_category"], row["currency"]): [int(row["count"])]
        + [round(float(row[name]) * 100) for name in ("gross", "fee", "net")]
        for row in summary
    }
    assert got == expected and len(got) > 1


async def test_connected_account_reports_list_only_connected_accounts_rows_and_filter_by_them(api):
    window = interval(END - 60 * DAY, END)
    report = "connected_account_balance_change_from_activity.itemized.3"
    _, rows = await api.rows((await api.create(report, window + columns("connected_account", "net"))).body)
    assert rows and all(row["connected_account"].startswith("acct_") for row in rows)
    chosen = rows[0]["connected_account"]
    _, one = await api.rows(
        (
            await api.create(
                report, window + columns("connected_account") + [("parameters[connected_account]", chosen)]
            )
        ).body
    )
    assert one and {row["connected_account"] for row in one} == {chosen}
    _, many = await api.rows(
        (
            await api.create(
                report,
                window
                + columns("connected_account")
                + [("parameters[connected_accounts][0]", chosen), ("parameters[connected_accounts][1]", "acct_nobody")],
            )
        ).body
    )
    assert {row["connected_account"] for row in many} == {chosen}
    _, paid = await api.rows((await api.create("payout_reconciliation.itemized.5", window)).body)
    assert paid and all(row["automatic_payout_id"].startswith("po_") for row in paid)


async def test_timezone_moves_only_the_local_columns_of_versions_that_document_it(api):
    wanted = columns("created_utc", "created")
    zone = [("parameters[timezone]", "Asia/Kolkata")]
    _, local = await api.rows(
        (await api.create("balance_change_from_activity.itemized.3", interval(END - DAY, END) + wanted + zone)).body
    )
    assert local and all(
        datetime.strptime(row["created"], STAMP) - datetime.strptime(row["created_utc"], STAMP)
        == timedelta(hours=5, minutes=30)
        for row in local
    )
    _, plain = await api.rows(
        (
            await api.create(
                ITEMIZED, interval(END - DAY, END) + zone + columns("created_utc", "automatic_payout_effective_at")
            )
        ).body
    )
    utc = (
        await api.rows(
            (
                await api.create(
                    ITEMIZED, interval(END - DAY, END) + columns("created_utc", "automatic_payout_effective_at")
                )
            ).body
        )
    )[1]
    assert plain == utc  # itemized.1 takes timezone; its timestamps stay UTC


async def test_a_file_links_token_never_reaches_the_journal(api):
    """The token is the link's only credential: its path segment has the capability shape the journal masks."""
    run = await api.finish((await api.create(ITEMIZED, interval(END - DAY, END))).body)
    link = (
        await api.request("POST", "/v1/file_links", data=urlencode({"file": run["result"]["id"]}), headers=FORM)
    ).body
    token = link["url"].rsplit("/links/", 1)[1]
    assert (await api.get("/links/" + token, auth=False)).status == 200
    kept = await (await api.client.get("/__mock/requests?limit=50")).text()
    assert "/links/" in kept and token not in kept


async def test_a_key_whose_first_request_is_still_running_is_a_409(api, clock):
    import hashlib

    from mockserver.app import SERVICES
    from mockserver.store import Tenant
    from mockserver.vendors.openapi import idempotency

    slot = hashlib.sha256(f"{KEY}\0busy".encode()).hexdigest()
    store = api.client.app[SERVICES].store
    body = urlencode([("report_type", ITEMIZED), *interval(END - DAY, END)])
    first = {"at": clock.now(), "endpoint": "POST /v1/reporting/report_runs", "request_id": "req_first"}
    parsed = {"report_type": ITEMIZED, "parameters": {"interval_start": str(END - DAY), "interval_end": str(END)}}
    await store.put(
        Tenant("stripe", KEY), idempotency.ANSWERS, slot, {**first, "fingerprint": idempotency._fingerprint(parsed)}
    )  # running: no answer kept yet
    busy = await api.request(
        "POST", "/v1/reporting/report_runs", data=body, headers={**FORM, "Idempotency-Key": "busy"}
    )
    assert busy.status == 409 and busy.body["error"]["code"] == "idempotency_key_in_use"


# -- a single payout's reconciliation, Stripe Tax ---------------------------------------------------------------
async def _a_payout(api, report: str = "payout_reconciliation.itemized.5") -> tuple[str, list[dict]]:
    """A payout id with rows in the last 60 days, and those rows (balance_transaction_id, net)."""
    names = ("automatic_payout_id", "balance_transaction_id", "net")
    wanted = columns(*names, *(("connected_account",) if report.startswith("connected_account_") else ()))
    _, rows = await api.rows((await api.create(report, interval(END - 60 * DAY, END) + wanted)).body)
    payout = rows[0]["automatic_payout_id"]
    return payout, [row for row in rows if row["automatic_payout_id"] == payout]


async def test_a_single_payouts_reconciliation_lists_that_payouts_rows_and_sums_them(api):
    payout, seen = await _a_payout(api)
    header, rows = await api.rows(
        (await api.create("payout_reconciliation.by_id.itemized.4", [("parameters[payout]", payout)])).body
    )
    assert header[:3] == ["automatic_payout_id", "automatic_payout_effective_at_utc", "automatic_payout_effective_at"]
    assert rows and {row["automatic_payout_id"] for row in rows} == {payout}
    # the payout's rows in the window are among them (a payout's rows may lie outside any one window)
    assert {row["balance_transaction_id"] for row in seen} <= {row["balance_transaction_id"] for row in rows}
    assert [row["created_utc"] for row in rows] == sorted(row["created_utc"] for row in rows)  # oldest first
    _, summary = await api.rows(
        (await api.create("payout_reconciliation.by_id.summary.1", [("parameters[payout]", payout)])).body
    )
    assert sum(int(line["count"]) for line in summary) == len(rows)
    assert sum(round(float(line["net"]) * 100) for line in summary) == sum(
        round(float(row["net"]) * 100) for row in rows
    )
    _, nobody = await api.rows(
        (await api.create("payout_reconciliation.by_id.itemized.1", [("parameters[payout]", "po_nobody")])).body
    )
    assert nobody == []


async def test_a_connected_accounts_single_payout_keeps_to_that_account(api):
    payout, seen = await _a_payout(api, "connected_account_payout_reconciliation.itemized.5")
    account = seen[0]["connected_account"]
    pairs = [("parameters[payout]", payout), ("parameters[connected_account]", account)]
    wanted = columns("automatic_payout_id", "connected_account", "balance_transaction_id")
    _, rows = await api.rows(
        (await api.create("connected_account_payout_reconciliation.by_id.itemized.3", pairs + wanted)).body
    )
    assert rows and {(row["automatic_payout_id"], row["connected_account"]) for row in rows} == {(payout, account)}
    _, elsewhere = await api.rows(
        (
            await api.create(
                "connected_account_payout_reconciliation.by_id.itemized.3",
                [("parameters[payout]", payout), ("parameters[connected_account]", "acct_elsewhere")],
            )
        ).body
    )
    assert elsewhere == []


@pytest.mark.parametrize(
    ("report_type", "pairs", "param", "code"),
    [
        (
            "payout_reconciliation.by_id.itemized.4",
            [("parameters[reporting_category]", "charge")],
            "parameters[payout]",
            "parameter_missing",
        ),
        (
            "payout_reconciliation.by_id.itemized.4",
            [("parameters[payout]", "po_1"), *interval(END - DAY, END)],
            "parameters[interval_start]",
            "parameter_unknown",
        ),
        ("payout_reconciliation.by_id.itemized.2", [("parameters[payout]", "txn_1")], "parameters[payout]", None),
        (
            "payout_reconciliation.by_id.itemized.3",
            [("parameters[payout]", "po_1"), ("parameters[timezone]", "Etc/UTC")],
            "parameters[timezone]",
            "parameter_unknown",
        ),
        (
            "payout_reconciliation.by_id.summary.1",
            [("parameters[payout]", "po_1"), ("parameters[reporting_category]", "charge")],
            "parameters[reporting_category]",
            "parameter_unknown",
        ),
        (
            "connected_account_payout_reconciliation.by_id.itemized.1",
            [("parameters[payout]", "po_1")],
            "parameters[connected_account]",
            "parameter_missing",
        ),
        ("tax.transactions.itemized.2", [*interval(END - DAY, END), ("parameters[currency]", "usd")], None, None),
    ],
)
async def test_the_new_types_take_exactly_their_documented_parameters(api, report_type, pairs, param, code):
    reply = await api.create(report_type, pairs)
    assert reply.status == 400, reply.body
    if param:
        assert reply.body["error"]["param"] == param
    if code:
        assert reply.body["error"]["code"] == code
    assert (await api.get("/v1/reporting/report_runs")).body["data"] == []  # a refused run stores nothing


TAX = "tax.transactions.itemized.2"


async def test_tax_transactions_list_the_intervals_tax_lines_that_add_up(api):
    described = (await api.get(f"/v1/reporting/report_types/{TAX}")).body
    assert described["name"] == "Itemized tax transactions" and described["version"] == 2
    assert described["default_columns"][:3] == ["country_code", "currency", "customer_tax_id"]
    assert "credit_note_metadata[key]" not in described["default_columns"]
    start = END - 30 * DAY
    header, rows = await api.rows((await api.create(TAX, interval(start, END))).body)
    assert header == described["default_columns"] and len(header) == 33 and rows
    for row in rows:
        assert start <= _utc(row["transaction_date"]) < END
        assert AMOUNT.match(row["subtotal"]) and AMOUNT.match(row["tax_amount"])
        cents = {name: round(float(row[name]) * 100) for name in ("subtotal", "tax_amount", "total")}
        assert cents["total"] == cents["subtotal"] + cents["tax_amount"]
        assert row["filing_total"] == row["total"] and row["filing_currency"] == row["currency"]
        assert (row["taxable_amount"] == row["subtotal"]) == (row["taxability"] == "taxable")
        assert row["state_code"] == "" or row["country_code"] == "US"
    assert {row["type"] for row in rows} >= {"invoice", "checkout"}


async def test_tax_transaction_dates_follow_the_requested_zone(api):
    wanted = columns("id", "line_item_id", "transaction_date", "tax_date")
    window = interval(END - 10 * DAY, END)
    _, utc = await api.rows((await api.create(TAX, window + wanted)).body)
    _, tokyo = await api.rows((await api.create(TAX, window + wanted + [("parameters[timezone]", "Asia/Tokyo")])).body)
    assert utc and len(utc) == len(tokyo)
    for plain, zoned in zip(utc, tokyo):
        assert plain["line_item_id"] == zoned["line_item_id"] and plain["tax_date"] == zoned["tax_date"]
        moved = datetime.strptime(plain["transaction_date"], STAMP) + timedelta(hours=9)
        assert zoned["transaction_date"] == moved.strftime(STAMP)


EBR = "ending_balance_reconciliation.itemized.4"


async def test_ending_balance_reconciliation_takes_only_interval_end_and_lists_what_was_not_yet_paid_out(api):
    end = END - 10 * DAY
    wanted = columns("balance_transaction_id", "created_utc", "automatic_payout_effective_at_utc", "net")
    header, rows = await api.rows((await api.create(EBR, [("parameters[interval_end]", str(end))] + wanted)).body)
    assert rows
    for row in rows:
        assert _utc(row["created_utc"]) < end <= _utc(row["automatic_payout_effective_at_utc"])
    # the same rows as the itemized balance change report's, made before the end and paid out after it
    _, activity = await api.rows(
        (
            await api.create(
                "balance_change_from_activity.itemized.3",
                interval(end - 40 * DAY, end) + columns("balance_transaction_id", "automatic_payout_effective_at_utc"),
            )
        ).body
    )
    pending = {r["balance_transaction_id"] for r in activity if _utc(r["automatic_payout_effective_at_utc"]) >= end}
    assert pending and pending <= {row["balance_transaction_id"] for row in rows}
    _, summary = await api.rows(
        (await api.create("ending_balance_reconciliation.summary.1", [("parameters[interval_end]", str(end))])).body
    )
    assert sum(int(line["count"]) for line in summary) == len(rows)
    refused = await api.create(EBR, interval(end - DAY, end))
    assert refused.status == 400 and refused.body["error"]["param"] == "parameters[interval_start]"
    assert refused.body["error"]["code"] == "parameter_unknown"
    connected = await api.create(
        "connected_account_ending_balance_reconciliation.itemized.2", [("parameters[interval_end]", str(end))]
    )
    assert connected.status == 200, connected.body


async def test_connect_reports_have_their_documented_connected_account_column_and_tax_lines(api):
    window = interval(END - 30 * DAY, END)
    report = "connected_account_balance_change_from_activity.itemized.1"
    _, rows = await api.rows((await api.create(report, window + columns("connected_account", "net"))).body)
    assert rows and all(row["connected_account"].startswith("acct_") for row in rows)
    tax = "connected_account_tax.transactions.itemized.2"
    described = (await api.get(f"/v1/reporting/report_types/{tax}")).body
    header, lines = await api.rows((await api.create(tax, window)).body)
    assert header == described["default_columns"] and header[0] == "connected_account" and lines
    assert all(line["connected_account"].startswith("acct_") for line in lines)
    chosen = lines[0]["connected_account"]
    _, one = await api.rows(
        (
            await api.create(tax, window + [("parameters[connected_account]", chosen)] + columns("connected_account"))
        ).body
    )
    assert one and {line["connected_account"] for line in one} == {chosen}
    _, platform = await api.rows((await api.create(TAX, window + columns("id"))).body)
    assert len(platform) > len(lines)  # the platform's report lists its own lines too


@pytest.mark.parametrize(
    ("report_type", "column", "served"),
    [
        ("payout_reconciliation.itemized.1", "trace_id", True),
        ("payout_reconciliation.itemized.1", "destination_payment_id", True),
        ("payout_reconciliation.itemized.1", "shipping_address_city", False),
        ("payout_reconciliation.itemized.1", "customer_name", False),
        ("payout_reconciliation.itemized.3", "card_address_city", True),
        ("payout_reconciliation.itemized.3", "invoice_number", True),
        ("payout_reconciliation.itemized.4", "card_address_city", False),
        ("payout_reconciliation.itemized.5", "order_id", True),
        ("payout_reconciliation.itemized.5", "customer_shipping_address_postal_code", True),
        ("ending_balance_reconciliation.itemized.1", "trace_id_status", True),
        ("ending_balance_reconciliation.itemized.1", "customer_name", False),
        ("ending_balance_reconciliation.itemized.2", "dispute_reason", True),
        ("ending_balance_reconciliation.itemized.3", "dispute_reason", False),
        ("ending_balance_reconciliation.itemized.4", "customer_address_country", True),
        ("connected_account_payout_reconciliation.itemized.3", "card_address_state", True),
        ("balance_change_from_activity.itemized.1", "trace_id", True),
        ("balance_change_from_activity.itemized.1", "card_address_city", False),
        ("balance_change_from_activity.itemized.2", "invoice_number", True),
        ("balance_change_from_activity.itemized.3", "customer_shipping_address_city", True),
        ("connected_account_balance_change_from_activity.itemized.1", "connected_account", True),
        ("payouts.itemized.1", "trace_id_status", True),
        ("payouts.itemized.1", "regulatory_tag", False),
        ("payouts.itemized.2", "regulatory_tag", True),
        ("payouts.itemized.3", "payout_reversed_at_utc", True),
        ("payout_reconciliation.itemized.7", "withheld_tax", True),
        ("payout_reconciliation.itemized.7", "fee_net_of_withheld_tax", True),
        ("payout_reconciliation.itemized.7", "payout_reference_token", True),
        ("payout_reconciliation.itemized.7", "payout_statement_descriptor", True),
        ("payout_reconciliation.itemized.7", "order_id", True),
        ("payout_reconciliation.itemized.5", "withheld_tax", False),
        ("payout_reconciliation.itemized.5", "payout_reference_token", False),
        ("balance_change_from_activity.itemized.7", "customer_name", True),
        ("balance_change_from_activity.itemized.7", "trace_id_status", True),
        ("payouts.itemized.5", "payout_type", True),
        ("payouts.itemized.5", "payout_reversed_at_utc", True),
    ],
)
async def test_each_version_outputs_the_columns_its_reference_lists(api, report_type, column, served):
    """Versions of a family differ in more than the local-time twins: each has its own documented columns."""
    window = (
        [("parameters[interval_end]", str(END - 10 * DAY))]
        if report_type.startswith(("ending", "connected_account_ending"))
        else interval(END - 60 * DAY, END)
    )
    reply = await api.create(report_type, window + columns("balance_transaction_id", column))
    if not served:
        assert reply.status == 400 and reply.body["error"]["param"] == "parameters[columns]", reply.body
        return
    header, rows = await api.rows(reply.body)
    assert header == ["balance_transaction_id", column] and rows
    assert any(row[column] for row in rows) or column in ("regulatory_tag", "order_id", "payout_reversed_at_utc")


# the newer versions clients name, and the default header Stripe's reference marks for each
NEWER_DEFAULTS = {
    "balance_change_from_activity.itemized.7": [
        "balance_transaction_id", "created", "available_on", "currency", "gross", "fee", "net",
        "reporting_category", "description",
    ],
    "payouts.itemized.5": [
        "balance_transaction_id", "payout_id", "effective_at", "payout_expected_arrival_date", "payout_status",
        "currency", "gross", "fee", "net", "reporting_category", "description",
    ],
    "payout_reconciliation.itemized.7": [
        "automatic_payout_id", "automatic_payout_effective_at", "balance_transaction_id", "created",
        "available_on", "currency", "gross", "fee", "net", "reporting_category", "description",
    ],
    "payout_reconciliation.summary.2": ["reporting_category", "currency", "count", "gross", "fee", "net"],
    "balance_change_from_activity.summary.2": ["reporting_category", "currency", "count", "gross", "fee", "net"],
    "balance.summary.2": ["category", "description", "net_amount", "currency"],
    "payouts.summary.2": ["reporting_category", "currency", "count", "gross", "fee", "net"],
}  # fmt: skip


@pytest.mark.parametrize("report_type", sorted(NEWER_DEFAULTS))
async def test_the_newer_versions_clients_name_run_with_their_default_header(api, report_type):
    """Listed, retrievable and run: the default header is the newer versions' own (local times, no _utc twins)."""
    listed = [t["id"] for t in (await api.get("/v1/reporting/report_types")).body["data"]]
    described = (await api.get(f"/v1/reporting/report_types/{report_type}")).body
    assert report_type in listed and described["default_columns"] == NEWER_DEFAULTS[report_type]
    assert described["version"] == int(report_type.rsplit(".", 1)[1])
    zone = [("parameters[timezone]", "Asia/Tokyo")]
    header, rows = await api.rows((await api.create(report_type, interval(END - 30 * DAY, END) + zone)).body)
    assert header == NEWER_DEFAULTS[report_type] and rows
    local = next(
        (name for name in ("created", "effective_at", "automatic_payout_effective_at") if name in header), None
    )
    if local:  # written in the requested zone: within the interval once read back as Tokyo time
        tokyo = ZoneInfo("Asia/Tokyo")
        stamps = [datetime.strptime(row[local], STAMP).replace(tzinfo=tokyo).timestamp() for row in rows]
        assert all(END - 30 * DAY <= stamp < END + 3 * DAY for stamp in stamps), local


async def test_withheld_tax_is_part_of_the_fee_in_payout_reconciliation_version_7(api):
    names = ("balance_transaction_id", "fee", "withheld_tax", "fee_net_of_withheld_tax", "automatic_payout_id")
    _, rows = await api.rows(
        (await api.create("payout_reconciliation.itemized.7", interval(END - 60 * DAY, END) + columns(*names))).body
    )
    cents = [{name: round(float(row[name]) * 100) for name in names[1:4]} for row in rows]
    assert rows and all(row["automatic_payout_id"].startswith("po_") for row in rows)
    assert all(0 <= c["withheld_tax"] <= c["fee"] for c in cents)
    assert all(c["fee_net_of_withheld_tax"] == c["fee"] - c["withheld_tax"] for c in cents)
    assert any(c["withheld_tax"] for c in cents) and any(not c["withheld_tax"] for c in cents)


NEGATIVE = "connect.negative_balance_refunds_disputes_overview.1"


async def test_the_negative_balance_overview_lists_connected_accounts_below_zero_and_takes_no_columns(api):
    described = (await api.get(f"/v1/reporting/report_types/{NEGATIVE}")).body
    assert described["default_columns"] is None and described["version"] == 1
    header, rows = await api.rows((await api.create(NEGATIVE, [("parameters[interval_end]", str(END))])).body)
    assert header[:3] == ["account_id", "balance", "balance_24hr_net_change"] and len(header) == 17 and rows
    for row in rows:
        assert row["account_id"].startswith("acct_") and float(row["balance"]) < 0
        cents = {name: round(float(row[name]) * 100) for name in ("balance", "balance_excluding_pending_debits")}
        assert cents["balance"] == cents["balance_excluding_pending_debits"] - round(float(row["pending_debits"]) * 100)
        assert row["has_high_disputes"] in ("true", "false")
    for pairs, param in (
        ([("parameters[interval_end]", str(END)), *columns("account_id")], "parameters[columns]"),
        ([*interval(END - DAY, END)], "parameters[interval_start]"),
    ):
        refused = await api.create(NEGATIVE, pairs)
        assert refused.status == 400 and refused.body["error"]["param"] == param, refused.body


async def test_payouts_version_3_writes_reversal_times_in_the_zone_beside_utc(api):
    wanted = columns("payout_id", "payout_reversed_at", "payout_reversed_at_utc")
    window = interval(END - 729 * DAY, END) + [("parameters[timezone]", "Asia/Tokyo")]
    _, rows = await api.rows((await api.create("payouts.itemized.3", window + wanted)).body)
    reversed_ = [row for row in rows if row["payout_reversed_at_utc"]]
    assert reversed_ and all(not row["payout_reversed_at"] for row in rows if row not in reversed_)
    for row in reversed_:
        moved = datetime.strptime(row["payout_reversed_at_utc"], STAMP) + timedelta(hours=9)
        assert row["payout_reversed_at"] == moved.strftime(STAMP)


@pytest.mark.parametrize(
    "report_type", ["payout_reconciliation.itemized.4", "ending_balance_reconciliation.itemized.3"]
)
async def test_the_earlier_versions_that_document_timezone_write_their_local_columns_in_it(api, report_type):
    end = END - 10 * DAY
    window = (
        [("parameters[interval_end]", str(end))] if report_type.startswith("ending") else interval(end - 30 * DAY, end)
    )
    wanted = columns("created_utc", "created", "available_on_utc", "available_on")
    _, rows = await api.rows(
        (await api.create(report_type, window + wanted + [("parameters[timezone]", "America/New_York")])).body
    )
    assert rows
    zone = ZoneInfo("America/New_York")
    for row in rows:
        for utc, local in (("created_utc", "created"), ("available_on_utc", "available_on")):
            moment = datetime.strptime(row[utc], STAMP).replace(tzinfo=timezone.utc)
            assert row[local] == moment.astimezone(zone).strftime(STAMP)


async def test_connect_reports_name_the_account_connected_account_not_the_platforms_columns(api):
    """Connect's itemized reports have `connected_account`; the platform's connected_account_id, _name,
    _country and _direct_charge_id columns are not among theirs (Stripe refuses them)."""
    window = interval(END - 30 * DAY, END)
    for column in ("connected_account_id", "connected_account_name"):
        refused = await api.create(
            "connected_account_balance_change_from_activity.itemized.2", window + columns(column)
        )
        assert refused.status == 400 and refused.body["error"]["param"] == "parameters[columns]", column
    header, _ = await api.rows(
        (await api.create("balance_change_from_activity.itemized.2", window + columns("connected_account_id"))).body
    )
    assert header == ["connected_account_id"]


def test_stripes_error_object_and_request_wording_are_the_engines():
    """The error object, bad-request wording and form lists are schemas/stripe/overlay.yaml's
    annotations; the package keeps what goes beyond the generic protocol (keys' form, its operations)."""
    from mockserver.vendors.openapi import OpenApiVendor

    assert issubclass(Stripe, OpenApiVendor)
    own = {name for name, value in vars(Stripe).items() if callable(value) and not name.startswith("__")}
    assert own == {"handlers", "authenticate", "request_id", "response_headers"}


# -- the Fees reports (all_fees.*) ----------------------------------------------
FEES = "all_fees.balance_transaction_created.itemized.2"
LIVE_ONLY = "This report type is only available for live data and requires a live mode key."


@pytest.mark.parametrize(
    "report_type",
    [FEES, "all_fees.incurred_at.itemized.2", "all_fees.balance_transaction_created.summary.2"],
)
async def test_the_fees_reports_are_for_live_mode_keys_only(api, report_type):
    """A test-mode key is told, as Stripe tells it, with a 404; it does not see the type listed; a refused run
    stores nothing. A live-mode key sees it, with data 96 hours behind the others'."""
    listed = [t["id"] for t in (await api.get("/v1/reporting/report_types")).body["data"]]
    described = await api.get(f"/v1/reporting/report_types/{report_type}")
    refused = await api.create(report_type, interval(END - 30 * DAY, END - 5 * DAY))
    assert report_type not in listed and described.status == refused.status == 404
    assert described.body["error"]["message"] == refused.body["error"]["message"] == LIVE_ONLY
    assert refused.body["error"]["param"] == "report_type"
    assert (await api.get("/v1/reporting/report_runs")).body["data"] == []
    live = api.as_key(LIVE_KEY)
    described = (await live.get(f"/v1/reporting/report_types/{report_type}")).body
    assert described["livemode"] is True and described["version"] == 2
    assert described["data_available_end"] == END - 96 * 3600
    late = await live.create(report_type, interval(END - 30 * DAY, END))  # past its data_available_end
    assert late.status == 400 and late.body["error"]["param"] == "parameters[interval_end]"
    other = await live.create(report_type, interval(END - 30 * DAY, END - 4 * DAY) + columns("amount", "net"))
    assert other.status == 400 and other.body["error"]["param"] == "parameters[columns]"  # not a fee report's column
    header, rows = await live.rows((await live.create(report_type, interval(END - 30 * DAY, END - 4 * DAY))).body)
    assert header == described["default_columns"] and rows


async def test_a_fee_line_is_taken_after_it_was_incurred_and_the_summary_adds_the_lines_up(api):
    live, window = api.as_key(LIVE_KEY), interval(END - 30 * DAY, END - 4 * DAY)
    names = ("balance_transaction_created", "incurred_at", "incurred_by", "suite", "product", "feature_name")
    _, lines = await live.rows((await live.create(FEES, window + columns(*names, "amount", "tax", "currency"))).body)
    assert lines and all(line["incurred_by"].startswith("ch_") for line in lines)
    for line in lines:
        taken, incurred = _utc(line["balance_transaction_created"]), _utc(line["incurred_at"])
        assert END - 30 * DAY <= taken < END - 4 * DAY and incurred <= taken <= incurred + DAY
        assert 0 <= float(line["tax"]) <= float(line["amount"])
    expected: dict = {}
    for line in lines:
        key = (line["suite"], line["product"], line["feature_name"], line["currency"])
        sums = expected.setdefault(key, [0, 0])
        sums[0] += round(float(line["amount"]) * 100)
        sums[1] += round(float(line["tax"]) * 100)
    header, summary = await live.rows(
        (await live.create("all_fees.balance_transaction_created.summary.2", window)).body
    )
    assert header == ["suite", "product", "feature_name", "amount", "tax", "currency"]
    got = {
        (row["suite"], row["product"], row["feature_name"], row["currency"]): [
            round(float(row["amount"]) * 100),
            round(float(row["tax"]) * 100),
        ]
        for row in summary
    }
    assert got == expected
    by_incurred = (await live.create("all_fees.incurred_at.itemized.2", window + columns("incurred_at"))).body
    _, incurred = await live.rows(by_incurred)
    assert incurred and all(END - 30 * DAY <= _utc(row["incurred_at"]) < END - 4 * DAY for row in incurred)


# -- Revenue Recognition (revenue_recognition.*) ---------------------------------
REVREC = "revenue_recognition.debit_credit_"
REVREC_DEFAULTS = {
    "summary.1": ["accounting_period", "open_accounting_period", "currency", "debit", "credit", "amount"],
    "by_price.1": ["accounting_period", "open_accounting_period", "currency", "price_id", "debit", "credit", "amount"],
    "by_product.1": [
        "accounting_period", "open_accounting_period", "currency", "product_id", "debit", "credit", "amount",
    ],
    "by_customer.1": [
        "accounting_period", "open_accounting_period", "currency", "customer_id", "debit", "credit", "amount",
    ],
    "by_invoice.1": [
        "accounting_period", "open_accounting_period", "currency", "transaction_model_id", "debit", "credit",
        "booked_date", "amount",
    ],
    "by_invoice_line_item.1": [
        "accounting_period", "open_accounting_period", "currency", "transaction_model_id", "debit", "credit",
        "booked_date", "amount",
    ],
}  # fmt: skip
REVREC_OPTIONAL = {  # beside interval_start and interval_end, as Stripe's reference lists them
    "summary.1": {"decimal_format"},
    "by_price.1": {"customer", "decimal_format"},
    "by_product.1": {"customer", "decimal_format"},
    "by_customer.1": {"decimal_format"},
    "by_invoice.1": {"customer", "invoice", "invoice_line_item", "decimal_format"},
    "by_invoice_line_item.1": {"customer", "invoice", "invoice_line_item", "decimal_format"},
}
VALUES = {
    "customer": "cus_NffrFeUfNV2Hib",
    "invoice": "in_1MtHbELkdIwHu7ixl4OzzPMv",
    "invoice_line_item": "il_1MtHbELkdIwHu7ixG9gpvzwC",
}


@pytest.mark.parametrize("name", sorted(REVREC_DEFAULTS))
async def test_revenue_recognition_types_take_their_documented_parameters_and_columns(api, name):
    report_type = REVREC + name
    described = (await api.get(f"/v1/reporting/report_types/{report_type}")).body
    assert described["default_columns"] == REVREC_DEFAULTS[name] and described["name"].startswith("Debits and credits")
    window = interval(END - 30 * DAY, END)
    extras = ["debit_gl_code", "credit_gl_code"] + (["invoice_number"] if name == "by_invoice.1" else [])
    header, rows = await api.rows(
        (
            await api.create(report_type, window + columns("currency", *extras) + [("parameters[decimal_format]", "x")])
        ).body
    )
    assert header == ["currency", *extras] and rows
    assert all(not row["debit_gl_code"] and not row["credit_gl_code"] for row in rows)  # no chart of accounts mapped
    for parameter, value in VALUES.items():
        reply = await api.create(report_type, window + [(f"parameters[{parameter}]", value)])
        if parameter in REVREC_OPTIONAL[name]:
            assert reply.status == 200, (parameter, reply.body)
        else:
            assert reply.status == 400 and reply.body["error"]["param"] == f"parameters[{parameter}]", parameter
    if name != "by_invoice.1":  # only the invoice report has the invoice number
        refused = await api.create(report_type, window + columns("invoice_number"))
        assert refused.status == 400 and refused.body["error"]["param"] == "parameters[columns]"


async def test_revenue_recognition_summaries_add_up_the_ledger_entries_of_the_interval(api):
    window = interval(END - 30 * DAY, END)
    names = ("accounting_period", "booked_date", "currency", "debit", "credit", "amount", "price_id", "customer_id")
    _, entries = await api.rows((await api.create(REVREC + "by_invoice_line_item.1", window + columns(*names))).body)
    assert entries
    for entry in entries:
        booked = datetime.strptime(entry["booked_date"], "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
        assert END - 31 * DAY <= booked < END and entry["accounting_period"] == entry["booked_date"][:7]
        assert entry["debit"] and entry["credit"] and entry["debit"] != entry["credit"]

    def sums(rows, *keys) -> dict:
        out: dict = {}
        for row in rows:
            key = tuple(row[k] for k in keys)
            out[key] = out.get(key, 0) + round(float(row["amount"]) * 100)
        return out

    _, summary = await api.rows((await api.create(REVREC + "summary.1", window)).body)
    keys = ("accounting_period", "currency", "debit", "credit")
    assert sums(summary, *keys) == sums(entries, *keys) and len(summary) == len(sums(entries, *keys))
    _, by_price = await api.rows((await api.create(REVREC + "by_price.1", window)).body)
    assert sums(by_price, "price_id", *keys) == sums(entries, "price_id", *keys)
    customer = entries[0]["customer_id"]
    _, theirs = await api.rows(
        (await api.create(REVREC + "by_product.1", window + [("parameters[customer]", customer)])).body
    )
    mine = [entry for entry in entries if entry["customer_id"] == customer]
    assert theirs and sum(sums(theirs, *keys).values()) == sum(sums(mine, *keys).values())


@pytest.mark.parametrize(
    ("report_type", "pairs"),
    [
        ("activity.itemized.2", [("parameters[timezone]", "Asia/Tokyo"), ("parameters[decimal_separator]", ",")]),
        ("balance_change_from_activity.summary.1", []),
        ("balance.summary.1", []),
    ],
)
async def test_reports_are_written_from_the_engine_s_rows_never_read_back_from_its_csv(
    api, csv_readers, report_type, pairs
):
    """The engine writes a report's cells in Stripe's formats (data.ExportQuery.formats) or hands its rows
    (data.iter_rows) to the summaries: no mockserver module reads CSV text back with the csv module."""
    _, rows = await api.rows((await api.create(report_type, interval(END - 2 * DAY, END - DAY) + pairs)).body)
    assert rows and all(AMOUNT.match(cell.replace(",", ".")) for row in rows for cell in [row.get("net") or "0.00"])
    assert csv_readers and not [name for name in csv_readers if name.startswith("mockserver")]
