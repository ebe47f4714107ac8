"""`x-mock.paging: {style: id}` (docs/openapi-vendors.md) on Acme Reports (tests/specs/acme/): its list
of exports paged after or before an export's id, filtered by creation time, with the names the overlay
gives; a cursor the list does not hold, or both directions at once, refused in Acme's shape."""

from __future__ import annotations

import shutil

import pytest

from mockserver import registry
from mockserver.app import Settings, create_app
from mockserver.vendors.openapi.annotations import AnnotationError, read_api
from tests.test_openapi_vendors import ACME, Acme

PAGING = "paging: {style: id, after: since_id, before: until_id, created: made}"


@pytest.fixture
async def acme(aiohttp_client, tmp_path, clock):
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    overlay = folder / "mock.overlay.yaml"
    overlay.write_text(overlay.read_text().replace("download: operation", "download: operation\n        " + PAGING))
    served = registry.folder(str(folder))()
    client = await aiohttp_client(create_app(Settings(lifecycle="poll", rows=5), vendors=[served], clock=clock))
    return Acme(client, served)


async def test_a_list_pages_after_and_before_an_exports_id(acme, clock):
    made = []
    for _ in range(5):
        made.append((await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201))["id"])
        clock.advance(10)
    newest = made[::-1]
    first = await acme.call("GET", "/exports?limit=2", status=200)
    assert [e["id"] for e in first["data"]] == newest[:2] and first["has_more"] is True and first["total"] == 5
    second = await acme.call("GET", f"/exports?limit=2&since_id={newest[1]}", status=200)
    assert [e["id"] for e in second["data"]] == newest[2:4] and second["has_more"] is True
    last = await acme.call("GET", f"/exports?limit=2&since_id={newest[3]}", status=200)
    assert [e["id"] for e in last["data"]] == newest[4:] and last["has_more"] is False
    back = await acme.call("GET", f"/exports?limit=2&until_id={newest[3]}", status=200)
    assert [e["id"] for e in back["data"]] == newest[1:3] and back["has_more"] is True
    start = int(clock.now()) - 50  # the first export's creation time
    recent = await acme.call("GET", f"/exports?made[gte]={start + 30}", status=200)
    assert [e["id"] for e in recent["data"]] == newest[:2]
    between = await acme.call("GET", f"/exports?made[gt]={start}&made[lt]={start + 30}", status=200)
    assert [e["id"] for e in between["data"]] == newest[2:4]


async def test_bad_cursors_are_refused_in_the_apis_shape(acme):
    unknown = await acme.client.get("/reports/v2/exports?since_id=exp_nope", headers={"X-Acme-Key": "k"})
    body = await unknown.json()
    assert unknown.status == 404 and body["error"] == {
        "code": "cursor_not_found",
        "message": "No such export: 'exp_nope'",
    }
    both = await acme.call("GET", "/exports?since_id=a&until_id=b", status=400)
    assert "since_id, until_id" in both["error"]["message"]
    await acme.call("GET", "/exports?made[gt]=soon", status=400)


def test_a_bad_paging_annotation_is_refused_by_name():
    with pytest.raises(AnnotationError, match=r"x-mock.paging.style must be offset or id or page, not 'sideways'"):
        read_api({"x-mock": {"paging": {"style": "sideways"}}})
    with pytest.raises(AnnotationError, match="unknown key 'cursor'"):
        read_api({"x-mock": {"paging": {"cursor": "after"}}})


async def test_times_are_whole_seconds_as_the_filter_reads_them(acme, clock):
    """An export made within a second is of that second: `made[lte]` of the second keeps it, and exports of
    one second come by id (newest first, as the API's whole-second `created` cannot tell them apart)."""
    clock.advance(1 - clock.now() % 1 + 0.2)  # 0.2 s into a second
    second = int(clock.now())
    first = (await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201))["id"]
    clock.advance(0.5)
    later = (await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201))["id"]
    kept = await acme.call("GET", f"/exports?made[lte]={second}", status=200)
    assert [e["id"] for e in kept["data"]] == sorted([first, later], reverse=True)
