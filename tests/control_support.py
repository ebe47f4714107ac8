"""Helpers shared by the control-plane tests: fast app builders (the spec is
loaded once per session) and a tiny HTTP client for real listening servers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

from mockserver.app import Settings, create_app
from mockserver.testing import ServerThread
from mockserver.vendors.voucherify import Voucherify
from tests.conftest import APP, Api

CREDENTIALS = {"X-App-Id": APP[0], "X-App-Token": APP[1]}


@pytest.fixture
def control_api(aiohttp_client, spec, clock):
    """`await control_api(lifecycle="poll", ...)` → (Api, app) with the session's spec."""

    async def make(**settings):
        app = create_app(Settings(**settings), clock=clock, vendors=[Voucherify(spec=spec)])
        return Api(await aiohttp_client(app), spec), app

    return make


def server(spec, **settings) -> ServerThread:
    """A real server on a free loopback port (use it as a context manager)."""
    settings.setdefault("port", 0)
    return ServerThread(Settings(**settings), vendors=[Voucherify(spec=spec)])


@dataclass
class Answer:
    status: int
    headers: Any
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read().decode())
