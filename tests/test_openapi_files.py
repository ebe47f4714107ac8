"""A finished export's file as a document of its own (`x-mock.file-document`, the `file` role), a 404's
wording per kind (`x-mock.not-found`) and a list's own `url`, on Ledger Reports (tests/specs/ledger/): a
report's `result` is its File (id, name, size, URL, expiry) in one step, or its `file` id read with
`GET /files/{file}` in two; the URL downloads the very bytes `size` counts; the contract kit finds it."""

from __future__ import annotations

import pytest

from mockserver import registry
from mockserver.app import Settings
from mockserver.contract.options import ContractOptions
from mockserver.contract.report import render_text
from mockserver.contract.runner import run_contract
from mockserver.testing import ServerThread
from mockserver.vendors.openapi.annotations import AnnotationError, read_api
from mockserver.vendors.openapi.contract import dialect_of_folder
from tests.ledger_support import LEDGER, serve_ledger


@pytest.fixture
async def ledger(aiohttp_client, clock):
    return await serve_ledger(aiohttp_client, clock)


async def test_a_finished_exports_file_is_a_document_nested_and_read_by_its_id(ledger, clock):
    made = await ledger.call("POST", "/reports", json={"dataset": "entries"}, status=200)
    assert made["status"] == "pending" and made["result"] is None and made["file"] is None
    done = await ledger.call("GET", f"/reports/{made['id']}", status=200)  # poll: running, then done
    done = done if done["result"] else await ledger.call("GET", f"/reports/{made['id']}", status=200)
    file = done["result"]
    tail = made["id"].removeprefix("lr_")
    origin = str(ledger.client.make_url("")).rstrip("/")
    assert file["id"] == f"lf_{tail}" == done["file"] and file["object"] == "ledger.file"
    assert file["filename"] == f"lf_{tail}.csv" and file["url"] == f"{origin}/v1/files/lf_{tail}/contents"
    assert file["expires_at"] == file["created"] + 86400
    assert file["links"]["url"] != file["url"]  # a nested list's address is not the download's
    # two steps: the export names its file, whose document names the URL
    assert await ledger.call("GET", f"/files/{done['file']}", status=200) == file
    contents = await ledger.call("GET", f"/files/{file['id']}/contents", status=200)
    assert len(contents) == file["size"] > 0 and len(contents.decode().splitlines()) == 8  # header and 7 rows


async def test_missing_exports_and_files_are_worded_per_kind(ledger):
    async def refused(path: str) -> dict:
        return (await ledger.call("GET", path, status=404))["error"]

    assert await refused("/reports/lr_nope") == {
        "code": "resource_missing",
        "message": "No such report: 'lr_nope'",
        "param": "id",
    }
    missing = {"code": "resource_missing", "message": "No such file: 'lf_nope'", "param": "file"}
    assert await refused("/files/lf_nope") == missing
    assert await refused("/files/lf_nope/contents") == missing
    assert (await refused("/files/lr_x"))["message"] == "No such file: 'lr_x'"  # not a file id at all
    pending = await ledger.call("POST", "/reports", json={"dataset": "entries"}, status=200)
    unfinished = "lf_" + pending["id"].removeprefix("lr_")  # its file does not exist before it is done
    assert (await refused(f"/files/{unfinished}"))["message"] == f"No such file: '{unfinished}'"
    assert (await refused(f"/files/{unfinished}/contents"))["code"] == "resource_missing"


async def test_a_list_says_its_own_address(ledger):
    await ledger.call("POST", "/reports", json={"dataset": "entries"}, status=200)
    listed = await ledger.call("GET", "/reports", status=200)
    assert listed["url"] == "/v1/reports" and len(listed["data"]) == 1


def test_bad_file_document_and_not_found_annotations_are_refused_by_name():
    with pytest.raises(AnnotationError, match="x-mock.file-document: unknown key 'prefix'"):
        read_api({"x-mock": {"file-document": {"prefix": "f_"}}})
    with pytest.raises(AnnotationError, match="x-mock.file-document.expires must be a positive number"):
        read_api({"x-mock": {"file-document": {"expires": -1}}})
    with pytest.raises(AnnotationError, match="x-mock.not-found: unknown key 'run'; known: export, file"):
        read_api({"x-mock": {"not-found": {"run": {"key": "missing"}}}})
    with pytest.raises(AnnotationError, match=r"x-mock.not-found.file: unknown key 'text'"):
        read_api({"x-mock": {"not-found": {"file": {"text": "gone"}}}})


@pytest.mark.slow
def test_the_contract_kit_finds_the_download_inside_the_file_document():
    """`contract --spec` on Ledger: the status read's URL is `result.url`, inside the File."""
    vendor = registry.folder(str(LEDGER))()
    assert dialect_of_folder("ledger", vendor.spec).exports.url == "result.url"
    checks = ["export_lifecycle", "csv_download", "error_shape", "auth_required", "tenant_isolation"]
    with ServerThread(Settings(port=0, lifecycle="poll", rows=20), vendors=[vendor]) as server:
        options = ContractOptions(
            base_url=server.url + "/v1", spec=str(LEDGER), checks=checks, max_examples=2, seed=1, poll_timeout=10
        )
        results = run_contract(options)
    assert results.ok, render_text(results, base_url=server.url, seconds=0)
    assert not results.skipped and set(checks) <= {check for _, check in results.pairs()}
