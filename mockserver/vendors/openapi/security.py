"""Credentials as the document's `securitySchemes` declare them: one small reader per scheme type.

    apiKey          the named header, query parameter or cookie
    http basic      `Authorization: Basic` (user, or user:password when there is a password; the user
                    alone with `x-mock-basic: user` on the scheme, for an API key sent as the user name)
    http bearer     `Authorization: Bearer <token>`
    oauth2, openIdConnect   an access token, sent as a bearer token

An operation's `security` lists alternatives; each names schemes that must all be present.
A scheme marked `x-mock-signed: true` is a signed URL's token, not credentials: a request offering
an alternative made only of such schemes is let through without an app (whatever else it
carries), and the operation checks the token against the export it opens.
The credentials of the first alternative a request satisfies make its app: a digest, so a
secret never leaves the request (journal, logs, store keys). Unpinned, any credentials are a
app of their own (a mock's trust-new default); pinned (`--<vendor>-key`), only those.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp import web

from ..common import basic_header, bearer_token, same

Reader = Callable[[Mapping[str, Any], web.Request], str]


def _source(where: Any, request: web.Request) -> Mapping[str, Any]:
    """Where an apiKey is sent: the headers, the query or the cookies (each read only when asked: every
    secured request reads its credentials)."""
    if where == "header":
        return request.headers
    if where == "query":
        return request.query
    return request.cookies if where == "cookie" else {}


def _api_key(scheme: Mapping[str, Any], request: web.Request) -> str:
    return str(_source(scheme.get("in"), request).get(str(scheme.get("name", "")), "")).strip()


def _http(scheme: Mapping[str, Any], request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if str(scheme.get("scheme", "")).lower() == "basic":
        credential = _basic(header)
        # `x-mock-basic: user`: the user name alone is the credential (an API key as the user name)
        return credential.partition(":")[0] if scheme.get("x-mock-basic") == "user" else credential
    return bearer_token(header)


def _bearer(scheme: Mapping[str, Any], request: web.Request) -> str:
    return bearer_token(request.headers.get("Authorization", ""))


def _basic(header: str) -> str:
    """`user` or `user:password` of a Basic header ("" for any other)."""
    kind, _, encoded = header.partition(" ")
    if kind.lower() != "basic":
        return ""
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return f"{user}:{password}" if password else user


READERS: dict[str, Reader] = {"apiKey": _api_key, "http": _http, "oauth2": _bearer, "openIdConnect": _bearer}


def reader(scheme: Mapping[str, Any]) -> Callable[[web.Request], str]:
    """The scheme's reader (READERS) with what it reads worked out once: an operation's credentials are
    read on every request, and an API key in a header (the usual case) is then one lookup."""
    if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
        name = str(scheme.get("name", ""))
        return lambda request: request.headers.get(name, "").strip()
    read = READERS[scheme["type"]]
    return lambda request: read(scheme, request)


class Credentials:
    """Reads and judges a request's credentials by the document's security schemes."""

    def __init__(self, schemes: Mapping[str, Mapping[str, Any]], pinned: Iterable[str] = ()) -> None:
        unknown = sorted({str(s.get("type")) for s in schemes.values()} - set(READERS))
        if unknown:
            raise ValueError(
                f"securitySchemes of type {', '.join(unknown)} are not supported; supported: {', '.join(READERS)}"
            )
        self.schemes = schemes
        self.pinned = tuple(pinned)
        self.signed_schemes = frozenset(name for name, scheme in schemes.items() if scheme.get("x-mock-signed"))
        # id(security) → (security, the schemes of each of its alternatives made only of signed ones)
        self._signed: dict[int, tuple[Any, list[list[Mapping[str, Any]]]]] = {}

    def signed(self, security: Iterable[Mapping[str, Any]], request: web.Request) -> bool:
        """Whether the request offers an alternative made only of signed-URL tokens (`x-mock-signed`); one
        sent empty counts (the operation refuses it, as a signed URL with a wrong token is refused)."""
        if not self.signed_schemes:
            return False
        plan = self._signed.get(id(security))
        if plan is None or plan[0] is not security:  # an operation's alternatives, sorted out once
            only = [
                [(scheme.get("in"), str(scheme.get("name", ""))) for scheme in (self.schemes[n] for n in requirement)]
                for requirement in security
                if requirement
                and all(name in self.signed_schemes for name in requirement)
                # only an apiKey's header, query parameter or cookie can be offered
                and all(self.schemes[name].get("type") == "apiKey" for name in requirement)
            ]
            plan = self._signed[id(security)] = (security, only)
        for wanted in plan[1]:  # loops, not any(all(…)) over generators: every secured request asks
            for where, name in wanted:
                if name not in _source(where, request):
                    break
            else:
                return True
        return False

    def presented(self, security: Iterable[Mapping[str, Any]], request: web.Request) -> str | None:
        """The credentials of the first satisfied alternative (joined by `:`); "" when an alternative asks
        for none; None when the request satisfies none."""
        for requirement in security:
            if not requirement:
                return ""
            values = [
                READERS[self.schemes[name]["type"]](self.schemes[name], request)
                for name in requirement
                if name in self.schemes
            ]
            if values and all(values):
                return ":".join(values)
        return None

    def accepted(self, secret: str) -> bool:
        return not self.pinned or any(same(key, secret) for key in self.pinned)

    def any_presented(self, security: Iterable[Mapping[str, Any]], request: web.Request) -> bool:
        return any(
            READERS[self.schemes[name]["type"]](self.schemes[name], request)
            for requirement in security
            for name in requirement
            if name in self.schemes
        )

    def headers(self, security: Iterable[Mapping[str, Any]], secret: str) -> dict[str, str]:
        """The headers that carry `secret` in the first alternative (tests, the pytest plugin)."""
        for requirement in security:
            for name in requirement:
                scheme = self.schemes.get(name, {})
                kind = scheme.get("type")
                if kind == "apiKey" and scheme.get("in") == "header":
                    return {str(scheme["name"]): secret}
                if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                    user, _, password = secret.partition(":")
                    return {"Authorization": basic_header(user, password)}
                if kind in ("http", "oauth2", "openIdConnect"):
                    return {"Authorization": f"Bearer {secret}"}
        return {}


def app_of(secret: str) -> str:
    """The app credentials stand for: a digest, never the secret itself."""
    return "t_" + hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()[:24]
