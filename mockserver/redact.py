"""Secrets stay in the request that carried them: what the mock keeps (the journal) or
writes (recordings, log lines) shows a credential masked and a token redacted.

- A credential is masked as the vendors' dashboards and error messages show a key:
  its kind prefix (`sk_test_`, `rk_live_`, `test_` …), four asterisks, its last four
  characters: `Bearer sk_test_****4242`, `Basic ****abcd` (the Basic user name, the
  key, decoded; a password is never shown). A secret shorter than `LONG` characters
  shows none of them: `****`.
- A header is secret by its name: Authorization, Cookie, and any name that says
  token, secret, password, API key, signature or credential (`X-App-Token`).
- A URL's secret parameters (`token=`, pre-signed `X-Amz-Signature=` …) and long
  opaque path segments (capability links) are masked wherever a URL appears: in the
  query, in response headers such as Location, in bodies (`result.url`, `download_url`).
- A JSON body's values under secret names are masked; so is every whole credential
  the request carried wherever it is echoed.
- An app whose id is its key (an API-key vendor: Vendor.app_is_secret) is filed
  under `label(key)`: `key_` and 12 hex digits of a keyed hash, stable while the server
  runs, not derivable from the key without the server's own random salt.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping

MASK = "****"
SHOWN = 4  # the last characters of a long secret that are shown
LONG = 12  # a secret (after its kind prefix) shorter than this shows none of its characters
MIN_ECHO = 8  # a credential at least this long is masked wherever it is echoed whole
_WORDS = r"token|secret|passw(?:or)?d|api[-_]?key|access[-_]?key|authori[sz]ation|cookie|signature|credential"
SECRET_NAME = re.compile(_WORDS, re.IGNORECASE)  # not a bare "key": Voucherify errors have one
_PREFIX = re.compile(r"^[a-z]{1,8}_(?:[a-z]{1,8}_)?")  # sk_test_, rk_live_, test_: the key's kind, not the key
# what a secret's name contains, as plain text: a body holding none of them needs no pattern run
_HINTS = ("token", "secret", "passw", "key", "authori", "cookie", "signature", "credential")
_URL_PARAM = re.compile(r"(?P<lead>[?&;](?P<name>[\w.%-]{1,64})=)(?P<value>[^&#;\s\"'<>\\]+)")
_JSON_NAME = re.compile(r"[\w.-]{1,64}")
_JSON_VALUE = re.compile(r"\s*:\s*\"((?:[^\"\\]|\\.)*)\"")  # after a key's closing quote: its string value
# a path segment that is itself the secret (a file link, a pre-signed path): long, opaque, letters and digits
_CAPABILITY = re.compile(r"/([A-Za-z0-9_-]{48,})(?=[/?#\s\"'<>\\]|$)")  # a literal "/" first: a fast scan
_SALT = os.urandom(16)


def mask(secret: str) -> str:
    """`sk_test_51Hx…4242` → `sk_test_****4242`; a short secret → `****`."""
    kind = _PREFIX.match(secret)
    prefix = kind.group(0) if kind else ""
    rest = secret[len(prefix) :]
    if len(rest) < LONG:
        return MASK
    return f"{prefix}{MASK}{rest[-SHOWN:]}"


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a header, parameter or property of this name holds a secret (names repeat: cached)."""
    return bool(SECRET_NAME.search(name))


def label(app: str) -> str:
    """The name an app whose id is its key is filed under."""
    digest = hmac.new(_SALT, app.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
    return f"key_{digest[:12]}"


def header_value(name: str, value: str) -> str:
    """A header's value as kept: masked when the header is secret, URLs redacted otherwise."""
    kind = _header_kind(name)
    return value if kind is None else _masked(kind, value)


def _masked(kind: str, value: str) -> str:
    """A value of a header of this kind (_header_kind), as kept."""
    if kind == "credentials":
        return credentials(value)
    if kind == "cookie":
        return MASK
    if kind == "secret":
        return mask(value.strip())
    return text(value)


@functools.lru_cache(maxsize=1024)
def _header_kind(name: str) -> str | None:
    lower = name.lower()
    if lower in ("authorization", "proxy-authorization"):
        return "credentials"
    if "cookie" in lower:
        return "cookie"
    if is_secret_name(name):
        return "secret"
    if lower in ("location", "content-location", "link", "refresh") or lower.startswith("x-mock-"):
        return "url"  # text that may quote a URL (a finding quoting a value)
    return None


def credentials(value: str) -> str:
    """An Authorization value masked: its scheme, then the masked credential (a Basic user name decoded)."""
    scheme, space, given = value.strip().partition(" ")
    if not space:
        return mask(scheme)
    if scheme.lower() == "basic":
        user, password = _basic(given.strip())
        if user is not None:
            return f"{scheme} {mask(user)}" + (f":{MASK}" if password else "")
    return f"{scheme} {mask(given.strip())}"


REMEMBERED = 256  # sets of request headers whose parts request_parts remembers
_remembered: dict[tuple, tuple] = {}


def request_parts(
    headers: Mapping[str, str], params: Mapping[str, str], *, accepted: bool = False
) -> tuple[Mapping[str, str], Iterable[tuple[str, str]] | None, list[str]]:
    """What the journal keeps of a request's headers and query: (headers, query pairs, the whole secrets
    it carried: credentials and secret query values, masked wherever echoed). A request that carried no
    secret gets (headers, None, []): kept as they are, unmasked (their URLs too).

    This runs for every request, and a client sends the same headers on each: what was found is
    remembered per set of headers and query (REMEMBERED at most, in this process's memory, never written
    anywhere) when it holds no secret, or when its one secret is the credential its vendor `accepted`,
    which the vendor's authenticator holds for the server's life anyway (a pinned key, a key bound on
    first use, a key that names its tenant in the store). A refused credential, a second secret beside
    the accepted one or a secret query parameter is never remembered."""
    key = (tuple(headers.items()), tuple(params.items()))
    known = _remembered.get(key)
    if known is not None:
        return known if known[1] is not None else (headers, None, [])
    parts, secret_headers, secret_params = _request_parts(headers, params)
    if parts[1] is None or (accepted and secret_headers == 1 and not secret_params):
        if len(_remembered) >= REMEMBERED:
            _remembered.clear()  # clients send a few sets; one that varies a header starts it over
        _remembered[key] = parts if parts[1] is not None else (None, None, [])
    return parts


def _request_parts(
    headers: Mapping[str, str], params: Mapping[str, str]
) -> tuple[tuple[Mapping[str, str], Iterable[tuple[str, str]] | None, list[str]], int, bool]:
    """request_parts found afresh, in one pass over the headers; and how many headers and whether
    query parameters carried a secret."""
    found: list[str] = []
    secret = False
    secret_headers, secret_params = 0, False
    changed: list[tuple[str, str, str]] = []  # (name, kind, value) of the headers header_value changes
    for name, value in headers.items():
        kind = _header_kind(name)
        if kind is None:
            continue
        changed.append((name, kind, value))
        if kind == "credentials":
            secret = True
            scheme, _, given = value.strip().partition(" ")
            user, _ = _basic(given.strip()) if scheme.lower() == "basic" else (None, None)
            found += [given.strip(), user or ""]
        elif kind != "url":
            secret = True
            if kind == "secret":
                found.append(value.strip())
        secret_headers += kind != "url"
    for name, value in params.items():
        if is_secret_name(name):
            secret = secret_params = True
            found.append(value)
    if not secret:
        return (headers, None, []), 0, False
    kept = dict(headers.items())  # a name sent twice keeps its last value, masked below as the last too
    for name, kind, value in changed:
        kept[name] = _masked(kind, value)
    secrets = [s for s in found if len(s) >= MIN_ECHO]
    if len(secrets) > 1:
        secrets = sorted(set(secrets), key=len, reverse=True)
    return (kept, query(params.items()), secrets), secret_headers, secret_params


def query(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Query parameters as kept: secret ones masked."""
    return [(name, mask(value) if is_secret_name(name) else value) for name, value in pairs]


def text(value: str, secrets: Iterable[str] = ()) -> str:
    """Free text (a body, a URL, a log line): secret URL parameters, capability path segments, JSON
    values under secret names, and each of `secrets` (whole credentials) masked."""
    return _patterns(echoes(value, secrets))


def echoes(value: str, secrets: Iterable[str]) -> str:
    """`value` with each of `secrets` (whole credentials a request carried) masked: the part of `text`
    that needs the secrets themselves, so the rest (`text(value)`) can wait until it is read."""
    for secret in secrets:
        if secret in value:
            value = value.replace(secret, mask(secret))
    return value


def _patterns(value: str) -> str:
    lower = value.lower()
    if any(hint in lower for hint in _HINTS):
        if "=" in value:  # a leading "&": a form body's first parameter is one too
            value = _URL_PARAM.sub(_masked_param, "&" + value)[1:]
        if '"' in value:
            value = _json_values(value, value.lower())
    if "/" in value:
        value = _CAPABILITY.sub(_masked_segment, value)
    return value


def path(value: str) -> str:
    """A request path as kept: a capability segment (a file link's token) masked."""
    return _CAPABILITY.sub(_masked_segment, value) if len(value) >= 48 else value


def body(raw: bytes, secrets: Iterable[str] = ()) -> bytes:
    """A body's bytes with `text` applied (undecodable bytes kept as they were)."""
    return _bytes(raw, lambda decoded: text(decoded, secrets))


def body_echoes(raw: bytes, secrets: Iterable[str]) -> bytes:
    """A body's bytes with `echoes` applied: `body(body_echoes(raw, s)) == body(raw, s)`."""
    if not secrets:
        return raw
    # a secret in the decoded text is in the bytes too (each character encodes on its own): most answers
    # hold none, and are not decoded
    for secret in secrets:  # a loop, not any() over a generator: every answer to a request with a key asks
        try:
            if secret.encode("utf-8", "surrogateescape") not in raw:
                continue
        except UnicodeEncodeError:  # a surrogate no decoding makes: the decoded text decides
            pass
        return _bytes(raw, lambda decoded: echoes(decoded, secrets))
    return raw


def _bytes(raw: bytes, clean) -> bytes:
    decoded = raw.decode("utf-8", "surrogateescape")
    cleaned = clean(decoded)
    return raw if cleaned == decoded else cleaned.encode("utf-8", "surrogateescape")


def _json_values(value: str, lower: str) -> str:
    """JSON string values under secret names masked. Each hint is found with str.find (a pattern over
    every position of the body costs tens of times more); a hit inside a key is checked whole."""
    spans: dict[int, int] = {}
    for hint in _HINTS:
        start = lower.find(hint)
        while start != -1:
            close = value.find('"', start)
            opening = value.rfind('"', 0, start)
            if (
                close != -1
                and opening != -1
                and _JSON_NAME.fullmatch(value, opening + 1, close)
                and is_secret_name(value[opening + 1 : close])
            ):
                found = _JSON_VALUE.match(value, close + 1)
                if found and found.group(1) and not found.group(1).startswith(MASK):
                    spans[found.start(1)] = found.end(1)
            start = lower.find(hint, start + 1)
    if not spans:
        return value
    pieces, at = [], 0
    for begin in sorted(spans):
        if begin < at:
            continue
        pieces += [value[at:begin], mask(value[begin : spans[begin]])]
        at = spans[begin]
    return "".join([*pieces, value[at:]])


def _masked_segment(match: re.Match) -> str:
    segment = match.group(1)
    opaque = any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment)
    return "/" + mask(segment) if opaque else match.group(0)


def _masked_param(match: re.Match) -> str:
    if not is_secret_name(match.group("name")) or match.group("value").startswith(MASK):
        return match.group(0)
    return f"{match.group('lead')}{mask(match.group('value'))}"


def _basic(encoded: str) -> tuple[str | None, str | None]:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, None
    user, _, password = decoded.partition(":")
    return user, password
