"""The small HTTP client our own checks use, one per app identity.

Every exchange is kept as an `Exchange`, so a failed expectation can show the
request as a curl line and the response that broke it. Secrets never reach a
report: tokens are printed as shell variables (`$APP_TOKEN`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import requests
from schemathesis.core.curl import generate as curl_command

from ..spec import Operation
from .options import App

TIMEOUT = 10.0


@dataclass
class Exchange:
    """One request and its response, as sent and received."""

    operation: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def curl(self) -> str:
        body = json.dumps(self.request_body) if self.request_body is not None else None
        return curl_command(method=self.method, url=self.url, body=body, verify=True,
                            headers=dict(self.request_headers), known_generated_headers=None).command


class Redactor:
    """Replace secret values by shell variables that a reader can export and re-run."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}

    def add(self, value: str, variable: str) -> None:
        if value:
            self.secrets[value] = variable

    def __call__(self, text: str) -> str:
        for value in sorted(self.secrets, key=len, reverse=True):
            # close the single quote, expand the variable, reopen: works inside shlex quoting
            text = text.replace(value, f"'\"${self.secrets[value]}\"'")
        return text


class Client:
    """Speaks to the implementation as one app (or as none)."""

    def __init__(self, base_url: str, app: App | None, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.session = session or requests.Session()

    def as_app(self, app: App | None) -> Client:
        return Client(self.base_url, app, self.session)

    def call(self, operation: Operation, *, path: dict[str, str] | None = None, query: dict[str, Any] | None = None,
             body: Any = None, headers: dict[str, str] | None = None, url: str | None = None) -> Exchange:
        """Send one request to `operation` (or to a full `url`, e.g. a download link)."""
        sent = dict(self.app.headers()) if self.app else {}
        sent.update(headers or {})
        if url is None:
            url = self.base_url + fill_path(operation.path, path or {})
        kwargs: dict[str, Any] = {"params": query, "headers": sent, "timeout": TIMEOUT, "allow_redirects": False}
        if body is not None:
            kwargs["json"] = body
        response = self.session.request(operation.method, url, **kwargs)
        return Exchange(
            operation=label(operation),
            method=operation.method,
            url=response.request.url or url,
            request_headers={k: v for k, v in response.request.headers.items() if k in sent or k == "Content-Type"},
            request_body=body,
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            text=response.text,
        )


def label(operation: Operation) -> str:
    """The name schemathesis gives an operation, so both report the same rows."""
    return f"{operation.method} {operation.path}"


def fill_path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: requests.utils.quote(str(values[m.group(1)]), safe=""), template)
