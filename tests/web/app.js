// The whole export flow as a browser app does it, with fetch(credentials: 'include') and the headers
// the vendor SDKs and tracing libraries add. Every step records what JavaScript could read.
"use strict";

const params = new URLSearchParams(location.search);
const API = params.get("api");              // a plain mock
const SLOW = params.get("slow");            // --latency
const LIMITED = params.get("limited");      // --rate-limit
const FLAKY = params.get("flaky");          // --error-rate 1
const REFUSING = params.get("refusing");    // --cors-origin of another site
const LATENCY_MS = Number(params.get("latency_ms") || 0);
const CREDENTIALS = {"X-App-Id": params.get("app_id"), "X-App-Token": params.get("app_token")};
const EXTRA = {"X-Voucherify-Channel": "Browser-SDK", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
const results = {};

function record(step, value, ok = true) {
  results[step] = value;
  const row = document.getElementById("steps").insertRow();
  row.insertCell().textContent = step;
  const cell = row.insertCell();
  cell.textContent = JSON.stringify(value).slice(0, 120);
  cell.className = ok ? "ok" : "fail";
}

async function call(base, method, path, {body, headers = {}, auth = true} = {}) {
  const sent = {...EXTRA, ...(auth ? CREDENTIALS : {}), ...headers};
  if (body !== undefined) sent["Content-Type"] = "application/json";
  const response = await fetch(base + path, {method, headers: sent, credentials: "include",
                                             body: body === undefined ? undefined : JSON.stringify(body)});
  const type = response.headers.get("Content-Type") || "";
  const text = await response.text();
  return {status: response.status, headers: response.headers,
          body: type.startsWith("application/json") && text ? JSON.parse(text) : text};
}

async function flow() {
  const created = await call(API, "POST", "/v1/exports",
                             {body: {exported_object: "order", parameters: {fields: ["id", "status", "amount"]}}});
  record("create", {status: created.status, id: created.body.id, export_status: created.body.status});
  let polled = created.body, polls = 0;
  while (polled.status !== "DONE" && polls < 50) {  // --lifecycle poll: each GET moves it one step
    polled = (await call(API, "GET", `/v1/exports/${created.body.id}`)).body;
    polls += 1;
  }
  record("poll", {polls, status: polled.status, has_url: Boolean(polled.result && polled.result.url)});
  const download = await fetch(polled.result.url, {credentials: "include"});
  const csv = await download.text();
  document.getElementById("csv").textContent = csv;
  const disposition = download.headers.get("Content-Disposition") || "";
  record("download", {status: download.status, disposition, type: download.headers.get("Content-Type"),
                      filename: (disposition.match(/filename="?([^";]+)"?/) || [])[1] || null,
                      header_row: csv.split(/\r?\n/)[0], rows: csv.trim().split(/\r?\n/).length - 1});
  const listed = await call(API, "GET", "/v1/exports");
  record("list", {status: listed.status, total: listed.body.total,
                  ids: listed.body.exports.map(e => e.id), contains: listed.body.exports.some(e => e.id === created.body.id)});
  const deleted = await call(API, "DELETE", `/v1/exports/${created.body.id}`);
  record("delete", {status: deleted.status});
  const gone = await call(API, "GET", `/v1/exports/${created.body.id}`);
  record("not_found", {status: gone.status, key: gone.body.key, details: gone.body.details});
  const anonymous = await call(API, "GET", "/v1/exports", {auth: false});
  record("unauthorized", {status: anonymous.status, key: anonymous.body.key, message: anonymous.body.message});
  for (const code of [429, 500, 503]) {
    const preferred = await call(API, "POST", "/v1/exports", {body: {exported_object: "order"},
                                                               headers: {Prefer: `code=${code}`}});
    record(`prefer_${code}`, {status: preferred.status, code: preferred.body.code, key: preferred.body.key,
                              retry_after: preferred.headers.get("Retry-After")});
  }
}

async function faults() {
  if (SLOW) {
    const started = performance.now();
    const slow = await call(SLOW, "GET", "/v1/exports");
    record("latency", {status: slow.status, elapsed_ms: Math.round(performance.now() - started)});
  }
  if (LIMITED) {
    const answers = await Promise.all([...Array(6)].map(() => call(LIMITED, "GET", "/v1/exports")));
    const limited = answers.filter(a => a.status === 429);
    record("rate_limit", {statuses: answers.map(a => a.status), retry_after: limited.length ? limited[0].headers.get("Retry-After") : null,
                          key: limited.length ? limited[0].body.key : null});
  }
  if (FLAKY) {
    const failed = await call(FLAKY, "GET", "/v1/exports");
    record("error_rate", {status: failed.status, code: failed.body.code, request_id: failed.body.request_id});
  }
  if (REFUSING) {
    try {
      await call(REFUSING, "GET", "/v1/exports");
      record("refused_origin", {error: null}, false);
    } catch (error) {  // all JavaScript learns: the mock logged and journaled why
      record("refused_origin", {error: error.name + ": " + error.message});
    }
  }
}

(async () => {
  try {
    await flow();
    await faults();
    results.origin = location.origin;
  } catch (error) {
    results.error = String(error && error.stack || error);
  }
  const out = document.getElementById("results");
  out.textContent = JSON.stringify(results, null, 2);
  out.dataset.done = "true";
})();
