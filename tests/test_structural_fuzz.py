"""Structural fuzz: values of the wrong JSON type, at every place a request carries one.

For every operation served — each installed vendor's (the registry's), read
off its loaded spec, and the /__mock/ admin API's, read off the app's router —
take the documented request example (or, where there is none, one built from
the schema by mockserver.control.generate) and send it with each value of WEIRD
put at every JSON path, as the whole body, as every query and path parameter
and, for form bodies, as every form field. Every answer must be 2xx or a 4xx in
the vendor's own error shape (its contract dialect judges it): never a 5xx, a
traceback or a hang.

A form field is self-contained (its bracketed name says where it goes), so each
weird field is sent beside the example's required fields only, not its other
hundred-odd: the same code reads it, at a twentieth of the cost. It runs
in-process, so the ~25,000 requests take seconds.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from mockserver import registry
from mockserver.app import Settings, create_app
from mockserver.control import admin
from mockserver.control.generate import generate

DEEP = 100  # levels: past the parser's limit of 64


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


WEIRD: list[Any] = [{}, [], "", 0, -1, 1.5, True, None, "x" * 5000, _deep(DEEP), "\u0000", "\U0001f600"]
SECONDS = 10.0  # one request's bound: far over what any takes, short of a hang
SECRET = "sk_test_fuzz"  # a well-formed key for every vendor (Stripe checks the shape)

# The admin API has no spec: one valid request per route. A route added without a row here fails
# test_every_admin_route_has_an_example, so it cannot slip past the fuzz.
ADMIN_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/__mock/health"): {},
    ("POST", "/__mock/reset"): {"body": {"app_id": "fuzz-app"}},
    ("POST", "/__mock/clock/advance"): {"body": {"seconds": 1}},
    ("POST", "/__mock/exports/{export_id}/status"): {"body": {"status": "DONE"}, "path": {"export_id": "exp_fuzz"}},
    ("GET", "/__mock/requests"): {
        "query": {"path": "/v1/exports*", "app_id": "fuzz-app", "method": "POST", "limit": "10"}
    },
    ("DELETE", "/__mock/requests"): {},
    ("GET", "/__mock/openapi"): {"query": {"vendor": "voucherify"}},
    ("GET", "/__mock/exports"): {},
    ("GET", "/__mock/ui"): {},
}


def paths(value: Any, prefix: tuple = ()):
    """Every JSON path inside `value` (not the root itself)."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def as_text(value: Any) -> str:
    """A weird value as a query/path parameter or form field sends it."""
    return value if isinstance(value, str) else json.dumps(value)


def form_fields(value: Any, prefix: str = "") -> dict[str, str]:
    """A nested body as Chargebee's bracketed form fields."""
    if isinstance(value, dict) and value:
        out: dict[str, str] = {}
        for key, child in value.items():
            out.update(form_fields(child, f"{prefix}[{key}]" if prefix else key))
        return out
    return {prefix: as_text(value)}


def body_examples(operation) -> dict[str, list[Any]]:
    """media type → the documented request examples (or one generated from the schema)."""
    content = (operation.raw.get("requestBody") or {}).get("content") or {}
    out = {}
    for media, entry in content.items():
        examples = [e["value"] for e in (entry.get("examples") or {}).values() if "value" in e]
        if "example" in entry:
            examples.append(entry["example"])
        out[media] = examples or [generate(operation.body_schemas[media])]
    return out


def param_example(param) -> str:
    value = param.schema.get("example", generate(param.schema))
    return value if isinstance(value, str) else json.dumps(value)


class Request:
    def __init__(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        body: Any = None,
        media: str | None = None,
        raw: bytes | None = None,
        headers: dict | None = None,
    ) -> None:
        self.method, self.path, self.query, self.body, self.media = method, path, query or {}, body, media
        self.raw, self.headers = raw, headers or {}

    def url(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")

    def data(self) -> bytes | None:
        if self.raw is not None:
            return self.raw
        if self.media is None:
            return None
        if self.media == "application/json":
            return json.dumps(self.body).encode()
        return urlencode(form_fields(self.body) if isinstance(self.body, dict) else {}).encode()

    def __repr__(self) -> str:
        body = self.data()
        return f"{self.method} {self.url()[:200]} {body[:300] if body else ''}"


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


def operation_requests(vendor) -> list[Request]:
    """Every request the fuzz sends for one vendor's spec."""
    auth = vendor.credential_headers("fuzz-app", SECRET)
    out: list[Request] = []
    for op in vendor.spec.operations:
        path_values = {p.name: param_example(p) for p in op.parameters if p.location == "path"}
        query = {p.name: param_example(p) for p in op.parameters if p.location == "query" and p.required}

        def make(path=path_values, query=query, body=None, media=None, raw=None, op=op):
            return Request(
                op.method,
                _fill(op.path, path),
                query=query,
                body=body,
                media=media,
                raw=raw,
                headers={**auth, **({"Content-Type": media} if media else {})},
            )

        for param in op.parameters:
            if param.location not in ("path", "query"):
                continue
            for weird in WEIRD:
                if param.location == "path":
                    out.append(make(path={**path_values, param.name: as_text(weird)}))
                else:
                    out.append(make(query={**query, param.name: as_text(weird)}))
        for media, examples in body_examples(op).items():
            for example in examples:
                out.append(make(body=example, media=media))
                for weird in WEIRD:
                    if media == "application/json":
                        out.append(make(body=weird, media=media))
                    else:
                        out.append(make(raw=as_text(weird).encode(), media=media))
                if media == "application/json":
                    for where in paths(example):
                        out.extend(make(body=replaced(example, where, weird), media=media) for weird in WEIRD)
                else:
                    fields = form_fields(example)
                    required = set(op.body_schemas[media].get("required", ()))
                    context = {name: value for name, value in fields.items() if name.split("[")[0] in required}
                    for name in fields:
                        out.extend(
                            make(raw=urlencode({**context, name: as_text(weird)}).encode(), media=media)
                            for weird in WEIRD
                        )
    return out


def admin_requests(app) -> list[Request]:
    out: list[Request] = []
    for (method, template), example in ADMIN_EXAMPLES.items():
        path_values, query, body = example.get("path", {}), example.get("query", {}), example.get("body")
        media = "application/json" if body is not None else None

        def make(path=path_values, query=query, body=body, media=media, method=method, template=template):
            return Request(
                method,
                _fill(template, path),
                query=query,
                body=body,
                media=media,
                headers={"Content-Type": media} if media else {},
            )

        out.append(make())
        for weird in WEIRD:
            out.append(make(body=weird, media="application/json"))
            for name in path_values:
                out.append(make(path={**path_values, name: as_text(weird)}))
            for name in query:
                out.append(make(query={**query, name: as_text(weird)}))
            if body is not None:
                out.extend(make(body=replaced(body, where, weird)) for where in paths(body))
    return out


def admin_routes(app) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(admin.PREFIX)
        and route.method != "*"
        and route.method != "HEAD"
    }


async def send(client, request: Request):
    resp = await client.request(request.method, request.url(), data=request.data(), headers=request.headers)
    return resp, await resp.read()


def error_shape(vendor, status: int, body: Any) -> bool:
    """The vendor's error object, as its contract dialect knows it; the admin API's `{"error": …}`."""
    if vendor is None or vendor.contract is None:
        return isinstance(body, dict) and "error" in body
    return vendor.contract.error_problem(status, body) is None


@pytest.fixture(scope="module")
def vendors():
    return registry.build(Settings())


@pytest.fixture(scope="module")
def requests_of():
    """A vendor's requests, made once for all its slices: each slice made the whole list again to keep an
    eighth of it (Chargebee's 19,000 forms eight times over)."""
    made: dict[str, list[Request]] = {}

    def of(vendor) -> list[Request]:
        if vendor.name not in made:
            made[vendor.name] = operation_requests(vendor)
        return made[vendor.name]

    return of


def test_every_admin_route_has_an_example(vendors):
    app = create_app(Settings(lifecycle="poll"), vendors=vendors)
    assert admin_routes(app) == set(ADMIN_EXAMPLES)


SHARDS = 8  # each vendor's requests in this many consecutive slices, one test each


def shard(requests: list[Request], index: int, count: int = SHARDS) -> list[Request]:
    """The `index`th of `count` consecutive slices of `requests`: together, every request once, in order."""
    return requests[index * len(requests) // count : (index + 1) * len(requests) // count]


def test_the_shards_send_every_request_once_in_order(vendors, requests_of):
    chargebee = next(vendor for vendor in vendors if vendor.name == "chargebee")
    requests = requests_of(chargebee)
    assert [repr(r) for r in requests] == [repr(r) for r in operation_requests(chargebee)]  # the same list made again
    slices = [shard(requests, index) for index in range(SHARDS)]
    assert all(slices) and [r for piece in slices for r in piece] == requests


# one test per slice of a vendor's requests, so pytest-xdist spreads them over its workers: Chargebee's
# 19,000 forms in one test were the suite's long pole (16 s quiet, 164 s on a loaded machine), longer than
# any balance could hide. The vendors' are slow; the admin API's stays in the quick loop
@pytest.mark.parametrize(
    "batch, index",
    [
        *(
            pytest.param(name, index, marks=pytest.mark.slow, id=f"{name}-{index + 1}of{SHARDS}")
            for name in registry.available()
            for index in range(SHARDS)
        ),
        pytest.param("admin", 0, id="admin"),
    ],
)
async def test_no_value_anywhere_gets_a_5xx(aiohttp_client, vendors, requests_of, batch, index):
    app = create_app(Settings(lifecycle="poll", journal_size=10, max_exports=10), vendors=vendors)
    client = await aiohttp_client(app)
    batches = [(vendor, shard(requests_of(vendor), index)) for vendor in vendors if vendor.name == batch]
    if batch == "admin":
        batches.append((None, admin_requests(app)))
    assert batches, batch
    failures: list[str] = []
    sent = 0
    for vendor, requests in batches:
        assert requests, batch
        for request in requests:
            sent += 1
            try:
                resp, raw = await asyncio.wait_for(send(client, request), SECONDS)
            except asyncio.TimeoutError:
                failures.append(f"hang: {request!r}")
                continue
            if resp.status < 300:
                continue
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw[:200]
            if resp.status >= 500 or not error_shape(vendor, resp.status, body):
                failures.append(f"{resp.status} {body!r:.300} ← {request!r}")
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:40])
