"""pytest plugin (registered as the `mockserver` pytest11 entry point).

1. The `mockserver` fixture: the mock, in-process, on a free loopback port,
   for one test. Configure it with a marker or with indirect parametrisation
   (both take `mockserver.app.Settings` fields; the parameter wins):

       @pytest.mark.mockserver(seed=7, lifecycle="instant", fixtures="fixtures")
       def test_export(mockserver):
           reply = mockserver.client.post("/v1/exports", json={"exported_object": "order"})

       @pytest.mark.parametrize("mockserver", [{"lifecycle": "time"}], indirect=True)
       def test_timing(mockserver): ...

   Defaults: lifecycle "poll" (each GET moves an export one step, so tests never
   sleep), seed 0. The fixture yields a `MockServer` with `.url`, `.app_id`,
   `.app_token` and `.client`.

2. The contract suite inside your own run: `pytest --contract-base-url URL`
   (+ `--contract-app-id/--contract-app-token`, `--contract-other-app ID:TOKEN`,
   `--contract-spec`, `--contract-max-examples`, `--contract-seed`, `--contract-checks a,b`
   with the list syntax of `mockserver contract --checks`). The run
   happens once, at collection; each operation × check it exercised becomes
   its own test item, failing with the findings of that pair.

Importing this module stays cheap: the mock and schemathesis load on use.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

DEFAULT_APP = ("pytest-app", "pytest-token")
ADMIN = "/__mock/"


# ---------------------------------------------------------------- the fixture
@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class MockClient:
    """A tiny standard-library HTTP client that speaks to the mock as one app."""

    def __init__(
        self,
        base_url: str,
        app_id: str | None,
        app_token: str | None,
        mounts: Any = None,
        admin_token: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.app_id = app_id
        self.app_token = app_token
        self.mounts = mounts  # mockserver.app.Mounts: whose credential headers a path takes
        self.admin_token = admin_token  # the server's --admin-token, sent on /__mock/ calls

    def as_app(self, app_id: str | None, app_token: str | None) -> MockClient:
        """The same mock as another tenant (or, with None, without credentials)."""
        return MockClient(self.base_url, app_id, app_token, self.mounts, self.admin_token)

    def _credentials(self, url: str) -> dict[str, str]:
        """The headers the vendor of the URL's path takes (Vendor.credential_headers); on the admin
        API, the admin token (if the server has one)."""
        path = urllib.parse.urlsplit(url).path
        if path.startswith(ADMIN):
            return {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        if not self.app_id or self.app_token is None:
            return {}
        vendor = self.mounts.owner(path) if self.mounts is not None else None
        if vendor is None:  # not one of our ServerThreads, or a path under no vendor: the default dialect's
            return _credentials(self.app_id, self.app_token)
        return vendor.credential_headers(self.app_id, self.app_token)

    def request(
        self, method: str, path: str, *, json_body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Reply:
        body = kwargs.pop("json", json_body)
        if kwargs:
            raise TypeError(f"unexpected arguments {sorted(kwargs)}")
        url = path if path.startswith("http") else self.base_url + path
        sent = self._credentials(url)
        data = None
        if body is None and method == "POST" and urllib.parse.urlsplit(url).path.startswith(ADMIN):
            body = {}  # the admin API takes JSON only
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, dict(response.headers), response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read().decode("utf-8"))

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)


def _credentials(app_id: str, app_token: str) -> dict[str, str]:
    """The headers of the default contract's dialect (the vendor a bare `mockserver serve` answers first)."""
    from mockserver.contract.known import default_contract, known_dialects
    from mockserver.contract.options import App

    name = default_contract()
    return known_dialects()[name].headers(App(app_id, app_token)) if name else {}


@dataclass
class MockServer:
    url: str
    app_id: str
    app_token: str
    client: MockClient
    server: Any  # mockserver.testing.ServerThread, for its app and clock


@pytest.fixture
def mockserver(request: pytest.FixtureRequest):
    """The mock on a free loopback port for this test; see the module docstring for options."""
    from mockserver.app import MOUNTS, Settings
    from mockserver.testing import ServerThread

    options: dict[str, Any] = {"lifecycle": "poll"}
    marker = request.node.get_closest_marker("mockserver")
    if marker is not None:
        options.update(marker.kwargs)
    options.update(getattr(request, "param", None) or {})
    options.update(host="127.0.0.1", port=0)
    with ServerThread(Settings(**options)) as server:
        yield MockServer(
            url=server.url,
            app_id=DEFAULT_APP[0],
            app_token=DEFAULT_APP[1],
            client=MockClient(server.url, *DEFAULT_APP, server.app[MOUNTS], options.get("admin_token")),
            server=server,
        )


# ---------------------------------------------------------------- the contract suite
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "mockserver contract suite")
    group.addoption("--contract-base-url", help="run the contract suite against this implementation")
    group.addoption(
        "--contract-spec",
        default=None,
        help="bundled contract name or schema path (default: the default vendor's contract)",
    )
    group.addoption("--contract-app-id", help="app id to test as (default: a fresh random app)")
    group.addoption("--contract-app-token", help="that app's token")
    group.addoption("--contract-max-examples", type=int, default=None, help="generated requests per operation")
    group.addoption("--contract-seed", type=int, default=None, help="seed, to repeat a run")
    group.addoption("--contract-other-app", type=_pair, metavar="ID:TOKEN", help="a second app for tenant_isolation")
    group.addoption(
        "--contract-checks",
        nargs="+",
        action="extend",
        default=None,
        metavar="CHECK",
        help="only these checks (default: all); like `mockserver contract --checks`: "
        "`a,b`, `a b` and repeating the option are the same",
    )


def _pair(text: str) -> tuple[str, str]:
    from mockserver import argtypes

    return argtypes.pair(text)  # its ArgumentTypeError is pytest's usage error


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockserver(**settings): options of the `mockserver` fixture "
        "(mockserver.app.Settings fields, e.g. seed, lifecycle, fixtures)",
    )


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("contract_base_url"):
        items.extend(ContractSuite.from_parent(session, name="contract").collect())


class ContractSuite(pytest.Collector):
    """Runs the contract once and turns what it exercised into items."""

    def collect(self):
        from mockserver.contract.options import DEFAULT_MAX_EXAMPLES, ContractOptions, ContractUsageError, split_names
        from mockserver.contract.runner import run_contract

        get = self.config.getoption
        try:
            other = get("contract_other_app")
            options = ContractOptions(
                base_url=get("contract_base_url"),
                spec=get("contract_spec"),
                app_id=get("contract_app_id"),
                app_token=get("contract_app_token"),
                max_examples=get("contract_max_examples") or DEFAULT_MAX_EXAMPLES,
                seed=get("contract_seed"),
                checks=split_names(get("contract_checks")),
                other_app=other,
            )
            results = run_contract(options)
        except ContractUsageError as exc:
            raise pytest.UsageError(f"contract suite: {exc}") from None
        for operation, check in results.pairs():
            yield ContractItem.from_parent(
                self, name=f"{operation} [{check}]", results=results, pair=(operation, check)
            )
        for number, error in enumerate(results.errors, start=1):
            yield ContractItem.from_parent(self, name=f"run error {number}", results=results, pair=None, error=error)


class ContractFailure(Exception):
    pass


class ContractItem(pytest.Item):
    def __init__(self, *, results, pair: tuple[str, str] | None, error: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = results
        self.pair = pair
        self.error = error

    def runtest(self) -> None:
        if self.pair is None:
            raise ContractFailure(self.error)
        outcome = self.results.outcome(*self.pair)
        if outcome == "skipped":
            pytest.skip(self.results.skipped[self.pair])
        if outcome == "failed":
            raise ContractFailure(
                "\n\n".join(
                    "\n".join(
                        part
                        for part in (
                            f.title,
                            f.message,
                            f.curl and f"reproduce: {f.curl}",
                            f.status is not None and f"response {f.status}: {f.response}",
                        )
                        if part
                    )
                    for f in self.results.findings[self.pair]
                )
            )

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ContractFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"contract: {self.name}"
