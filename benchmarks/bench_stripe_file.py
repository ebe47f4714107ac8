"""What a Stripe report run's File costs: the first `size` (which writes the CSV once, to the spool) and each
download after it (which sends the spooled bytes), in CPU seconds of this process (all its threads).

    PYTHONPATH=. python benchmarks/bench_stripe_file.py [--rows 200000]

The server runs in-process (aiohttp's test server, instant lifecycle); one itemized run over the whole data
window. Prints the CPU and wall time of the retrieve that shows the first size, of two downloads, and checks
nothing but that the bytes served are `size` bytes. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient, TestServer

from mockserver.app import Settings, create_app
from mockserver.clock import Clock
from mockserver.vendors.stripe import Stripe

KEY = "sk_test_benchstripefile"
REPORT = "balance_change_from_activity.itemized.1"


async def measure(rows: int) -> None:
    app = create_app(
        Settings(lifecycle="instant", rows=rows), clock=Clock(start=1_700_000_000.0, frozen=True), vendors=[Stripe()]
    )
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-www-form-urlencoded"}
    async with TestClient(TestServer(app)) as client:
        described = await (await client.get(f"/v1/reporting/report_types/{REPORT}", headers=headers)).json()
        body = urlencode(
            {
                "report_type": REPORT,
                "parameters[interval_start]": described["data_available_start"],
                "parameters[interval_end]": described["data_available_end"],
            }
        )
        run = await (await client.post("/v1/reporting/report_runs", data=body, headers=headers)).json()

        async def timed(path: str) -> tuple[float, float, bytes]:
            cpu, wall = time.process_time(), time.perf_counter()
            answer = await (await client.get(path, headers=headers)).read()
            return time.process_time() - cpu, time.perf_counter() - wall, answer

        cpu, wall, answer = await timed(f"/v1/reporting/report_runs/{run['id']}")
        result = json.loads(answer)["result"]
        print(f"rows in the data set: {rows:,}; file size {result['size']:,} bytes")
        print(f"first retrieve (makes the size): CPU {cpu:.2f} s, wall {wall:.2f} s")
        contents = "/v1/files/" + result["url"].split("/v1/files/")[1]
        for n in (1, 2):
            cpu, wall, answer = await timed(contents)
            same = "= size" if len(answer) == result["size"] else f"≠ size ({len(answer):,})"
            print(f"download {n}: CPU {cpu:.2f} s, wall {wall:.2f} s, {len(answer):,} bytes {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    asyncio.run(measure(parser.parse_args().rows))


if __name__ == "__main__":
    main()
