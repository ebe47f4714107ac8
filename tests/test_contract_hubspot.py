"""The contract kit on vendors of data: HubSpot (schemas/hubspot/, no Python) and the fictional Acme
(tests/specs/acme/) get the kit's own export checks run, not SKIPPED, from the dialect their
annotations imply (mockserver/vendors/openapi/contract.py). HubSpot's create answers a task locator:
the kit polls its status link to COMPLETE and downloads `result`. The real mock passes; each
deliberately broken variant (tests/broken/hubspot.py) is caught by the named check."""

from __future__ import annotations

import re

import pytest

from mockserver.app import Settings
from mockserver.contract.options import ContractOptions
from mockserver.contract.report import render_text
from mockserver.contract.runner import run_contract
from mockserver.registry import folder
from mockserver.testing import ServerThread
from tests.broken.hubspot import DEFECTS, _server

OURS = ["export_lifecycle", "csv_download", "error_shape", "auth_required", "tenant_isolation"]
ACME = "tests/specs/acme"


def _options(url: str, spec: str = "hubspot", **kw) -> ContractOptions:
    return ContractOptions(base_url=url, spec=spec, max_examples=2, seed=1, poll_timeout=10, **kw)


def _ran(results) -> set[str]:
    return {check for _, check in results.pairs()}


def test_hubspot_runs_every_export_check_through_its_task_locator():
    with _server() as server:
        results = run_contract(_options(server.url, checks=OURS))
    assert results.ok, render_text(results, base_url=server.url, seconds=0)
    assert not results.skipped, results.skipped
    assert set(OURS) <= _ran(results)
    passes = dict(results.passes)
    status = "GET /crm/v3/exports/export/async/tasks/{taskId}/status"
    assert passes[("POST /crm/v3/exports/export/async", "export_lifecycle")] == 3  # CONTACT, COMPANY, DEAL
    assert passes[(status, "export_lifecycle")] >= 6  # polled by the locator's link, to COMPLETE and again
    assert passes[("POST /crm/v3/exports/export/async", "csv_download")] == 4  # each kind, and the token probe
    assert passes[(status, "csv_download")] >= 4
    assert passes[(status, "tenant_isolation")] >= 1


@pytest.mark.slow
def test_acme_runs_every_export_check_from_its_annotations():
    """Acme's export says `state`, not `status`, and downloads through an operation with the key."""
    vendor = folder(ACME)()
    with ServerThread(Settings(port=0, lifecycle="poll", rows=20), vendors=[vendor]) as server:
        results = run_contract(_options(server.url + "/reports/v2", spec=ACME, checks=OURS))
    assert results.ok, render_text(results, base_url=server.url, seconds=0)
    assert not results.skipped, results.skipped
    passes = dict(results.passes)
    assert passes[("POST /exports", "export_lifecycle")] == 2  # orders, customers
    assert passes[("DELETE /exports/{export_id}", "export_lifecycle")] == 2
    assert passes[("GET /exports/{export_id}/file", "csv_download")] >= 3


# the first defect in the quick loop (`-m "not slow"`), every one in the full suite
@pytest.mark.parametrize(
    "defect", [pytest.param(d, id=d.name, marks=() if i == 0 else pytest.mark.slow) for i, d in enumerate(DEFECTS)]
)
def test_the_kit_catches_the_defect_with_its_named_check(defect):
    with defect.build() as server:
        results = run_contract(_options(server.url, checks=list(defect.checks)))
    assert not results.ok, defect.name
    assert defect.check in results.failed_checks(), [f"{f.check} {f.operation} {f.title}" for f in results.failures]
    assert any(re.fullmatch(defect.title, f.title) for f in results.failures if f.check == defect.check), [
        f.title for f in results.failures
    ]
