"""The kit catches each deliberately broken implementation with the named check."""

from __future__ import annotations

import re

import pytest

from mockserver.contract.options import ContractOptions
from mockserver.contract.runner import run_contract
from tests.broken import DEFECTS

MAX_EXAMPLES = 3


# the first defect in the quick loop (`-m "not slow"`), every one in the full suite
@pytest.mark.parametrize(
    "defect", [pytest.param(d, id=d.name, marks=() if i == 0 else pytest.mark.slow) for i, d in enumerate(DEFECTS)]
)
def test_the_kit_catches_the_defect_with_its_named_check(defect):
    with defect.build() as server:
        results = run_contract(
            ContractOptions(
                base_url=server.url,
                checks=list(defect.checks),
                operations=list(defect.operations),
                max_examples=MAX_EXAMPLES,
                seed=1,
                poll_timeout=10,
            )
        )
    assert not results.ok
    assert defect.check in results.failed_checks(), [f"{f.check} {f.operation} {f.title}" for f in results.failures]
    if defect.title:  # the named check caught the defect itself, not something it dragged along
        assert any(re.fullmatch(defect.title, f.title) for f in results.failures if f.check == defect.check), [
            f.title for f in results.failures
        ]
    finding = next(f for f in results.failures if f.check == defect.check)
    assert finding.curl.startswith("curl ") or defect.check in ("tenant_isolation",), finding
