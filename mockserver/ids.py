"""Identifiers: ids in the vendor's style from a seeded generator (the same
`--seed` gives the same sequence), secrets from the `secrets` module."""

from __future__ import annotations

import os
import random
import secrets
import string

ALPHANUMERIC = string.ascii_letters + string.digits


class Ids:
    """`stream` 0 is the sequence of a lone process; processes sharing a store
    each claim their own stream (see `claim_stream`), so they never mint the
    same id and each one's sequence is still a pure function of the seed."""

    def __init__(self, seed: int, stream: int = 0) -> None:
        self.stream = stream
        self._random = random.Random(f"mockserver-ids-{seed}" + (f"-{stream}" if stream else ""))

    def new(self, prefix: str, length: int = 24, alphabet: str | None = None) -> str:
        return prefix + "".join(self._random.choices(alphabet or ALPHANUMERIC, k=length))


async def claim_stream(store) -> int:
    """The next id stream no other process on this shared store has: 0 for the
    first process on a fresh store (so a single process keeps the ids of
    `--seed`), then 1, 2, … The count outlives `reset`, as processes do."""
    return int(await store.incr("id-streams")) - 1


def token() -> str:
    """An unguessable download token."""
    return secrets.token_urlsafe(24)


def request_id(prefix: str = "v-") -> str:
    return prefix + os.urandom(9).hex()  # secrets.token_hex(9), in fewer steps (one per answer)
