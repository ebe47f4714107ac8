"""The dashboard, `GET /__mock/ui`: a page a frontend developer keeps open beside their app.

With `serve --admin-token`, open it as `/__mock/ui#token=TOKEN`: the page itself holds no data and
opens without the token; its calls send it (the fragment never reaches a server or a log).

It shows every app's exports (status, lifecycle, outcome), the journal with each request's
findings, and the mock's clock, refreshed every second; its buttons force an export on, advance
the clock and reset the mock. It is plain HTML and a little JavaScript served by the mock itself
(no build step), and it only calls the admin API, as any script could: `GET /__mock/exports`
(added here: every app's exports in one answer), `/__mock/requests`, `/__mock/health`, and POSTs
with JSON bodies sent as `application/json`. What it shows of a request is what the journal API
returns (credentials masked there); everything is written into the page as text, never as HTML.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import redact
from ..clock import iso
from ..exports import ExportRecord
from ..lifecycle import PHASES, can_move
from ..respond import json_response
from ..services import Services


def routes(services: Services) -> list[tuple[str, str, Any]]:
    """(method, path under /__mock/, handler) of the dashboard: the admin API adds them to its own."""
    board = Dashboard(services)
    return [("GET", "ui", board.page), ("GET", "exports", board.exports)]


class Dashboard:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.vendors = {vendor.name: vendor for vendor in services.vendors}

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})

    async def exports(self, request: web.Request) -> web.Response:
        """Every vendor's and app's exports, newest first, each with the steps it may still be forced to."""
        records = await self.services.exports.everywhere()
        shown = [self._view(record) for record in records]
        return json_response({"exports": shown, "count": len(shown), "now": iso(self.services.clock.now())})

    def _view(self, record: ExportRecord) -> dict:
        vendor = self.vendors.get(record.vendor)
        words = dict(vendor.status_names) if vendor is not None else {}
        phase = record.phase
        return {
            "id": record.id,
            "vendor": record.vendor,
            "app_id": _app(vendor, record.app_id),
            "exported_object": record.exported_object,
            "status": words.get(phase, phase),
            "phase": phase,
            "lifecycle": record.mode or self.services.settings.lifecycle,
            "outcome": record.outcome,
            "created_at": iso(record.created_at),
            "phase_at": iso(record.phase_at),
            # forced transitions the admin API accepts (never backwards), worded as the vendor's client sees them
            "next": [{"phase": step, "status": words.get(step, step)} for step in PHASES if can_move(phase, step)],
        }


def _app(vendor: Any, app: str) -> str:
    """An app id as the page may show it: a vendor whose tenant is the API key itself has it masked."""
    if vendor is None or not getattr(vendor, "app_is_secret", False):
        return app
    return redact.label(app)  # the journal's label of a key, so the page and the journal agree


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mockserver dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px system-ui, sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: 3px 6px;
text-align: left; vertical-align: top; } th { background: #f4f4f4; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12px; }
.warn { color: #a60; } .err { color: #b00; } .ok { color: #070; } button { margin-right: 4px; }
#bar span { margin-right: 1.5em; }
</style></head>
<body>
<h1>mockserver dashboard</h1>
<div id="bar"><span>clock: <b id="now" class="mono">…</b></span>
<span><input id="seconds" type="number" min="0" value="60" size="5"> s
<button id="advance">advance the clock</button></span>
<span><button id="reset">reset everything</button></span>
<span id="message" class="mono"></span></div>
<h2>Exports <small id="export-count"></small></h2>
<table id="exports"><thead><tr><th>app</th><th>vendor</th><th>id</th><th>object</th><th>status</th>
<th>lifecycle</th><th>since</th><th>force</th></tr></thead><tbody></tbody></table>
<h2>Journal <small>(newest first; findings are the X-Mock-Warning headers)</small></h2>
<table id="journal"><thead><tr><th>at</th><th>app</th><th>request</th><th>status</th><th>findings</th></tr></thead>
<tbody></tbody></table>
<script>
"use strict";
const ADMIN = "/__mock/";
const say = (text, kind) => { const m = document.getElementById("message"); m.textContent = text;
  m.className = "mono " + (kind || ""); };
// with `serve --admin-token`, open the page as /__mock/ui#token=TOKEN: the fragment never leaves the browser
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) {
  sessionStorage.setItem("mockserver-admin-token", fromHash);
  history.replaceState(null, "", location.pathname);
}
async function admin(path, body) {
  const headers = {};
  const token = sessionStorage.getItem("mockserver-admin-token");
  if (token) headers["Authorization"] = "Bearer " + token;
  const init = body === undefined ? {headers} : {method: "POST", body: JSON.stringify(body),
                                                 headers: {...headers, "Content-Type": "application/json"}};
  const answer = await fetch(ADMIN + path, init);
  const data = answer.status === 204 ? {} : await answer.json();
  if (!answer.ok) throw new Error(data.error || answer.status);
  return data;
}
function cell(row, text, className) {
  const td = row.insertCell(); td.textContent = text == null ? "" : String(text);
  if (className) td.className = className; return td;
}
function fill(tbody, items, draw) {
  // a row whose data did not change is kept, so a button is not replaced under the pointer
  const kept = new Map([...tbody.rows].map(row => [row.dataset.sig, row]));
  const rows = items.map(item => {
    const sig = JSON.stringify(item);  // only what the row shows (entryView): no header value in the page
    let row = kept.get(sig);
    if (!row) { row = document.createElement("tr"); row.dataset.sig = sig; draw(row, item); }
    return row;
  });
  tbody.replaceChildren(...rows);
}
function drawExport(row, e) {
  row.dataset.id = e.id; row.dataset.status = e.status;
  cell(row, e.app_id, "mono"); cell(row, e.vendor); cell(row, e.id, "mono"); cell(row, e.exported_object);
  cell(row, e.status, e.phase === "failed" ? "err" : e.phase === "done" ? "ok" : "").dataset.role = "status";
  cell(row, e.lifecycle + (e.outcome === "error" ? " (ends in error)" : ""));
  cell(row, e.phase_at, "mono");
  const buttons = row.insertCell();
  for (const step of e.next) {
    const b = document.createElement("button"); b.textContent = "\\u2192 " + step.status;
    b.dataset.phase = step.phase;
    b.addEventListener("click", () => act(() => admin("exports/" + encodeURIComponent(e.id) + "/status",
                                                      {status: step.phase}), e.id + " \\u2192 " + step.status));
    buttons.appendChild(b);
  }
}
function entryView(r) {  // what the journal table shows of an entry: no headers, no bodies
  return {at: r.at, app_id: r.app_id, method: r.method, path: r.path, query: r.query,
          status: r.response ? r.response.status : "",
          // each finding as its X-Mock-Warning header says it: location, path, message
          warnings: (r.warnings || []).map(w => typeof w === "string" ? w : w.location + w.path + ": " + w.message)};
}
function drawEntry(row, r) {
  cell(row, r.at, "mono"); cell(row, r.app_id, "mono");
  const query = r.query && Object.keys(r.query).length ? "?" + new URLSearchParams(r.query).toString() : "";
  cell(row, r.method + " " + r.path + query, "mono");
  cell(row, r.status, r.status >= 400 ? "err" : "");
  cell(row, r.warnings.join("\\n"), "warn").style.whiteSpace = "pre-wrap";
}
async function act(work, done) {
  try { await work(); say(done, "ok"); } catch (error) { say(String(error.message || error), "err"); }
  await refresh();
}
let refreshing = false;
async function refresh() {
  if (refreshing) return; refreshing = true;
  try {
    const [health, exports, journal] = await Promise.all([admin("health"), admin("exports"),
                                                          admin("requests?limit=50")]);
    document.getElementById("now").textContent = health.now;
    document.getElementById("export-count").textContent = "(" + exports.count + ")";
    fill(document.querySelector("#exports tbody"), exports.exports, drawExport);
    fill(document.querySelector("#journal tbody"), journal.requests.slice().reverse().map(entryView), drawEntry);
    document.body.dataset.refreshed = String(Date.now());
  } catch (error) { say("cannot reach the mock: " + (error.message || error), "err"); }
  finally { refreshing = false; }
}
document.getElementById("advance").addEventListener("click", () => {
  const seconds = Number(document.getElementById("seconds").value);
  act(() => admin("clock/advance", {seconds}), "advanced " + seconds + " s");
});
document.getElementById("reset").addEventListener("click", () => act(() => admin("reset", {}), "reset"));
refresh(); setInterval(refresh, 1000);
</script>
</body></html>
"""
