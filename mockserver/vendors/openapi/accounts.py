"""Accounts: credentials made of an account id, which is the app, and a secret bound to it.

`x-mock.account: <scheme>` names the apiKey scheme whose value is an account (an app id: not a
secret, so the app is the id itself, shown and journalled as sent); the other schemes of a
security alternative carry its secret, and an alternative without the account's scheme (a bearer
token alone) names the account bound to its secret. Unpinned, an account is bound to the first
secret it is used with (trust on first use), so a wrong secret is still refused; pinned
(`ID:SECRET`), only those accounts exist. The store keeps digests of secrets, never a secret.

The refusals are 401s with keys of their own, so that `x-mock.codes` and `x-mock.messages` word them
apart (`{account}` is the account id): `missing_credentials` (no secret), `malformed_credentials` (not
printable, or too long to keep), `unknown_secret`, `unknown_account` (pinned), `wrong_secret`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from aiohttp import web

from ...errors import ApiError
from ...store import TenantStore, VendorStore
from ..common import same
from .annotations import AnnotationError
from .security import reader

MAX_CREDENTIAL = 256  # an account id or secret kept and echoed at most this long
BOUND = "credentials"  # store kind, per tenant: the account → the digest of its secret
SECRETS = "account-secrets"  # store kind: a secret's digest → the first account bound to it


class AccountError(ApiError):
    """A refused account: the error's `{account}` is the id it named."""

    def __init__(self, key: str, details: str, account: str | None = None) -> None:
        super().__init__(401, key, "Unauthorized", details)
        self.account = account


class Accounts:
    """Reads and judges an account id and its secret by the document's security schemes."""

    def __init__(self, scheme: str, schemes: Mapping[str, Mapping[str, Any]], pinned: Iterable[str] = ()) -> None:
        found = schemes.get(scheme) or {}
        if found.get("type") != "apiKey":
            raise AnnotationError(f"x-mock.account names {scheme!r}, which is no apiKey security scheme")
        self.scheme = scheme
        self.name = str(found.get("name", scheme))
        self.schemes = schemes
        self._account = reader(found)
        # account → secret; a mutable mapping: fixtures pin theirs after start-up
        self.pinned: MutableMapping[str, str] = {}
        # id(security) → (security, per alternative: the reader of each secret it names)
        self._secrets: dict[int, tuple[Any, list[list[Callable[[web.Request], str]]]]] = {}
        # (pinned account, its secret) → the pinned secret (the very object), once a request sent them: a client
        # sends the same credentials on every request, and this holds only what `pinned` holds; a pin changed or
        # removed (fixtures, workers) is no longer the object kept, so it is judged afresh (authenticate)
        self._accepted: dict[tuple[str, str], str] = {}
        for pair in pinned:
            account, _, secret = pair.partition(":")
            self.pinned[account] = secret

    def account(self, request: web.Request) -> str:
        return self._account(request)

    def secret(self, security: Iterable[Mapping[str, Any]], request: web.Request) -> str:
        """The secret of the first alternative whose schemes other than the account's are all present."""
        plan = self._secrets.get(id(security))
        if plan is None or plan[0] is not security:  # an operation's alternatives, sorted out once
            readers = [
                [reader(self.schemes[name]) for name in requirement if name != self.scheme and name in self.schemes]
                for requirement in security
            ]
            plan = self._secrets[id(security)] = (security, readers)
        for readers in plan[1]:
            if readers:
                values = [read(request) for read in readers]
                if all(values):
                    return ":".join(values)
        return ""

    async def authenticate(
        self, security: Iterable[Mapping[str, Any]], request: web.Request, owners: VendorStore
    ) -> str:
        """The account a request acts for, or an AccountError."""
        account, secret = self.account(request), self.secret(security, request)
        kept = self._accepted.get((account, secret))  # a dict's lookup: no timing `same` would not also show
        if kept is not None and self.pinned.get(account) is kept:
            return account  # a pinned account's secret accepted before (what _check found then, cheaper)
        if not secret:
            raise AccountError("missing_credentials", f"Send {self.name} and its secret")
        if not _keepable(account) or not _keepable(secret):  # never stored or echoed: control bytes, 10 KB ids …
            raise AccountError(
                "malformed_credentials",
                f"The account id and secret must be printable text of at most {MAX_CREDENTIAL} characters",
            )
        if not account:
            found = await self._account_of(secret, owners)
            if found is None:
                raise AccountError("unknown_secret", f"Unknown secret; send {self.name} with it")
            return found
        await self._check(account, secret, owners)
        return account

    async def _check(self, account: str, secret: str, owners: VendorStore) -> None:
        expected = self.pinned.get(account)
        if expected is None and self.pinned:
            raise AccountError("unknown_account", f"Unknown account {account}", account)
        if expected is not None:
            if not same(expected, secret):
                raise AccountError("wrong_secret", f"Wrong secret for account {account}", account)
            if len(self._accepted) >= len(self.pinned):
                self._accepted.clear()  # pins replaced: forget those of accounts gone
            self._accepted[account, secret] = expected
            return
        store = owners.tenant(account)  # only trust on first use reads the store
        digest = _digest(secret)
        bound = await store.get(BOUND, account)
        if bound is None:
            if await self._bind(digest, store):
                return
            bound = await store.get(BOUND, account)  # bound meanwhile
        if not same(bound["digest"], digest):
            raise AccountError("wrong_secret", f"Wrong secret for account {account}", account)

    async def _bind(self, digest: str, store: TenantStore) -> bool:
        """Bind a new account to its first secret; False when another request (maybe in another process
        sharing the store) bound it first. `add` makes each step atomic."""
        if not await store.add(BOUND, store.app, {"digest": digest}):
            return False
        # a secret alone names the first account bound to it; later accounts sharing it need their id
        await store.add(SECRETS, digest, {"account": store.app})
        return True

    async def _account_of(self, secret: str, owners: VendorStore) -> str | None:
        for account, pinned in self.pinned.items():
            if same(pinned, secret):
                return account
        if self.pinned:
            return None
        return await owners.owner(SECRETS, _digest(secret))

    def headers(self, account: str, secret: str, security: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """The headers that carry an account and its secret (tests, the pytest plugin)."""
        for requirement in security:
            if self.scheme in requirement:
                others = [name for name in requirement if name != self.scheme]
                carried = {self.name: account}
                for name in others:
                    scheme = self.schemes.get(name, {})
                    if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                        carried[str(scheme["name"])] = secret
                return carried
        return {self.name: account}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def _keepable(value: str) -> bool:
    """An id or secret the mock can store and echo: printable (no control characters or undecodable bytes)."""
    return len(value) <= MAX_CREDENTIAL and value.isprintable()
