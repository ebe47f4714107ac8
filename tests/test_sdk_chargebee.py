"""The user journey through the official `chargebee` Python SDK (3.x),
unmodified, against a real listening server: trigger a filtered orders export,
wait for it with the SDK's own `wait_for_export_completion`, fetch the
download URL, unzip, and find exactly the orders the filters select; and the
SDK's typed errors for a wrong key, a bad filter and an unknown export."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import ssl
import time
import typing
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.lazy_sdk import one_worker, sdk

chargebee = sdk("chargebee")  # imported at first use: collection stays fast
pytestmark = one_worker("chargebee")

import httpx  # noqa: E402  (the SDK's own HTTP client)
from chargebee_support import read_zip  # noqa: E402

from mockserver.app import Settings  # noqa: E402
from mockserver.testing import ServerThread  # noqa: E402

KEY = "test_sdk_key"


@pytest.fixture(scope="module")
def server():
    settings = Settings(
        port=0,
        lifecycle="time",
        scheduled_seconds=0.01,
        running_seconds=0.02,
        rows=150,
        vendor_options={"chargebee": {"keys": [KEY, f"{KEY}_2"]}},
    )
    with ServerThread(settings) as running:
        yield running


@pytest.fixture
def client_for(server, monkeypatch):
    """An SDK client for `key`, pointed at the mock: plain HTTP, and the site.domain split of 127.0.0.1:port."""
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", False)  # else the SDK forces https
    parts = urlsplit(server.url)
    site, domain = parts.hostname.split(".", 1)

    def make(key: str = KEY) -> chargebee.Chargebee:
        cb = chargebee.Chargebee(api_key=key, site=site, chargebee_domain=f"{domain}:{parts.port}", protocol="http")
        cb.update_export_retry_delay_ms(20)  # the default waits 10 s between retrievals
        return cb

    return make


def _download(export) -> list[dict]:
    reply = httpx.get(export.download.download_url)  # no API key: the URL carries its own token
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/zip"
    names, rows, _ = read_zip(reply.content)
    assert names == [f"{export.operation_type}.csv"]
    return rows


def _epoch(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


@pytest.mark.slow
def test_filtered_orders_export_waited_for_downloaded_and_unzipped(client_for):
    cb = client_for()
    since = int(time.time()) - 5 * 86_400
    filters = {
        "order": {
            "status": {"in": ["queued", "delivered", "complete"]},
            "updated_at": {"between": [since, int(time.time()) + 86_400]},
        },
        "total": {"gte": 1000},
    }
    created = cb.Export.orders(filters)  # sent as order[status][in]=['queued', 'delivered', 'complete'] …
    assert created.export.status == "in_process" and created.export.operation_type == "orders"
    assert created.export.download is None

    done = cb.Export.wait_for_export_completion(created.export)
    assert done.export.status == "completed"
    # valid for 4 hours from completion, which is 0.03 s after creation here
    assert 0 <= done.export.download.valid_till - done.export.created_at - 4 * 3600 <= 1
    rows = _download(done.export)

    def wanted(row: dict) -> bool:
        return (
            row["status"] in ("queued", "delivered", "complete")
            and int(row["total"]) >= 1000
            and _epoch(row["updated_at"]) >= since
        )

    assert rows and all(wanted(row) for row in rows)
    everything = _download(cb.Export.wait_for_export_completion(cb.Export.orders().export).export)
    assert [row["id"] for row in rows] == [row["id"] for row in everything if wanted(row)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "operation, params, column, allowed",
    [
        ("customers", {"customer": {"taxability": {"is": "taxable"}}}, "taxability", {"taxable"}),
        (
            "subscriptions",
            {"subscription": {"status": {"not_in": ["cancelled", "transferred"]}}},
            "status",
            {"future", "in_trial", "active", "non_renewing", "paused"},
        ),
        ("invoices", {"invoice": {"total": {"between": [5000, 20000]}}}, "total", None),
    ],
)
def test_the_other_sdk_exports_complete_with_filtered_files(client_for, operation, params, column, allowed):
    cb = client_for()
    created = getattr(cb.Export, operation)(params)
    rows = _download(cb.Export.wait_for_export_completion(created.export).export)
    assert rows
    for row in rows:
        assert row[column] in allowed if allowed else 5000 <= int(row[column]) <= 20000


def test_a_wrong_key_raises_the_sdks_api_error(client_for):
    with pytest.raises(chargebee.APIError) as raised:
        client_for("test_wrong_key").Export.orders({})
    error = raised.value
    assert error.http_status_code == 401
    assert error.api_error_code == "api_authentication_failed"
    assert not isinstance(error, chargebee.InvalidRequestError)  # Chargebee gives this error no type


def test_a_bad_filter_raises_invalid_request_naming_the_parameter(client_for):
    with pytest.raises(chargebee.InvalidRequestError) as raised:
        client_for().Export.orders({"order": {"status": {"in": ["queued", "shipping"]}}})
    assert raised.value.http_status_code == 400
    assert raised.value.api_error_code == "param_wrong_value"
    assert raised.value.param == "order[status][in]"


def test_an_unknown_export_raises_invalid_request_not_found(client_for):
    with pytest.raises(chargebee.InvalidRequestError) as raised:
        client_for().Export.retrieve("__test__nope")
    assert raised.value.http_status_code == 404
    assert raised.value.api_error_code == "resource_not_found"


# ------------------------------------------------------------------ the sweep
def _sdk_export_methods() -> list[str]:
    """Every export-creating method of the installed SDK's Export resource (its public methods but
    retrieve and the polling helper), so the count follows the SDK, not this file. Read from the SDK's
    source: importing `chargebee` (every resource's models) cost seconds of each worker's collection;
    test_the_sweep_covers_every_export_method_the_sdk_has holds this equal to the imported class."""
    found = importlib.util.find_spec("chargebee")
    if found is None or found.origin is None:
        return []  # no SDK: the sweep is empty, the count test skips
    module = ast.parse((Path(found.origin).parent / "models" / "export" / "operations.py").read_text("utf-8"))
    (export,) = [node for node in module.body if isinstance(node, ast.ClassDef) and node.name == "Export"]
    return sorted(
        node.name
        for node in export.body
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith("_")
        and node.name not in ("retrieve", "wait_for_export_completion")
    )


def _imported_export_methods() -> list[str]:
    """The same list read from the imported SDK's Export class."""
    export = chargebee.models.export.operations.Export
    return sorted(
        name
        for name, member in vars(export).items()
        if inspect.isfunction(member)
        and not name.startswith("_")
        and name not in ("retrieve", "wait_for_export_completion")
    )


def _required_params(method: str) -> dict:
    """Only the parameters the SDK marks Required, with a value of the type it declares."""
    from chargebee.models.export.operations import Export

    params = typing.get_type_hints(getattr(Export, method)).get("params")
    (first_year, first_month), now = _last_month(), time.gmtime()
    values = {
        "report_by": chargebee.models.enums.ReportBy.CUSTOMER,
        "report_from_month": first_month,
        "report_from_year": first_year,
        "report_to_month": now.tm_mon,
        "report_to_year": now.tm_year,
    }
    required = getattr(params, "__required_keys__", frozenset())
    assert set(required) <= set(values), f"{method} requires {sorted(set(required) - set(values))}: teach the sweep"
    return {name: values[name] for name in required}


SDK_EXPORTS = _sdk_export_methods()


def test_the_sweep_covers_every_export_method_the_sdk_has():
    assert SDK_EXPORTS == _imported_export_methods()  # the source read finds what the import has
    assert len(SDK_EXPORTS) == 18, SDK_EXPORTS  # chargebee 3.x: 18 export operations besides retrieve


@pytest.mark.slow
@pytest.mark.parametrize("method", SDK_EXPORTS)
def test_every_sdk_export_method_with_only_its_required_arguments_completes_with_a_csv(client_for, method):
    cb = client_for()
    params = _required_params(method)
    call = getattr(cb.Export, method)
    created = call(params) if params else call()
    assert created.export.status == "in_process" and created.export.operation_type == method
    done = cb.Export.wait_for_export_completion(created.export)
    assert done.export.status == "completed" and done.export.mime_type == "zip"
    rows = _download(done.export)  # a zip holding <operation>.csv
    assert rows and all(row.get("id") or row.get("date") for row in rows)


# ------------------------------------------------- parameters the SDK documents
@pytest.mark.slow
@pytest.mark.parametrize(
    "operation, params, check",
    [
        (
            "customers",
            {
                "export_type": "import_friendly_data",
                "business_entity_id": {"is": "acme-us"},
                "customer": {
                    "email": {"is_present": True},
                    "auto_close_invoices": {"is": True},
                    "offline_payment_method": {"in": ["no_preference", "bank_transfer"]},
                },
            },
            lambda r: (
                r["business_entity_id"] == "acme-us"
                and r["email"]
                and r["auto_close_invoices"] == "true"
                and r["offline_payment_method"] in ("no_preference", "bank_transfer")
            ),
        ),
        (
            "customers",
            {"relationship": {"parent_id": {"is_present": True}}},
            lambda r: r["parent_id"].startswith("cus_"),
        ),
        (
            "subscriptions",
            {
                "export_type": "data",
                "item_id": {"in": ["pro", "basic"]},
                "item_price_id": {"starts_with": "pro-"},
                "subscription": {
                    "activated_at": {"is_present": True},
                    "channel": {"is": "web"},
                    "plan_id": {"is_not": "pro-USD-yearly"},
                    "auto_close_invoices": {"is": False},
                },
            },
            lambda r: (
                r["item_id"] == "pro"
                and r["item_price_id"] == "pro-USD-monthly"
                and r["activated_at"]
                and r["channel"] == "web"
                and r["auto_close_invoices"] == "false"
            ),
        ),
        (
            "subscriptions",
            {"cancel_reason_code": {"is": "Not Paid"}},
            lambda r: r["status"] == "cancelled" and r["cancel_reason_code"] == "Not Paid",
        ),
        (
            "invoices",
            {
                "payment_owner": {"starts_with": "cus_"},
                "invoice": {"dunning_status": {"is_present": True}, "channel": {"in": ["web", "app_store"]}},
            },
            lambda r: (
                r["dunning_status"]
                and r["channel"] in ("web", "app_store")
                and r["status"] in ("payment_due", "not_paid")
            ),
        ),
        (
            "invoices",
            {"invoice": {"amount_adjusted": {"gt": 0}, "credits_applied": {"is_present": False}}},
            lambda r: int(r["amount_adjusted"] or 0) > 0 and r["credits_applied"] == "",
        ),
        (
            "plans",
            {"plan": {"period_unit": {"is": "year"}, "giftable": {"is": False}}, "currency_code": {"is": "EUR"}},
            lambda r: r["period_unit"] == "year" and r["giftable"] == "false" and r["currency_code"] == "EUR",
        ),
        (
            "credit_notes",
            {"credit_note": {"status": {"is": "refunded"}, "total": {"gte": 1000}}},
            lambda r: r["status"] == "refunded" and r["amount_refunded"] == r["total"] and int(r["total"]) >= 1000,
        ),
        (
            "transactions",
            {"transaction": {"type": {"is": "authorization"}, "gateway": {"not_in": ["stripe"]}}},
            lambda r: (
                r["type"] == "authorization" and r["amount_capturable"] == r["amount"] and r["gateway"] != "stripe"
            ),
        ),
        (
            "items",
            {
                "item": {"metered": {"is": True}, "usage_calculation": {"is_present": True}},
                "include_site_level_resources": {"is": True},
            },
            lambda r: r["metered"] == "true" and r["usage_calculation"],
        ),
        (
            "attached_items",
            {"item_type": {"is": "charge"}, "attached_item": {"charge_on_event": {"is_present": True}}},
            lambda r: r["item_type"] == "charge" and r["charge_on_event"],
        ),
        (
            "ramps",
            {"export_type": "data", "ramp": {"status": {"in": ["scheduled", "draft"]}}},
            lambda r: r["status"] in ("scheduled", "draft"),
        ),
    ],
)
def test_the_parameters_the_sdk_documents_are_accepted_and_honoured(client_for, operation, params, check):
    cb = client_for()
    everything = _download(cb.Export.wait_for_export_completion(getattr(cb.Export, operation)().export).export)
    created = getattr(cb.Export, operation)(params)
    rows = _download(cb.Export.wait_for_export_completion(created.export).export)
    assert rows and all(check(row) for row in rows)
    assert [r["id"] for r in rows] == [r["id"] for r in everything if check(r)]  # none missing


def _last_month() -> tuple[int, int]:
    """(year, month) before this one: a report from then to now holds rows on any day, even the first of
    a month, when this month has had no time for data yet (the data set ends at the current hour)."""
    now = time.gmtime()
    return (now.tm_year, now.tm_mon - 1) if now.tm_mon > 1 else (now.tm_year - 1, 12)


@pytest.mark.slow
def test_a_revenue_report_holds_the_months_asked_for(client_for):
    cb = client_for()
    (first_year, first_month), now = _last_month(), time.gmtime()
    month = {
        "report_by": "subscription",
        "report_from_month": first_month,
        "report_from_year": first_year,
        "report_to_month": now.tm_mon,
        "report_to_year": now.tm_year,
        "currency_code": "USD",
        "include_discounts": True,
        "subscription": {"status": {"is": "active"}},
    }
    rows = _download(cb.Export.wait_for_export_completion(cb.Export.revenue_recognition(month).export).export)
    start = int(datetime(first_year, first_month, 1, tzinfo=timezone.utc).timestamp())
    assert rows and all(_epoch(row["date"]) >= start for row in rows)
    assert all(int(row["recognized_amount"]) <= int(row["invoice_amount"]) for row in rows)
    ancient = {**month, "report_from_year": 2001, "report_to_year": 2001}
    assert _download(cb.Export.wait_for_export_completion(cb.Export.deferred_revenue(ancient).export).export) == []


@pytest.mark.parametrize(
    "params, param",
    [
        ({"report_from_month": 1, "report_from_year": 2026, "report_to_month": 2, "report_to_year": 2026}, "report_by"),
        (
            {
                "report_by": "customer",
                "report_from_month": 13,
                "report_from_year": 2026,
                "report_to_month": 2,
                "report_to_year": 2026,
            },
            "report_from_month",
        ),
        ({}, "report_by"),
    ],
)
def test_a_revenue_report_without_its_period_raises_invalid_request(client_for, params, param):
    with pytest.raises(chargebee.InvalidRequestError) as raised:
        client_for().Export.revenue_recognition(params)
    assert raised.value.http_status_code == 400 and raised.value.api_error_code == "param_wrong_value"
    assert raised.value.param == param


# --------------------------------------------------------------- idempotency
@pytest.mark.slow
def test_a_repeated_idempotency_key_replays_the_same_export(client_for):
    cb = client_for()
    first = cb.Export.plans({"plan": {"status": {"is": "active"}}}, headers={"chargebee-idempotency-key": "k-1"})
    again = cb.Export.plans({"plan": {"status": {"is": "active"}}}, headers={"chargebee-idempotency-key": "k-1"})
    other = cb.Export.plans(headers={"chargebee-idempotency-key": "k-2"})
    assert not first.is_idempotency_replayed and again.is_idempotency_replayed
    assert again.headers["chargebee-idempotency-replayed"] == "true"
    assert again.export.id == first.export.id and other.export.id != first.export.id
    assert not other.is_idempotency_replayed
    # keys are per site; another key's site makes its own export
    assert (
        client_for("test_sdk_key_2").Export.plans(headers={"chargebee-idempotency-key": "k-1"}).export.id
        != first.export.id
    )
    # a key is a request's: another operation, or other parameters, make a new export
    addons = cb.Export.addons(headers={"chargebee-idempotency-key": "k-1"})
    changed = cb.Export.plans({"plan": {"status": {"is": "archived"}}}, headers={"chargebee-idempotency-key": "k-1"})
    assert not addons.is_idempotency_replayed and not changed.is_idempotency_replayed
    assert len({addons.export.id, changed.export.id, first.export.id}) == 3


# ------------------------------------------------- errors: the SDK's classes
@pytest.mark.parametrize(
    "status, error_class, code",
    [
        (400, "InvalidRequestError", "param_wrong_value"),
        (413, "InvalidRequestError", "invalid_request"),
        (415, "InvalidRequestError", "invalid_request"),
        (429, "APIError", "api_request_limit_exceeded"),
        (500, "APIError", "internal_error"),
        (503, "APIError", "internal_temporary_error"),
    ],
)
def test_each_error_status_raises_the_sdk_class_chargebee_would(client_for, status, error_class, code):
    """The SDK raises a bare Exception without api_error_code and picks the class by `type`."""
    cb = client_for()
    cb.update_retry_config(chargebee.retry_config.RetryConfig(enabled=False))
    with pytest.raises(chargebee.APIError) as raised:
        cb.Export.price_variants(headers={"Prefer": f"code={status}"})
    error = raised.value
    assert type(error).__name__ == error_class and error.http_status_code == status
    assert error.api_error_code == code and error.error_code == code
    assert error.type == ("invalid_request" if error_class == "InvalidRequestError" else None)


# ------------------------------------------------ the five-exports limit (429)
def test_a_sixth_export_raises_with_the_wait_until_one_completes_and_the_sdks_retry_gets_it(monkeypatch):
    """Chargebee processes five exports of a site at a time. The 429's Retry-After is the wait until the
    first export in process completes. The SDK's retry (`update_retry_config`) does not read it (3.x looks
    for `response_headers`; its errors keep them as `http_headers`): it sleeps `delay_ms` and tries again,
    with no cap on 429s, until the mock has room. Sleeps here move the mock's clock instead of waiting."""
    from mockserver.clock import Clock

    clock = Clock(frozen=True)
    settings = Settings(
        port=0, lifecycle="time", scheduled_seconds=1, running_seconds=2, vendor_options={"chargebee": {"keys": [KEY]}}
    )
    slept: list[int] = []

    def sleep(milliseconds: int) -> None:  # the SDK's sleep, on the mock's clock
        slept.append(milliseconds)
        clock.advance(milliseconds / 1000)

    monkeypatch.setattr(chargebee.http_request, "sleep", sleep)
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", False)
    with ServerThread(settings, clock=clock) as server:
        parts = urlsplit(server.url)
        site, domain = parts.hostname.split(".", 1)
        cb = chargebee.Chargebee(api_key=KEY, site=site, chargebee_domain=f"{domain}:{parts.port}", protocol="http")
        cb.update_retry_config(chargebee.retry_config.RetryConfig(enabled=False))
        first = [cb.Export.plans().export for _ in range(5)]
        clock.advance(2)  # the five are running; they complete 1 s from now
        with pytest.raises(chargebee.APIError) as raised:
            cb.Export.plans()
        assert raised.value.http_status_code == 429 and raised.value.api_error_code == "api_request_limit_exceeded"
        assert raised.value.http_headers["Retry-After"] == "1"
        cb.update_retry_config(chargebee.retry_config.RetryConfig(enabled=True, delay_ms=250))
        sixth = cb.Export.plans().export
        assert slept == [250] * 4  # refused until the first five completed, 1 s on
        assert sixth.status == "in_process" and sixth.id not in {export.id for export in first}
        assert all(cb.Export.retrieve(export.id).export.status == "completed" for export in first)


# ------------------------------------------------------------------ over TLS
def test_the_sdk_journey_over_https_with_certificate_checks_on(tmp_path, monkeypatch):
    """`serve --tls`: the SDK keeps `verify_ca_certs` on and trusts the mock's CA file (`ca_cert_path`);
    the same client without that CA refuses the mock's certificate, so the checks really ran."""
    settings = Settings(
        port=0,
        tls_dir=str(tmp_path / "tls"),
        lifecycle="time",
        scheduled_seconds=0.01,
        running_seconds=0.02,
        vendor_options={"chargebee": {"keys": [KEY]}},
    )
    with ServerThread(settings) as server:
        assert server.url.startswith("https://127.0.0.1:") and chargebee.Chargebee.verify_ca_certs
        port = urlsplit(server.url).port
        cb = chargebee.Chargebee(api_key=KEY, site="127", chargebee_domain=f"0.0.1:{port}")  # https by default
        cb.update_export_retry_delay_ms(20)
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):  # the SDK's own CA bundle
            cb.Export.plans()
        monkeypatch.setattr(chargebee.Chargebee, "ca_cert_path", server.ca_file)
        done = cb.Export.wait_for_export_completion(cb.Export.orders({"total": {"gte": 1000}}).export)
        assert done.export.status == "completed"
        url = done.export.download.download_url
        assert url.startswith(f"https://127.0.0.1:{port}/")
        reply = httpx.get(url, verify=ssl.create_default_context(cafile=server.ca_file))
        names, rows, _ = read_zip(reply.content)
        assert names == ["orders.csv"] and rows and all(int(row["total"]) >= 1000 for row in rows)
