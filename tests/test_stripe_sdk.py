"""The user journey through the official `stripe` Python SDK (16.x),
unmodified, against a real listening server: create a report run, retrieve
it until it has succeeded, download its file with the secret key and parse
the CSV; page through runs with the SDK's own auto-pagination; read report
types; and the SDK's typed errors for bad parameters, unknown objects and a
wrong key. Once through the module-level API (stripe.api_base) and once
through a StripeClient with base_addresses."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request

import pytest

from mockserver.app import SERVICES, Settings
from mockserver.testing import ServerThread
from mockserver.vendors.stripe import Stripe
from tests.lazy_sdk import one_worker, sdk

stripe = sdk("stripe")  # imported by the first test, on the one worker that runs them all, not at collection
pytestmark = one_worker("stripe")  # and the module's server starts there once

KEY = "sk_test_51Hsdk0mockserver"
OTHER_KEY = "sk_test_51Hsdk0othermock"
LIVE_KEY = "sk_live_51Hsdk0mockserver"
COLUMNS = ["created_utc", "balance_transaction_id", "net", "currency"]


@pytest.fixture(scope="module")
def server():
    """Every installed vendor, as `mockserver serve --stripe-key KEY` serves them: Stripe found through
    its entry point, next to the vendor that serves the rest of /v1."""
    settings = Settings(
        port=0, lifecycle="poll", rows=200, vendor_options={"stripe": {"keys": [KEY, OTHER_KEY, LIVE_KEY]}}
    )
    with ServerThread(settings) as running:
        assert any(isinstance(vendor, Stripe) for vendor in running.app[SERVICES].vendors)
        yield running


def test_stripe_owns_its_prefixes_and_leaves_the_rest_of_v1(server):
    for path, shaped in (
        ("/v1/reporting/nowhere", lambda body: set(body) == {"error"}),
        ("/v1/files/nowhere/contents", lambda body: set(body) == {"error"}),
        ("/v1/nowhere", lambda body: "error" not in body),
    ):
        request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {KEY}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 404 and shaped(json.loads(refused.value.read())), path


@pytest.fixture
def module_api(server, monkeypatch):
    """The SDK's module-level configuration, pointed at the mock (and restored afterwards)."""
    monkeypatch.setattr(stripe, "api_key", KEY)
    monkeypatch.setattr(stripe, "api_base", server.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    return stripe


def _download(url: str, key: str = KEY) -> tuple[list[str], list[dict]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.headers["Content-Type"].startswith("text/csv")
        text = reply.read().decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, line)) for line in reader]


def _until_succeeded(retrieve, run, bound: int = 5):
    for _ in range(bound):  # lifecycle `poll`: each retrieval moves the run one phase
        if run.status != "pending":
            break
        run = retrieve(run.id)
    return run


def test_report_run_journey_with_the_module_level_api(module_api):
    report_type = stripe.reporting.ReportType.retrieve("balance_change_from_activity.itemized.1")
    end = report_type.data_available_end
    start = end - 2 * 86_400
    run = stripe.reporting.ReportRun.create(
        report_type=report_type.id, parameters={"interval_start": start, "interval_end": end, "columns": COLUMNS}
    )  # sent as parameters[columns][0]=…
    assert isinstance(run, stripe.reporting.ReportRun) and run.status == "pending" and run.result is None
    assert run.parameters.columns == COLUMNS

    done = _until_succeeded(stripe.reporting.ReportRun.retrieve, run)
    assert done.status == "succeeded" and isinstance(done.result, stripe.File)
    assert done.result.purpose == "finance_report_run"
    file = stripe.File.retrieve(done.result.id)
    assert file.size == done.result.size and file.url == done.result.url

    header, rows = _download(file.url)
    assert header == COLUMNS
    assert rows and all(row["balance_transaction_id"].startswith("txn_") for row in rows)
    assert all(row["currency"] in ("usd", "eur", "gbp") and "." in row["net"] for row in rows)


def test_report_run_journey_with_a_client_object(server):
    client = stripe.StripeClient(KEY, base_addresses={"api": server.url, "files": server.url}, max_network_retries=0)
    types = client.v1.reporting.report_types.list()
    assert {t.id for t in types.data} >= {
        "balance.summary.1",
        "balance_change_from_activity.itemized.1",
        "payouts.itemized.1",
        "activity.itemized.2",
    }
    summary = next(t for t in types.data if t.id == "balance.summary.1")
    run = client.v1.reporting.report_runs.create(
        {
            "report_type": "balance.summary.1",
            "parameters": {
                "interval_start": summary.data_available_end - 86_400,
                "interval_end": summary.data_available_end,
                "timezone": "Europe/Berlin",
            },
        }
    )
    done = _until_succeeded(client.v1.reporting.report_runs.retrieve, run)
    assert client.v1.files.retrieve(done.result.id).id == done.result.id
    header, rows = _download(done.result.url)
    assert header == summary.default_columns
    assert [row["category"] for row in rows[:4]] == ["starting_balance", "activity", "payouts", "ending_balance"]


def test_auto_pagination_walks_every_run_once(module_api):
    report_type = stripe.reporting.ReportType.retrieve("payouts.itemized.1")
    end = report_type.data_available_end
    made = {
        stripe.reporting.ReportRun.create(
            report_type=report_type.id, parameters={"interval_start": end - 86_400, "interval_end": end}
        ).id
        for _ in range(5)
    }
    page = stripe.reporting.ReportRun.list(limit=2)
    assert len(page.data) == 2 and page.has_more is True
    seen = [run.id for run in page.auto_paging_iter()]  # follows starting_after from page to page
    assert len(seen) == len(set(seen)) and made <= set(seen)
    recent = stripe.reporting.ReportRun.list(created={"gte": min(r.created for r in page.data)}, limit=100)
    assert {run.id for run in recent.data} >= {run.id for run in page.data}


def test_errors_become_the_sdks_exceptions(module_api):
    end = stripe.reporting.ReportType.retrieve("balance.summary.1").data_available_end
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.reporting.ReportRun.create(report_type="balance.summary.1", parameters={"interval_start": end - 10})
    assert missing.value.http_status == 400 and missing.value.param == "parameters[interval_end]"
    assert missing.value.code == "parameter_missing"

    with pytest.raises(stripe.InvalidRequestError) as late:
        stripe.reporting.ReportRun.create(
            report_type="balance.summary.1", parameters={"interval_start": end - 10, "interval_end": end + 3600}
        )
    assert late.value.param == "parameters[interval_end]" and "data_available_end" in late.value.user_message

    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.reporting.ReportRun.retrieve("frr_doesnotexist")
    assert unknown.value.http_status == 404 and unknown.value.code == "resource_missing"

    with pytest.raises(stripe.AuthenticationError) as wrong_key:
        stripe.reporting.ReportType.list(api_key="sk_test_notpinned")
    assert wrong_key.value.http_status == 401


def test_a_download_needs_the_key(module_api):
    report_type = stripe.reporting.ReportType.retrieve("activity.itemized.2")
    end = report_type.data_available_end
    run = stripe.reporting.ReportRun.create(
        report_type=report_type.id, parameters={"interval_start": end - 86_400, "interval_end": end}
    )
    done = _until_succeeded(stripe.reporting.ReportRun.retrieve, run)
    with pytest.raises(urllib.error.HTTPError) as refused:
        _download(done.result.url, key="sk_test_notpinned")
    assert refused.value.code == 401


def _a_day_of(report_type_id: str) -> dict:
    end = stripe.reporting.ReportType.retrieve(report_type_id).data_available_end
    return {"interval_start": end - 86_400, "interval_end": end}


def test_every_answer_carries_a_request_id_and_the_api_version(module_api):
    """The SDK's `request_id` on a success and on an error, and Stripe-Version echoed."""
    run = stripe.reporting.ReportRun.create(
        report_type="payouts.itemized.1", parameters=_a_day_of("payouts.itemized.1")
    )
    answer = run.last_response
    assert answer.request_id and answer.request_id.startswith("req_")
    assert answer.headers["Stripe-Version"] == stripe.api_version  # the version the SDK pins, echoed
    other = stripe.reporting.ReportRun.retrieve(run.id).last_response.request_id
    assert other.startswith("req_") and other != answer.request_id
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.reporting.ReportRun.retrieve("frr_doesnotexist")
    assert missing.value.request_id and missing.value.request_id.startswith("req_")
    with pytest.raises(stripe.AuthenticationError) as refused:
        stripe.reporting.ReportType.list(api_key="sk_test_notpinned")
    assert refused.value.request_id.startswith("req_")
    older = stripe.reporting.ReportType.retrieve("balance.summary.1", stripe_version="2024-06-20")
    assert older.last_response.headers["Stripe-Version"] == "2024-06-20"


def test_a_retried_create_with_its_idempotency_key_replays_the_first_answer(module_api):
    """Same key → the same run, `Idempotent-Replayed: true`; another body → IdempotencyError."""
    parameters = _a_day_of("payouts.itemized.1")
    first = stripe.reporting.ReportRun.create(
        report_type="payouts.itemized.1", parameters=parameters, idempotency_key="retry-me-1"
    )
    again = stripe.reporting.ReportRun.create(
        report_type="payouts.itemized.1", parameters=parameters, idempotency_key="retry-me-1"
    )
    assert again.id == first.id and again.created == first.created
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id
    assert again.last_response.idempotency_key == "retry-me-1"
    assert "Idempotent-Replayed" not in first.last_response.headers
    runs = [r.id for r in stripe.reporting.ReportRun.list(limit=100).auto_paging_iter()]
    assert runs.count(first.id) == 1 and len(runs) == len(set(runs))

    with pytest.raises(stripe.IdempotencyError) as reused:
        stripe.reporting.ReportRun.create(
            report_type="payouts.itemized.1", parameters={**parameters, "currency": "usd"}, idempotency_key="retry-me-1"
        )
    assert reused.value.http_status == 400 and "retry-me-1" in reused.value.user_message
    assert reused.value.error.type == "idempotency_error"
    # another account may use the same key for a run of its own
    other = stripe.reporting.ReportRun.create(
        report_type="payouts.itemized.1", parameters=parameters, idempotency_key="retry-me-1", api_key=OTHER_KEY
    )
    assert other.id != first.id


def test_expand_is_taken_on_create_and_reads_and_checked(module_api):
    """`expand[]` accepted where Stripe takes it, refused where nothing expands; unknown
    query parameters refused."""
    run = stripe.reporting.ReportRun.create(
        report_type="payouts.itemized.1", parameters=_a_day_of("payouts.itemized.1"), expand=["result"]
    )
    done = _until_succeeded(lambda run_id: stripe.reporting.ReportRun.retrieve(run_id, expand=["result.links"]), run)
    assert done.status == "succeeded" and done.result.links.object == "list"
    page = stripe.reporting.ReportRun.list(limit=1, expand=["data.result"])
    assert len(page.data) == 1
    with pytest.raises(stripe.InvalidRequestError) as bad:
        stripe.reporting.ReportRun.retrieve(run.id, expand=["parameters"])
    assert bad.value.http_status == 400 and "cannot be expanded (parameters)" in bad.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as flat:
        stripe.reporting.ReportRun.list(expand=["result"])
    assert "data.result" in flat.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.reporting.ReportRun.list(colour="blue")
    assert unknown.value.code == "parameter_unknown" and unknown.value.param == "colour"


def _get(url: str, key: str | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


def test_what_a_file_links_to_is_served_in_stripes_shape(module_api, server):
    """`result.links.url`, /v1/files (purpose filter) and file links with a keyless download."""
    run = stripe.reporting.ReportRun.create(
        report_type="payouts.itemized.1", parameters=_a_day_of("payouts.itemized.1")
    )
    done = _until_succeeded(stripe.reporting.ReportRun.retrieve, run)
    file_id = done.result.id
    status, _, body = _get(server.url + done.result.links.url, KEY)  # /v1/file_links?file=file_…
    assert status == 200 and json.loads(body)["object"] == "list" and json.loads(body)["data"] == []

    files = stripe.File.list(purpose="finance_report_run", limit=100)
    assert file_id in {f.id for f in files.auto_paging_iter()}
    assert stripe.File.list(purpose="dispute_evidence").data == []

    link = stripe.FileLink.create(file=file_id, metadata={"for": "accounting"})
    assert link.object == "file_link" and link.file == file_id and link.expired is False
    assert link.metadata["for"] == "accounting" and link.url.startswith(server.url + "/links/")
    status, headers, contents = _get(link.url)  # no key: the link is the credential
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    _, _, with_key = _get(done.result.url, KEY)
    assert contents == with_key

    expanded = stripe.FileLink.retrieve(link.id, expand=["file"])
    assert isinstance(expanded.file, stripe.File) and expanded.file.id == file_id
    listed = stripe.FileLink.list(file=file_id)
    assert [each.id for each in listed.data] == [link.id]
    assert [each.id for each in stripe.File.retrieve(file_id).links.data] == [link.id]

    gone = stripe.FileLink.modify(link.id, expires_at="now")
    assert gone.expired is True and gone.url is None
    status, _, body = _get(link.url)
    assert status == 404 and json.loads(body)["error"]["type"] == "invalid_request_error"
    assert [each.id for each in stripe.FileLink.list(expired=True).data] == [link.id]

    with pytest.raises(stripe.InvalidRequestError) as nothing:
        stripe.FileLink.create(file="file_doesnotexist")
    assert nothing.value.http_status == 400 and nothing.value.param == "file"
    assert nothing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.FileLink.retrieve("link_doesnotexist")
    assert unknown.value.http_status == 404 and unknown.value.code == "resource_missing"


def test_the_documented_report_types_run_through_the_sdk(module_api):
    """The types clients use (balance_change_from_activity.itemized.3,
    payout_reconciliation.itemized.5, payouts.summary.1 …) are listed, retrievable and run."""
    listed = {t.id: t for t in stripe.reporting.ReportType.list().data}
    for wanted in (
        "balance.summary.1",
        "balance_change_from_activity.itemized.3",
        "balance_change_from_activity.summary.1",
        "payouts.summary.1",
        "payouts.itemized.3",
        "payout_reconciliation.itemized.5",
        "payout_reconciliation.summary.1",
        "ending_balance_reconciliation.itemized.4",
        "ending_balance_reconciliation.summary.1",
        "activity.itemized.1",
        "activity.summary.1",
        "connected_account_balance.summary.1",
        "connected_account_payout_reconciliation.itemized.5",
    ):
        assert wanted in listed, wanted
    for report_type in (
        "balance_change_from_activity.itemized.3",
        "payout_reconciliation.itemized.5",
        "payouts.summary.1",
    ):
        described = stripe.reporting.ReportType.retrieve(report_type)
        assert described.version == int(report_type[-1]) and described.default_columns
        run = stripe.reporting.ReportRun.create(
            report_type=report_type,
            parameters={"interval_start": described.data_available_start, "interval_end": described.data_available_end},
        )
        done = _until_succeeded(stripe.reporting.ReportRun.retrieve, run)
        header, rows = _download(done.result.url)
        assert header == described.default_columns and rows, report_type


def test_itemized_reports_write_local_times_beside_utc_in_the_requested_zone(module_api):
    """`parameters[timezone]` accepted; `created` beside `created_utc` in that zone."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    wanted = [
        "created_utc",
        "created",
        "available_on_utc",
        "available_on",
        "automatic_payout_effective_at_utc",
        "automatic_payout_effective_at",
    ]
    parameters = {
        **_a_day_of("balance_change_from_activity.itemized.3"),
        "timezone": "America/New_York",
        "columns": wanted,
    }
    run = stripe.reporting.ReportRun.create(
        report_type="balance_change_from_activity.itemized.3", parameters=parameters
    )
    assert run.parameters.timezone == "America/New_York"
    header, rows = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
    assert header == wanted and rows
    zone = ZoneInfo("America/New_York")
    for row in rows:
        for utc, local in (
            ("created_utc", "created"),
            ("available_on_utc", "available_on"),
            ("automatic_payout_effective_at_utc", "automatic_payout_effective_at"),
        ):
            moment = datetime.strptime(row[utc], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
            assert row[local] == moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    # a version without local columns takes the parameter too (its timestamps stay UTC, as documented)
    older = stripe.reporting.ReportRun.create(
        report_type="balance_change_from_activity.itemized.1",
        parameters={**_a_day_of("balance_change_from_activity.itemized.1"), "timezone": "Asia/Tokyo"},
    )
    assert older.status == "pending"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.reporting.ReportRun.create(
            report_type="balance_change_from_activity.itemized.3",
            parameters={**_a_day_of("balance_change_from_activity.itemized.3"), "timezone": "Mars/Olympus_Mons"},
        )
    assert unknown.value.param == "parameters[timezone]" and unknown.value.http_status == 400


def test_a_single_payouts_reconciliation_and_stripe_tax_run_through_the_sdk(module_api):
    """The single-payout and tax report types: payout_reconciliation.by_id.* (run by `payout`, no
    interval) and tax.transactions.itemized.2, each file headed by the type's default columns."""
    listed = {t.id for t in stripe.reporting.ReportType.list().data}
    assert {
        "payout_reconciliation.by_id.itemized.1",
        "payout_reconciliation.by_id.itemized.4",
        "payout_reconciliation.by_id.summary.1",
        "connected_account_payout_reconciliation.by_id.itemized.4",
        "tax.transactions.itemized.2",
    } <= listed
    paid = stripe.reporting.ReportRun.create(
        report_type="payout_reconciliation.itemized.5",
        parameters={**_a_day_of("payout_reconciliation.itemized.5"), "columns": ["automatic_payout_id"]},
    )
    _, rows = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, paid).result.url)
    payout = rows[0]["automatic_payout_id"]
    for report_type in ("payout_reconciliation.by_id.itemized.4", "payout_reconciliation.by_id.summary.1"):
        described = stripe.reporting.ReportType.retrieve(report_type)
        run = stripe.reporting.ReportRun.create(report_type=report_type, parameters={"payout": payout})
        assert run.parameters.payout == payout
        header, lines = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
        assert header == described.default_columns and lines, report_type
    one = stripe.reporting.ReportRun.create(
        report_type="payout_reconciliation.by_id.itemized.1",
        parameters={"payout": payout, "columns": ["balance_transaction_id", "automatic_payout_id", "trace_id_status"]},
    )
    header, lines = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, one).result.url)
    assert header == ["balance_transaction_id", "automatic_payout_id", "trace_id_status"]
    assert {line["automatic_payout_id"] for line in lines} == {payout}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.reporting.ReportRun.create(
            report_type="payout_reconciliation.by_id.itemized.1", parameters=_a_day_of("payouts.itemized.1")
        )
    assert refused.value.param in ("parameters[payout]", "parameters[interval_start]")
    tax = stripe.reporting.ReportType.retrieve("tax.transactions.itemized.2")
    run = stripe.reporting.ReportRun.create(
        report_type=tax.id, parameters={**_a_day_of(tax.id), "timezone": "Europe/Berlin"}
    )
    header, lines = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
    assert header == tax.default_columns and "transaction_date" in header and lines


def test_ending_balance_connect_overview_and_version_columns_through_the_sdk(module_api):
    """Ending balance reconciliation runs on interval_end alone; Connect's negative-balance overview (no
    columns, default_columns None); connected accounts' tax lines; a version's own documented columns."""
    ebr = stripe.reporting.ReportType.retrieve("ending_balance_reconciliation.itemized.4")
    run = stripe.reporting.ReportRun.create(
        report_type=ebr.id, parameters={"interval_end": ebr.data_available_end - 10 * 86_400}
    )
    assert "interval_start" not in run.parameters
    header, rows = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
    assert header == ebr.default_columns and rows
    overview = stripe.reporting.ReportType.retrieve("connect.negative_balance_refunds_disputes_overview.1")
    assert overview.default_columns is None
    run = stripe.reporting.ReportRun.create(
        report_type=overview.id, parameters={"interval_end": overview.data_available_end}
    )
    header, rows = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
    assert header[0] == "account_id" and len(header) == 17 and rows
    assert all(float(row["balance"]) < 0 for row in rows)
    tax = stripe.reporting.ReportRun.create(
        report_type="connected_account_tax.transactions.itemized.2",
        parameters={
            **_a_day_of("connected_account_tax.transactions.itemized.2"),
            "columns": ["connected_account", "id"],
        },
    )
    header, rows = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, tax).result.url)
    assert header == ["connected_account", "id"] and all(row["connected_account"].startswith("acct_") for row in rows)
    one = stripe.reporting.ReportRun.create(
        report_type="payout_reconciliation.itemized.1",
        parameters={**_a_day_of("payout_reconciliation.itemized.1"), "columns": ["balance_transaction_id", "trace_id"]},
    )
    header, _ = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, one).result.url)
    assert header == ["balance_transaction_id", "trace_id"]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.reporting.ReportRun.create(
            report_type="payout_reconciliation.itemized.1",
            parameters={**_a_day_of("payout_reconciliation.itemized.1"), "columns": ["shipping_address_city"]},
        )
    assert refused.value.param == "parameters[columns]"


def test_the_newer_versions_clients_name_run_through_the_sdk(module_api):
    """balance_change_from_activity.itemized.7, payouts.itemized.5 and payout_reconciliation.itemized.7 (with its
    withheld tax columns) and the summaries' version 2: listed, retrieved, run with their default header."""
    listed = {t.id for t in stripe.reporting.ReportType.list().data}
    for report_type, first in (
        ("balance_change_from_activity.itemized.7", ["balance_transaction_id", "created", "available_on"]),
        ("payouts.itemized.5", ["balance_transaction_id", "payout_id", "effective_at"]),
        ("payout_reconciliation.itemized.7", ["automatic_payout_id", "automatic_payout_effective_at"]),
        ("payout_reconciliation.summary.2", ["reporting_category", "currency", "count"]),
        ("balance_change_from_activity.summary.2", ["reporting_category", "currency", "count"]),
    ):
        described = stripe.reporting.ReportType.retrieve(report_type)
        assert report_type in listed and described.default_columns[: len(first)] == first
        run = stripe.reporting.ReportRun.create(report_type=report_type, parameters=_a_day_of(report_type))
        header, _ = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
        assert header == described.default_columns, report_type
    wanted = ["balance_transaction_id", "fee", "withheld_tax", "fee_net_of_withheld_tax"]
    run = stripe.reporting.ReportRun.create(
        report_type="payout_reconciliation.itemized.7",
        parameters={**_a_day_of("payout_reconciliation.itemized.7"), "columns": wanted},
    )
    header, rows = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
    assert header == wanted
    assert all(
        round(float(row["fee"]) * 100) - round(float(row["withheld_tax"]) * 100)
        == round(float(row["fee_net_of_withheld_tax"]) * 100)
        for row in rows
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.reporting.ReportRun.create(
            report_type="payout_reconciliation.itemized.5",
            parameters={**_a_day_of("payout_reconciliation.itemized.5"), "columns": ["withheld_tax"]},
        )
    assert refused.value.param == "parameters[columns]"


def test_the_fees_reports_need_a_live_mode_key(module_api, server):
    """Stripe's Fees reports with a test-mode key: the SDK's InvalidRequestError (404) with Stripe's words; with a
    live-mode key: listed, described and run, the summary's header its own."""
    for call in (
        lambda: stripe.reporting.ReportType.retrieve("all_fees.incurred_at.itemized.2"),
        lambda: stripe.reporting.ReportRun.create(
            report_type="all_fees.balance_transaction_created.itemized.2",
            parameters={"interval_start": 1, "interval_end": 2},
        ),
    ):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            call()
        assert refused.value.http_status == 404 and "requires a live mode key" in refused.value.user_message
    assert not any(t.id.startswith("all_fees.") for t in stripe.reporting.ReportType.list().data)
    live = stripe.StripeClient(LIVE_KEY, base_addresses={"api": server.url, "files": server.url}, max_network_retries=0)
    ids = {t.id for t in live.v1.reporting.report_types.list().data}
    assert {"all_fees.balance_transaction_created.itemized.2", "all_fees.incurred_at.itemized.2"} <= ids
    summary = live.v1.reporting.report_types.retrieve("all_fees.balance_transaction_created.summary.2")
    assert summary.livemode and summary.default_columns == [
        "suite",
        "product",
        "feature_name",
        "amount",
        "tax",
        "currency",
    ]
    end = summary.data_available_end
    run = live.v1.reporting.report_runs.create(
        {
            "report_type": summary.id,
            "parameters": {"interval_start": end - 7 * 86_400, "interval_end": end, "currency": "usd"},
        }
    )
    done = _until_succeeded(live.v1.reporting.report_runs.retrieve, run)
    header, rows = _download(done.result.url, LIVE_KEY)
    assert header == summary.default_columns and rows and {row["currency"] for row in rows} == {"usd"}


def test_revenue_recognition_runs_through_the_sdk(module_api):
    """Stripe Revenue Recognition's report types: listed, described with their default columns, run with
    decimal_format and a customer, the summary's header its default columns."""
    listed = {t.id for t in stripe.reporting.ReportType.list().data}
    assert {f"revenue_recognition.debit_credit_{name}.1" for name in ("summary", "by_price", "by_invoice")} <= listed
    described = stripe.reporting.ReportType.retrieve("revenue_recognition.debit_credit_by_price.1")
    assert described.default_columns[3] == "price_id" and described.default_columns[-1] == "amount"
    run = stripe.reporting.ReportRun.create(
        report_type=described.id,
        parameters={**_a_day_of(described.id), "decimal_format": "x", "customer": "cus_NffrFeUfNV2Hib"},
    )
    assert run.parameters.customer == "cus_NffrFeUfNV2Hib"
    header, _ = _download(_until_succeeded(stripe.reporting.ReportRun.retrieve, run).result.url)
    assert header == described.default_columns
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.reporting.ReportRun.create(
            report_type="revenue_recognition.debit_credit_summary.1",
            parameters={**_a_day_of("revenue_recognition.debit_credit_summary.1"), "customer": "cus_NffrFeUfNV2Hib"},
        )
    assert refused.value.param == "parameters[customer]"
