"""`x-mock.expand` and `x-mock.refuse-unknown-query` (docs/openapi-vendors.md) on Acme Reports
(tests/specs/acme/), its Export's `columns` marked `x-expandable`: paths checked against the response
schemas (depth, expandable properties, a list's items), worded as the overlay says, and a GET's
undeclared query parameter refused in Acme's shape while `expand` itself is taken."""

from __future__ import annotations

import shutil

import pytest

from mockserver import registry
from mockserver.app import Settings, create_app
from mockserver.vendors.openapi.annotations import AnnotationError, read_api
from tests.test_openapi_vendors import ACME, KEY, Acme

EXPAND = """expand:
          max-levels: 2
          errors:
            in-list: {key: not_here, message: "expand {list}.{part}, not {part}"}
        refuse-unknown-query: [get]"""
EXPANDABLE = """
  - target: $.components.schemas.Export
    update:
      x-expandable: [columns]
"""


@pytest.fixture
async def acme(aiohttp_client, tmp_path):
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    overlay = folder / "mock.overlay.yaml"
    text = overlay.read_text().replace("download: operation", "download: operation\n        " + EXPAND)
    overlay.write_text(text + EXPANDABLE)
    served = registry.folder(str(folder))()
    client = await aiohttp_client(create_app(Settings(lifecycle="poll", rows=5), vendors=[served]))
    return Acme(client, served)


async def test_expand_paths_are_checked_against_the_answers_schema(acme):
    made = await acme.call("POST", "/exports", json={"dataset": "orders"}, status=201)
    for path in (
        f"/exports/{made['id']}?expand[]=columns",
        f"/exports/{made['id']}?expand=columns",
        "/exports?expand[0]=data.columns",
    ):
        await acme.call("GET", path, status=200)
    deep = await acme.call("GET", "/exports?expand[]=data.columns.a", status=400)  # getExport documents no 400
    assert deep["error"] == {"code": "not_expandable", "message": "At most 2 levels of a property can be expanded"}
    plain = await acme.call("GET", "/exports?expand[]=data.dataset", status=400)
    assert plain["error"] == {"code": "not_expandable", "message": "The property dataset cannot be expanded"}
    in_list = await acme.call("GET", "/exports?expand[]=columns", status=400)
    assert in_list["error"] == {"code": "not_here", "message": "expand data.columns, not columns"}


async def test_a_gets_undeclared_query_parameter_is_refused(acme):
    refused = await acme.call("GET", "/exports?colour=red", status=400)
    assert refused["error"]["code"] == "unknown" and "colour" in refused["error"]["message"]
    await acme.call("GET", "/exports?limit=2&expand[]=data.columns", status=200)  # declared, and expand
    made = await acme.client.post(
        "/reports/v2/exports?colour=red", json={"dataset": "orders"}, headers={"X-Acme-Key": KEY}
    )
    assert made.status == 201  # a POST's are not refused: only the methods named


def test_a_bad_expand_annotation_is_refused_by_name():
    with pytest.raises(AnnotationError, match="x-mock.expand: unknown key 'depth'"):
        read_api({"x-mock": {"expand": {"depth": 3}}})
    with pytest.raises(AnnotationError, match="x-mock.expand.max-levels must be a whole number"):
        read_api({"x-mock": {"expand": {"max-levels": 0}}})
    with pytest.raises(AnnotationError, match="x-mock.refuse-unknown-query must be a list"):
        read_api({"x-mock": {"refuse-unknown-query": "GET"}})
