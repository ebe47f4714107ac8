"""A frontend developer's day in a real browser: tests/web/ (plain HTML + JS)
is served from its own loopback port as http://app.localhost:PORT and driven in
headless Chromium (Debian's `chromium` + `chromium-driver`, through Selenium).
It creates an export, polls it, downloads it (reading Content-Disposition),
lists, deletes, reads 401/404 bodies, rehearses Prefer code=429/500/503, and
meets --latency, --rate-limit and --error-rate, all with
`credentials: 'include'` and the extra headers SDKs and tracers send.

Set BROWSER_SCREENSHOT=/some/file.png to keep a picture of the page.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp import web

from mockserver.app import Settings
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify
from tests.control_support import http

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
WEB = Path(__file__).resolve().parent / "web"
APP = ("browser-app", "browser-token")
LATENCY_MS = 300
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Chromium and its driver (Debian: apt-get install chromium chromium-driver)"
)


class StaticSite:
    """tests/web/ on a free loopback port, from a thread of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        assert self._ready.wait(30), "the static site did not start"
        return self

    def __exit__(self, *exc_info) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_static("/", self.folder)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()


def mock(spec, **settings) -> ServerThread:
    return ServerThread(Settings(port=0, **settings), vendors=[Voucherify(spec=spec)])


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def run_page(browser, site: StaticSite, **servers: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    query = urlencode({"app_id": APP[0], "app_token": APP[1], "latency_ms": LATENCY_MS, **servers})
    browser.get(f"http://app.localhost:{site.port}/index.html?{query}")  # *.localhost: loopback to Chromium
    results = browser.find_element(By.ID, "results")
    WebDriverWait(browser, 60, poll_frequency=0.1).until(lambda _: results.get_attribute("data-done") == "true")
    if os.environ.get("BROWSER_SCREENSHOT"):
        browser.save_screenshot(os.environ["BROWSER_SCREENSHOT"])
    return json.loads(results.text)


def test_the_whole_export_flow_in_a_real_browser(browser, spec):
    with (
        StaticSite(WEB) as site,
        mock(spec, lifecycle="poll", rows=5) as api,
        mock(spec, latency=str(LATENCY_MS)) as slow,
        mock(spec, rate_limit="2/s") as limited,
        mock(spec, error_rate=1.0) as flaky,
        mock(spec, cors_origins=["https://other.example"]) as refusing,
    ):
        got = run_page(
            browser, site, api=api.url, slow=slow.url, limited=limited.url, flaky=flaky.url, refusing=refusing.url
        )
        refused = [
            e for e in http("GET", refusing.url + "/__mock/requests").json["requests"] if e["method"] == "OPTIONS"
        ]
    assert "error" not in got, got.get("error")
    assert got["origin"] == f"http://app.localhost:{site.port}"
    assert got["create"]["status"] == 200 and got["create"]["export_status"] == "SCHEDULED"
    assert got["poll"]["status"] == "DONE" and got["poll"]["has_url"]
    download = got["download"]
    assert download["status"] == 200 and download["filename"], download  # Content-Disposition readable
    assert download["header_row"] == "ID,Status,Amount" and download["rows"] == 5  # the vendor's labels
    assert got["list"]["status"] == 200 and got["list"]["contains"]
    assert got["delete"]["status"] == 204
    assert got["not_found"] == {**got["not_found"], "status": 404, "key": "not_found"}
    assert got["unauthorized"]["status"] == 401 and got["unauthorized"]["key"]
    for code, retry_after in ((429, "1"), (500, None), (503, "1")):
        answer = got[f"prefer_{code}"]
        assert (answer["status"], answer["code"], answer["retry_after"]) == (code, code, retry_after), answer
    assert got["latency"]["status"] == 200 and got["latency"]["elapsed_ms"] >= LATENCY_MS
    assert 429 in got["rate_limit"]["statuses"] and got["rate_limit"]["retry_after"], got["rate_limit"]
    assert got["rate_limit"]["key"] == "too_many_requests"
    assert got["error_rate"]["status"] in (500, 503) and got["error_rate"]["code"] == got["error_rate"]["status"]
    assert got["error_rate"]["request_id"]
    assert got["refused_origin"]["error"].startswith("TypeError")  # JS sees only "Failed to fetch"…
    assert refused and refused[-1]["response"]["status"] == 403  # …the mock's journal says why
    assert refused[-1]["headers"]["Origin"] == got["origin"]
