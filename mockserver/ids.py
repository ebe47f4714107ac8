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


# Request ids name an answer in logs and journals; nothing is granted by knowing one, so they need to be
# unique, not unguessable: a generator seeded from the OS once (and again in each forked worker, so two
# workers never share a sequence) instead of a getrandom(2) call per answer (~20 µs of CPU each under load).
_unique = random.Random()
os.register_at_fork(after_in_child=_unique.seed)


def request_id(prefix: str = "v-") -> str:
    """`prefix` and 18 hex digits (72 random bits), one per answer."""
    return f"{prefix}{_unique.getrandbits(72):018x}"
