"""Time a default contract run (`mockserver contract` defaults) against the mock
in its default `time` lifecycle mode; prints the seconds. Target: < 60 s on 2 cores.

    PYTHONPATH=. python benchmarks/bench_contract.py
"""

from __future__ import annotations

import time

from mockserver.app import Settings
from mockserver.contract.options import ContractOptions
from mockserver.contract.runner import run_contract
from mockserver.testing import ServerThread

APPS = {"bench-app": "bench-token", "bench-other": "other-token"}  # pinned, so invented credentials get 401


def main() -> None:
    with ServerThread(Settings(port=0, vendor_options={"voucherify": {"apps": APPS}})) as server:
        started = time.monotonic()
        results = run_contract(
            ContractOptions(
                base_url=server.url,
                seed=0,
                app_id="bench-app",
                app_token="bench-token",
                other_app=("bench-other", "other-token"),
            )
        )
        seconds = time.monotonic() - started
    print(
        f"contract run: {seconds:.1f} s, {len(results.pairs())} operation×check pairs, "
        f"{len(results.failures)} failure(s)"
    )


if __name__ == "__main__":
    main()
