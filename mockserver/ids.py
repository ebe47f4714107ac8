"""Identifiers: ids in the vendor's style from a seeded generator (the same
`--seed` gives the same sequence), secrets from the `secrets` module."""

from __future__ import annotations

import random
import secrets
import string

ALPHANUMERIC = string.ascii_letters + string.digits


class Ids:
    def __init__(self, seed: int) -> None:
        self._random = random.Random(f"mockserver-ids-{seed}")

    def new(self, prefix: str, length: int = 24) -> str:
        return prefix + "".join(self._random.choices(ALPHANUMERIC, k=length))


def token() -> str:
    """An unguessable download token."""
    return secrets.token_urlsafe(24)


def request_id(prefix: str = "v-") -> str:
    return prefix + secrets.token_hex(9)
