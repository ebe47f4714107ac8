"""`@pytest.mark.xdist_group(name)` keeps its tests on one worker again under pytest 9.2.

`--dist loadgroup` (pyproject's addopts) sends the tests of one group to one worker, so a cost the group
shares is paid once per run instead of once per worker: importing the voucherify SDK is about 4.5 s of CPU
(1,400 pydantic model modules), the chargebee SDK's about 1 s (docs/performance.md, "Test loop").
pytest-xdist 3.8 names a test's group by setting `item._nodeid = "<nodeid>@<group>"`, which pytest 9.2 no
longer reads (a node's id is now `item._id`, a `NodeId`), so every group was silently split over the
workers (https://github.com/pytest-dev/pytest-xdist/issues/1386; its open pull request 1388 does what this
does). After xdist has marked the items, this gives the id it meant to the field pytest reads; where xdist's
own marking works (an older pytest, a fixed xdist) it changes nothing. Reports then name a grouped test
with its group, as xdist did before pytest 9.2 (`tests/test_sdk_voucherify.py::test_x@voucherify-sdk`; the
summary line of a parametrized one shows a `]` too many); `--lf` and `-k` select as before.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)  # after xdist's own pytest_collection_modifyitems has set `_nodeid`
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # a pytest before 9.2 reads `_nodeid` itself
        return
    for item in items:
        meant = getattr(item, "_nodeid", None)
        if isinstance(meant, str) and meant != item.nodeid and isinstance(getattr(item, "_id", None), NodeId):
            item._id = NodeId.parse(meant)
