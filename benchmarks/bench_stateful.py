"""How many stateful sequences a default contract run walks (`mockserver contract`
defaults, the mock in its default `time` lifecycle), per bundled contract: the
stateful phase's scenarios and requests, and those of its requests that used
an id an earlier create of the phase answered (get/download/update/delete on a
created export or order), from the mock's journal. The stateful phase runs
last; its requests are the journal's entries after the last other scenario.

    PYTHONPATH=. python benchmarks/bench_stateful.py
"""

from __future__ import annotations

import time
from collections import Counter

from mockserver.app import Settings
from mockserver.contract.options import ContractOptions
from mockserver.contract.runner import run_contract
from mockserver.progress import Progress
from mockserver.testing import ServerThread
from mockserver.vendors.chargebee import Chargebee
from mockserver.vendors.voucherify import Voucherify
from tests.control_support import http

APPS = {"bench-app": "bench-token", "bench-other": "other-token"}


def created_id(body) -> str | None:
    if not isinstance(body, dict):
        return None
    return body.get("id") or (body.get("export") or {}).get("id")


def linked(journal: list[dict]) -> Counter:
    made: dict[str, str] = {}
    walked: Counter = Counter()
    for entry in journal:
        parts = entry["path"].split("/")
        resource = parts[-2] if parts[-1] == "download" else parts[-1]
        if resource in made and entry["method"] != "POST":
            shape = "download" if "token" in entry["query"] else entry["method"]
            walked[f"{made[resource]} → {shape} {entry['response']['status']}"] += 1
        ident = created_id(entry["response"]["body"])
        if entry["method"] == "POST" and entry["response"]["status"] == 200 and ident:
            made[ident] = "order" if ident.startswith("ord_") else "export"
    return walked


def measure(name: str, vendor) -> None:
    settings = Settings(port=0, vendor_options={"voucherify": {"apps": APPS}}, journal_size=1_000_000)
    with ServerThread(settings, vendors=[vendor]) as server:
        phases: Counter = Counter()
        before_stateful = [0]

        class Phases(Progress):
            """Counts scenarios per phase from the run's progress details ("stateful: …")."""

            def advance(self, amount: float = 1, detail: str = "") -> None:
                super().advance(amount, detail)
                phase = detail.split(":")[0]
                phases.update([phase])
                if phase != "stateful":  # the journal's length when the last other scenario ended
                    before_stateful[0] = http("GET", server.url + "/__mock/requests").json["count"]

        progress = Phases("contract", enabled=False)

        started = time.monotonic()
        options = ContractOptions(
            base_url=server.url,
            spec=name,
            seed=0,
            app_id="bench-app",
            app_token="bench-token",
            other_app=("bench-other", "other-token"),
        )
        results = run_contract(options, progress=progress)
        seconds = time.monotonic() - started
        journal = http("GET", server.url + "/__mock/requests").json["requests"]
    stateful = journal[before_stateful[0] :]
    walked = linked(stateful)
    print(
        f"{name}: {seconds:.0f} s, {len(journal)} requests, {len(results.failures)} failure(s); stateful phase: "
        f"{phases['stateful']} scenarios, {len(stateful)} requests, {sum(walked.values())} on created ids"
    )
    for step, count in sorted(walked.items()):
        print(f"    {step}: {count}")


def main() -> None:
    measure("voucherify", Voucherify(apps=APPS))
    measure("chargebee", Chargebee(keys=APPS.values()))


if __name__ == "__main__":
    main()
