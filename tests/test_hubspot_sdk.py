"""HubSpot's CRM exports, a vendor of data only (schemas/hubspot/: our OpenAPI document and an
overlay, no Python), through the official `hubspot-api-client` SDK, unmodified, against a real
listening server: start an export of a view with a PublicExportViewRequest, get_status until
COMPLETE, download the file its `result` names and parse the CSV; read the export; and the
SDK's ApiException carrying HubSpot's error object (status, message, correlationId, category)
for a bad body (400) and a missing token (401). Once on the default server (every bundled
vendor), once on `serve --spec DIR` with a copy of the folder elsewhere."""

from __future__ import annotations

import csv
import io
import json
import shutil
import urllib.request
import zipfile

import pytest

hubspot = pytest.importorskip("hubspot")

from hubspot.crm.exports import ApiException, PublicExportViewRequest  # noqa: E402

from mockserver.app import SERVICES, Settings  # noqa: E402
from mockserver.spec import schemas_dir  # noqa: E402
from mockserver.testing import ServerThread  # noqa: E402
from mockserver.vendors.openapi import folder_vendor  # noqa: E402

TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"
PROPERTIES = ["hs_object_id", "firstname", "email", "lifecyclestage"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def default_server():
    with ServerThread(Settings(port=0, lifecycle="poll", rows=50)) as running:
        assert "hubspot" in {vendor.name for vendor in running.app[SERVICES].vendors}
        yield running


@pytest.fixture(scope="module")
def spec_server(tmp_path_factory):
    """`mockserver serve --spec DIR` on a copy of the folder: that API alone."""
    folder = tmp_path_factory.mktemp("elsewhere") / "crm-exports"
    shutil.copytree(schemas_dir() / "hubspot", folder)
    vendor = folder_vendor(folder)
    with ServerThread(Settings(port=0, lifecycle="poll", rows=50), vendors=[vendor()]) as running:
        assert [v.name for v in running.app[SERVICES].vendors] == ["crm-exports"]
        yield running


@pytest.fixture(params=["default_server", "spec_server"])
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def exports(server):
    """The SDK's exports API, configured as a user points it elsewhere (`host`)."""
    return hubspot.Client.create(access_token=TOKEN, host=server.url).crm.exports.public_exports_api


def _view_request(**changes) -> PublicExportViewRequest:
    fields = dict(
        export_type="VIEW",
        format="CSV",
        export_name="Contacts export",
        object_properties=PROPERTIES,
        object_type="CONTACT",
        language="EN",
    )
    fields.update(changes)
    return PublicExportViewRequest(**fields)


def test_the_sdk_journey_start_poll_download_parse(exports):
    task = exports.start(public_export_request=_view_request())
    assert task.id.isdigit() and task.links["status"].endswith(f"/tasks/{task.id}/status")
    statuses = []
    for _ in range(5):
        status = exports.get_status(task_id=task.id)
        statuses.append(status.status)
        if status.status == "COMPLETE":
            break
    assert statuses == ["PROCESSING", "COMPLETE"]  # lifecycle=poll: each read moves it one phase
    assert status.completed_at >= status.started_at and status.result
    with urllib.request.urlopen(status.result, timeout=30) as reply:  # a signed URL: no token needed
        assert reply.headers.get_content_type() == "text/csv"
        assert 'filename="Contacts-export.csv"' in reply.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(reply.read().decode())))
    assert rows[0] == ["Record ID", "First Name", "Email", "Lifecycle Stage"]
    assert len(rows) == 51 and all(row[0].isdigit() and "@" in row[2] for row in rows[1:])


def test_the_export_reads_back_with_its_request(exports):
    task = exports.start(public_export_request=_view_request(object_type="COMPANY", object_properties=["name"]))
    reply = exports.api_client.call_api(
        f"/crm/v3/exports/export/{task.id}",
        "GET",
        auth_settings=["oauth2"],
        response_types_map={200: "object"},
        _return_http_data_only=True,
    )
    assert reply["id"] == task.id and reply["exportType"] == "VIEW"
    assert reply["exportState"] == "PROCESSING"  # a read moves an export of lifecycle=poll one phase on
    assert reply["objectType"] == "COMPANY" and reply["objectProperties"] == ["name"]


def test_filters_reach_the_rows(exports):
    search = {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}], "sorts": []}
    task = exports.start(public_export_request=_view_request(public_crm_search_request=search))
    status = exports.get_status(task_id=task.id)
    status = exports.get_status(task_id=task.id)
    with urllib.request.urlopen(status.result, timeout=30) as reply:
        rows = list(csv.DictReader(io.StringIO(reply.read().decode())))
    assert rows and {row["Lifecycle Stage"] for row in rows} == {"customer"}


def test_a_bad_body_is_a_400_in_hubspots_shape(exports):
    with pytest.raises(ApiException) as refused:
        exports.start(public_export_request=_view_request(object_properties=["no_such_property"]))
    body = json.loads(refused.value.body)
    assert refused.value.status == 400
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR" and body["correlationId"]
    assert "no_such_property" in body["message"]


def test_a_missing_token_is_a_401_in_hubspots_shape(exports):
    exports.api_client.configuration.access_token = None
    with pytest.raises(ApiException) as refused:
        exports.get_status(task_id="1234567890")
    body = json.loads(refused.value.body)
    assert refused.value.status == 401
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found") and body["correlationId"]


def test_an_xlsx_export_is_a_workbook_of_text_cells_and_xls_is_refused(exports):
    task = exports.start(public_export_request=_view_request(format="XLSX", export_name="Book"))
    exports.get_status(task_id=task.id)
    status = exports.get_status(task_id=task.id)
    with urllib.request.urlopen(status.result, timeout=30) as reply:
        assert (
            reply.headers.get_content_type() == XLSX and 'filename="Book.xlsx"' in reply.headers["Content-Disposition"]
        )
        book = zipfile.ZipFile(io.BytesIO(reply.read()))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 51 and "Record ID" in sheet and "<f>" not in sheet
    with pytest.raises(ApiException) as refused:
        exports.start(public_export_request=_view_request(format="XLS"))
    body = json.loads(refused.value.body)
    assert refused.value.status == 400 and body["category"] == "VALIDATION_ERROR" and "XLS" in body["message"]


def test_an_xlsx_file_is_written_from_the_engine_s_rows_never_from_its_csv_read_back(exports, csv_readers):
    """The workbook's cells are the engine's rows (data.iter_rows): no mockserver module reads the
    engine's CSV back with the csv module to repack it, in the server's threads either."""
    task = exports.start(public_export_request=_view_request(format="XLSX", export_name="Rows"))
    exports.get_status(task_id=task.id)
    with urllib.request.urlopen(exports.get_status(task_id=task.id).result, timeout=30) as reply:
        sheet = zipfile.ZipFile(io.BytesIO(reply.read())).read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 51 and "Record ID" in sheet
    assert not [name for name in csv_readers if name.startswith("mockserver")], csv_readers


def test_an_export_asked_to_fail_ends_canceled_without_a_result(exports):
    task = exports.start(public_export_request=_view_request(), _headers={"Prefer": "outcome=error"})
    exports.get_status(task_id=task.id)
    status = exports.get_status(task_id=task.id)
    assert status.status == "CANCELED" and status.result is None


def test_generate_writes_hubspots_rows_offline(capsys):
    from mockserver.cli import main

    assert main(["generate", "contacts", "--spec", "hubspot", "--rows", "2", "--fields", "hs_object_id,email"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Record ID,Email" and len(lines) == 3 and lines[1].split(",")[0].isdigit()
