"""schemathesis with every built-in check and every phase — examples, coverage,
fuzzing (positive and negative data) and stateful sequences — against the
real mock with our schemas: it must find nothing. Vendor-shaped errors are
checked on every 4xx it provokes, too.

CI budget. Examples, coverage and fuzzing share one time budget (schemathesis'
`max-time`, BUDGET seconds), which schemathesis spreads over the phases, and a
small `max-examples`; the stateful walks run after them, bounded by
`max-examples` alone, so a loaded machine cannot leave them no time. The coverage phase cannot cover every operation within any
CI-sized budget: measured on a 2-core machine with schemathesis 4.32, it
takes 0.3–4 s for each of the ten operations without a filter body, 19 s for
create-order-export, and more than 150 s *each* for create-export,
export-voucher-transactions and the loyalty/campaign transaction exports
(their filter schemas have some 70 optional operators per property; most of
that time is schemathesis enumerating cases, the rest the mock validating
1 MB bodies). A full coverage run is `mockserver contract --coverage` (the
better part of an hour); here the budget takes as much of it as fits.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from mockserver.app import Settings
from mockserver.contract import builtin
from mockserver.contract.http import Redactor
from mockserver.contract.known import dialect_for
from mockserver.contract.options import App
from mockserver.contract.report import render_text
from mockserver.contract.results import Results
from mockserver.progress import Progress
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify

BUDGET = 30  # seconds for the whole schemathesis run
PHASES = builtin.PHASES
APPS = {"phases-app": "phases-token", "phases-other": "other-token"}


class PhaseCounter(Progress):
    """Counts the scenarios schemathesis finished, per phase."""

    def __init__(self, counter: Counter) -> None:
        super().__init__("phases", enabled=False)
        self.counter = counter

    def advance(self, amount: float = 1, detail: str = "") -> None:
        super().advance(amount, detail)
        self.counter.update([detail.split(":")[0]])


@pytest.mark.slow
def test_every_check_and_every_phase_find_nothing(spec):
    app = App("phases-app", "phases-token")
    redact = Redactor()
    redact.add(app.token, app.label)
    results, ran = Results(), Counter()
    # pinned apps, as a real account has them: invented credentials get 401 (ignored_auth)
    settings = Settings(port=0, lifecycle="poll", vendor_options={"voucherify": {"apps": APPS}})
    with ServerThread(settings, vendors=[Voucherify(spec=spec, apps=APPS)]) as server:
        started = time.monotonic()
        common = dict(
            base_url=server.url,
            app=app,
            dialect=dialect_for(spec.document),
            checks=builtin.builtin_check_names(),
            max_examples=5,
            seed=1,
            workers=2,
            coverage=True,
            results=results,
            redact=redact,
            progress=PhaseCounter(ran),
            error_shape=True,
        )
        # the budget is shared between the phases of one run, and a loaded machine can spend it all before
        # the last phase starts: the stateful walks get a run of their own, bounded by max_examples alone
        builtin.run_builtin(spec, **common, max_time=BUDGET, phases=PHASES[:-1])
        builtin.run_builtin(spec, **common, phases=PHASES[-1:])
        elapsed = time.monotonic() - started
    report = render_text(results, base_url=server.url, seconds=elapsed)
    assert results.ok, report
    assert set(PHASES) <= set(ran), f"every phase must run: {dict(ran)}"
    checked = {check for _, check in results.pairs()}
    assert {
        "not_a_server_error",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "status_code_conformance",
        "ignored_auth",
        builtin.ERROR_SHAPE,
    } <= checked
    print(f"schemathesis: {dict(ran)} scenarios in {elapsed:.0f} s")


def test_negative_data_rejection_accepts_413_for_oversized_bodies():
    """Bodies over the mock's limit get 413, which our schemas document: that is a rejection."""
    config = builtin._config(
        base_url="http://127.0.0.1:9",
        app=App("a", "t"),
        dialect=None,
        checks=["negative_data_rejection"],
        max_examples=1,
        seed=1,
        workers=1,
        coverage=False,
    )
    assert "413" in config["checks"]["negative_data_rejection"]["expected-statuses"]
    assert "400" in config["checks"]["negative_data_rejection"]["expected-statuses"]


def test_a_run_names_its_phases_and_shares_its_budget_between_them():
    def config(**options):
        defaults = dict(base_url="http://127.0.0.1:9", app=App("a", "t"), dialect=None, checks=[], max_examples=1)
        return builtin._config(**defaults, seed=1, workers=1, **options)

    every = config(coverage=True)
    assert every["phases"] == {"coverage": {"enabled": True}} and "max-time" not in every
    assert config(coverage=False)["phases"] == {"coverage": {"enabled": False}}
    some = config(coverage=False, phases=("coverage", "stateful"), max_time=30)
    assert {name for name, phase in some["phases"].items() if phase["enabled"]} == {"stateful"}
    assert some["max-time"] == 30


def test_an_answer_to_a_request_that_is_not_http_is_judged_by_no_check(spec):
    """schemathesis' generated headers can name Content-Length with text that is no length: the server's
    HTTP parser refuses it with a bare 400 before any API sees it (as it must), so error_shape does not
    blame the target for that answer; a 400 to a well-framed request still gets judged."""
    from types import SimpleNamespace as Record

    def sent(headers):
        response = Record(status_code=400, content=b"Invalid character in Content-Length")
        request = Record(method="POST", uri="http://127.0.0.1:9/v1/exports", headers=headers, body=b"")
        return Record(request=request, response=response)

    def case(label):
        return Record(value=Record(operation=Record(label=label)))

    recorder = Record(
        interactions={
            "bad": sent({"Content-Length": ["j"], "Content-Type": ["application/json"]}),
            "chunked": sent({"transfer-encoding": ["chunked, gzip"]}),
            "framed": sent({"Content-Length": ["0"]}),
        },
        cases={"bad": case("POST /v1/exports"), "chunked": case("GET /v1/exports"), "framed": case("DELETE /v1/x")},
    )
    assert builtin.unframed(recorder.interactions["bad"]) == "content-length: j"
    assert builtin.unframed(recorder.interactions["framed"]) is None
    results = Results()
    builtin._error_shapes(recorder, dialect_for(spec.document), results, Redactor())
    assert [(f.check, f.operation) for f in results.failures] == [(builtin.ERROR_SHAPE, "DELETE /v1/x")]
