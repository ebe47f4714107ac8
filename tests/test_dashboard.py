"""The dashboard (`GET /__mock/ui`) and the admin endpoints it reads: in-process for the JSON, and in a
real browser (Debian's chromium + chromium-driver through Selenium, as tests/test_browser.py) for the page:
it shows an export created a moment before, and a click moves it on."""

from __future__ import annotations

import base64
import shutil

import pytest

from mockserver.app import Settings, create_app
from mockserver.clock import Clock
from mockserver.testing import ServerThread
from tests.control_support import http

V_AUTH = {"X-App-Id": "board-app", "X-App-Token": "board-secret"}
ORDER = {"exported_object": "order", "parameters": {"fields": ["id", "status"]}}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


async def test_the_page_is_served_by_the_mock_and_calls_only_the_admin_api(aiohttp_client):
    client = await aiohttp_client(create_app(Settings()))
    page = await client.get("/__mock/ui")
    assert page.status == 200 and page.content_type == "text/html"
    text = await page.text()
    assert 'const ADMIN = "/__mock/"' in text and '"Content-Type": "application/json"' in text
    assert "innerHTML" not in text  # what the mock received is written as text, never as markup
    assert (await client.get("/__mock/requests")).status == 200
    assert (await (await client.get("/__mock/requests")).json())["count"] == 0  # the page is not journalled


async def test_exports_of_every_app_and_vendor_in_one_answer(aiohttp_client):
    clock = Clock(start=1_700_000_000.0, frozen=True)
    client = await aiohttp_client(create_app(Settings(scheduled_seconds=10, running_seconds=10), clock=clock))
    first = await (await client.post("/v1/exports", json=ORDER, headers=V_AUTH)).json()
    clock.advance(1)
    other = await (await client.post("/v1/exports", json=ORDER, headers={**V_AUTH, "X-App-Id": "second-app"})).json()
    clock.advance(1)
    charged = await client.post(
        "/api/v2/exports/orders",
        data="order[status][is]=queued",
        headers={"Authorization": basic("test_board_key_123456"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert charged.status == 200
    listed = await (await client.get("/__mock/exports")).json()
    assert listed["count"] == 3
    newest, middle, oldest = listed["exports"]
    assert (oldest["id"], oldest["app_id"], oldest["vendor"]) == (first["id"], "board-app", "voucherify")
    assert (middle["id"], middle["app_id"]) == (other["id"], "second-app")
    assert newest["vendor"] == "chargebee" and newest["status"] == "in_process"
    assert oldest["status"] == "SCHEDULED" and oldest["lifecycle"] == "time"
    assert [step["status"] for step in oldest["next"]] == ["IN_PROGRESS", "DONE", "ERROR"]
    clock.advance(10)  # the lifecycle moves what the page shows
    moved = {e["id"]: e for e in (await (await client.get("/__mock/exports")).json())["exports"]}
    assert moved[first["id"]]["status"] == "IN_PROGRESS" and moved[first["id"]]["phase"] == "running"
    forced = await client.post(f"/__mock/exports/{first['id']}/status", json={"status": "done"})
    assert forced.status == 200
    done = {e["id"]: e for e in (await (await client.get("/__mock/exports")).json())["exports"]}[first["id"]]
    assert done["status"] == "DONE" and done["next"] == []


async def test_a_full_reset_rewinds_the_clock_and_one_apps_reset_does_not(aiohttp_client):
    clock = Clock(start=1_700_000_000.0, frozen=True)
    client = await aiohttp_client(create_app(Settings(), clock=clock))
    start = (await (await client.get("/__mock/health")).json())["now"]
    assert (await client.post("/__mock/clock/advance", json={"seconds": 90})).status == 200
    advanced = (await (await client.get("/__mock/health")).json())["now"]
    assert advanced != start
    await client.post("/__mock/reset", json={"app_id": "board-app"})
    assert (await (await client.get("/__mock/health")).json())["now"] == advanced  # other apps keep their time
    await client.post("/v1/exports", json=ORDER, headers=V_AUTH)
    assert (await client.post("/__mock/reset", json={})).status == 200
    assert (await (await client.get("/__mock/health")).json())["now"] == start
    assert (await (await client.get("/__mock/exports")).json())["count"] == 0


def test_a_shared_clock_rewinds_for_every_worker(tmp_path):
    with ServerThread(Settings(port=0, state=str(tmp_path / "state.db"))) as server:
        before = http("GET", server.url + "/__mock/health").json["now"]
        http("POST", server.url + "/__mock/clock/advance", {"seconds": 3600})
        assert http("GET", server.url + "/__mock/health").json["now"][:13] != before[:13]
        http("POST", server.url + "/__mock/reset", {})
        assert http("GET", server.url + "/__mock/health").json["now"][:13] == before[:13]


@pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Chromium and its driver (Debian: apt-get install chromium chromium-driver)"
)
def test_the_page_shows_a_new_export_and_a_click_moves_it_on():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.test_browser import CHROMIUM_ARGS

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    # exports stay SCHEDULED until someone moves them: only the page's clicks can
    with ServerThread(Settings(port=0, scheduled_seconds=3600, running_seconds=3600)) as server:
        browser = webdriver.Chrome(service=Service(DRIVER), options=options)
        try:
            browser.set_page_load_timeout(60)
            browser.get(server.url + "/__mock/ui")
            wait = WebDriverWait(browser, 30, poll_frequency=0.1)
            wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-refreshed"))
            created = http("POST", server.url + "/v1/exports", {**ORDER, "colour": "blue"}, V_AUTH)
            warned = created.headers.get("X-Mock-Warning")  # a likely mistake: a finding the page shows
            assert created.status == 200 and "colour" in warned, warned
            export_id = created.json["id"]
            row = f'#exports tr[data-id="{export_id}"]'

            def status(b):  # read in one step: a refresh may replace the row between two
                return b.execute_script(
                    "const r = document.querySelector(arguments[0]); return r && r.dataset.status", row
                )

            wait.until(lambda b: status(b) == "SCHEDULED")  # shown within a refresh
            wait.until(lambda b: "POST /v1/exports" in b.find_element(By.ID, "journal").text)
            journal = browser.find_element(By.ID, "journal").text
            assert "board-app" in journal
            assert "colour" in journal  # the request's findings are on the page
            assert "board-secret" not in browser.page_source
            browser.find_element(By.CSS_SELECTOR, f'{row} button[data-phase="running"]').click()
            wait.until(lambda b: status(b) == "IN_PROGRESS")
            # the clock: 3,600 s more finishes it
            seconds = browser.find_element(By.ID, "seconds")
            seconds.clear()
            seconds.send_keys("3600")
            browser.find_element(By.ID, "advance").click()
            wait.until(lambda b: status(b) == "DONE")
            assert http("GET", f"{server.url}/v1/exports/{export_id}", headers=V_AUTH).json["status"] == "DONE"
            browser.find_element(By.ID, "reset").click()
            wait.until(lambda b: status(b) is None)
            assert http("GET", server.url + "/__mock/exports").json["count"] == 0
        finally:
            browser.quit()


async def test_with_an_admin_token_the_page_opens_and_its_data_needs_the_token(aiohttp_client):
    client = await aiohttp_client(create_app(Settings(admin_token="board-admin-token")))
    page = await client.get("/__mock/ui")
    assert page.status == 200 and "sessionStorage" in await page.text()  # no data in it: the calls need the token
    assert (await client.get("/__mock/exports")).status == 401
    assert (await client.get("/__mock/exports", headers={"Authorization": "Bearer board-admin-token"})).status == 200
    assert (await client.post("/__mock/ui")).status in (401, 405)


async def test_the_page_sends_json_as_the_admin_api_requires(aiohttp_client):
    client = await aiohttp_client(create_app(Settings()))
    text = await (await client.get("/__mock/ui")).text()
    assert (await client.post("/__mock/reset", data="{}")).status == 415  # what the page must not send
    assert text.count("fetch(") == 1 and '"Content-Type": "application/json"' in text
