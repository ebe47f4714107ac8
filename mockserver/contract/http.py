"""The small HTTP client our own checks use, one per app identity.

Every exchange is kept as an `Exchange`, so a failed expectation can show the
request as a curl line and the response that broke it. Secrets never reach a
report: tokens are printed as shell variables (`"$APP_TOKEN"`).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlencode

import requests

from ..spec import Operation
from .options import App

TIMEOUT = 10.0
FORM = "application/x-www-form-urlencoded"


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
    content: bytes = b""  # the raw body, for binary downloads (a zip)
    form: bool = False  # the request body was form-encoded (request_body holds its fields)

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def curl(self, redactor: Redactor) -> str:
        body = (
            None
            if self.request_body is None
            else urlencode(self.request_body)
            if self.form
            else json.dumps(self.request_body)
        )
        return redactor.curl(self.method, self.url, dict(self.request_headers), body)


class Redactor:
    """Secrets shown as shell variables a reader can export, so reports hold no token.

    A secret is replaced only where it stands as a whole value (a header value,
    a query value, a Basic user name), never inside other text: a token `t`
    must not turn `http` into garbage.
    """

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # value → shell variable name

    def add(self, value: str, variable: str) -> None:
        if value:
            self.secrets[value] = variable

    def __call__(self, text: str) -> str:
        """Prose (messages, excerpts): whole-word occurrences become `$VARIABLE`."""
        for value in sorted(self.secrets, key=len, reverse=True):
            text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", lambda m, v=value: f"${self.secrets[v]}", text)
        return text

    def curl(self, method: str, url: str, headers: dict[str, str], body: str | bytes | None) -> str:
        """A curl command for a POSIX shell: every word quoted, each secret an expanded variable."""
        words = ["curl", "-X", shlex.quote(method)]
        for name, value in headers.items():
            words += self._header(name, value)
        if body:
            words += ["-d", shlex.quote(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)]
        words.append(self._url(url))
        return " ".join(words)

    def _variable(self, value: str) -> str | None:
        name = self.secrets.get(value)
        return f'"${name}"' if name else None

    def _header(self, name: str, value: str) -> list[str]:
        if name.lower() == "authorization":
            scheme, _, credentials = value.partition(" ")
            if scheme.lower() == "basic":
                try:
                    user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
                except (ValueError, UnicodeDecodeError):  # masked by a recorder: the whole stands for the user
                    user, password = credentials, ""
                variable = self._variable(user)
                if variable and not password:
                    return ["-u", f'{variable[:-1]}:"']  # curl builds the Basic header from "$TOKEN":
            elif self._variable(credentials):
                return ["-H", shlex.quote(f"{name}: {scheme} ") + self._variable(credentials)]
        variable = self._variable(value)
        if variable:
            return ["-H", shlex.quote(f"{name}: ") + variable]
        return ["-H", shlex.quote(f"{name}: {value}")]

    def _url(self, url: str) -> str:
        base, mark, query = url.partition("?")
        if not mark:
            return shlex.quote(url)
        pieces, plain = [], base + "?"
        for number, item in enumerate(query.split("&")):
            key, eq, value = item.partition("=")
            plain += "&" if number else ""
            variable = self._variable(unquote_plus(value)) if eq else None
            if variable:
                pieces += [shlex.quote(plain + key + "="), variable]
                plain = ""
            else:
                plain += item
        if plain:
            pieces.append(shlex.quote(plain))
        return "".join(pieces)


class Client:
    """Speaks to the implementation as one app (or as none)."""

    def __init__(
        self,
        base_url: str,
        app: App | None,
        session: requests.Session | None = None,
        *,
        credentials: Callable[[App], dict[str, str]],
        form_lists: str = "json",
    ) -> None:
        """`credentials`: the headers that prove an app's identity; `form_lists`: how form bodies
        write lists (both the dialect's)."""
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.session = session or requests.Session()
        self.credentials = credentials
        self.form_lists = form_lists

    def as_app(self, app: App | None) -> Client:
        return Client(self.base_url, app, self.session, credentials=self.credentials, form_lists=self.form_lists)

    def call(
        self,
        operation: Operation,
        *,
        path: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> Exchange:
        """Send one request to `operation` (or to a full `url`, e.g. a download link)."""
        sent = dict(self.credentials(self.app)) if self.app else {}
        sent.update(headers or {})
        if url is None:
            url = self.base_url + fill_path(operation.path, path or {})
        kwargs: dict[str, Any] = {"params": query, "headers": sent, "timeout": TIMEOUT, "allow_redirects": False}
        form = body is not None and FORM in operation.body_schemas and "application/json" not in operation.body_schemas
        if form:
            body = form_fields(body, lists=self.form_lists)
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body
        response = self._send(operation.method, url, kwargs)
        return Exchange(
            operation=label(operation),
            method=operation.method,
            url=response.request.url or url,
            request_headers={k: v for k, v in response.request.headers.items() if k in sent or k == "Content-Type"},
            request_body=body,
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            text=response.text,
            content=response.content,
            form=form,
        )

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """One request; a 429 with Retry-After is waited out and sent again, as a real client does
        (within RATE_LIMIT_PATIENCE seconds in all), so a rate limit the contract allows reads as one."""
        waited = 0.0
        while True:
            response = self.session.request(method, url, **kwargs)
            delay = _retry_after(response)
            if delay is None or waited + delay > RATE_LIMIT_PATIENCE:
                return response
            time.sleep(delay)
            waited += delay


RATE_LIMIT_PATIENCE = 30.0  # seconds a check waits out 429s before it reports one


def _retry_after(response: requests.Response) -> float | None:
    if response.status_code != 429:
        return None
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def form_fields(body: dict[str, Any], prefix: str = "", lists: str = "json") -> list[tuple[str, str]]:
    """Nested parameters as bracketed form fields; lists as JSON arrays (`lists="json"`:
    {"order": {"status": {"in": ["queued"]}}} → order[status][in]=["queued"]), indexed
    (`"indexed"`: parameters[columns][0]=a) or repeated (`"brackets"`: parameters[columns][]=a)."""
    fields: list[tuple[str, str]] = []
    for key, value in body.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            fields += form_fields(value, name, lists)
        elif isinstance(value, list) and lists == "indexed":
            fields += form_fields({str(i): item for i, item in enumerate(value)}, name, lists)
        elif isinstance(value, list) and lists == "brackets":
            fields += [(f"{name}[]", str(item)) for item in value]
        else:
            fields.append((name, json.dumps(value) if isinstance(value, list) else str(value)))
    return fields


def label(operation: Operation) -> str:
    """The name schemathesis gives an operation, so both report the same rows."""
    return f"{operation.method} {operation.path}"


def fill_path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: requests.utils.quote(str(values[m.group(1)]), safe=""), template)
