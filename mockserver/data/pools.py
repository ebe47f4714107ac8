"""Vendor-neutral value pools, id codecs and hashing, shared by every app.

Faker is slow (tens of microseconds a call) and segment tables take tens of
milliseconds, so they are made once per process: Faker pools once per locale,
id segment tables once. An app's data differs from another's because every
pick into a pool is salted with the app (`AppWorld.salt`), not because the
pools differ; so an app costs a few salts and nothing is rebuilt when many
apps are active. Memory: the segment tables (~5 MiB) once, one `Pools` per
locale in use (a few hundred KiB each, at most LOCALES of them), and
whatever light per-app objects the caller caches.
"""

from __future__ import annotations

import hashlib
import random
import threading
from functools import cache, cached_property, lru_cache

import numpy as np
import polars as pl
from faker import Faker

from .columns import SMALL
from .model import Attribute, JsonObject

MASK64 = (1 << 64) - 1
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: printable voucher codes
POOL = 256  # size of each Faker pool
LOCALES = 32  # Pools kept at once (one per locale in use)
ADDRESS_KEYS = ("city", "state", "line_1", "line_2", "country", "postal_code")


def mix(value: int) -> int:
    """A 64-bit hash of an int (splitmix64's finaliser): cheap, well spread."""
    value = (value * 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def salt_of(*parts: object) -> int:
    """A stable 64-bit number for a tuple of names (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def ref(index: int, salt: int) -> int:
    """A pseudo-random index in [0, index]."""
    return mix(index ^ salt) % (index + 1)


class Segments:
    """Three tables of 4096 distinct random strings (lengths adding up to `length`) and their inverses."""

    def __init__(self, length: int, alphabet: str = ALNUM) -> None:
        self.tables = _segment_tables(random.Random(salt_of("segments", length, alphabet)), length, alphabet)
        self.widths = tuple(len(table[0]) for table in self.tables)
        self.series = tuple(pl.Series(table, dtype=pl.String) for table in self.tables)

    @cached_property
    def lookup(self) -> tuple[dict[str, int], ...]:
        """Each table's inverse, made when an id is first decoded (a filter on an id): an export that only
        writes ids does without its 0.6 MiB."""
        return tuple({text: digit for digit, text in enumerate(table)} for table in self.tables)


@cache  # three instances: lengths 24 and 32 of ALNUM, 12 of CODE_CHARS
def segments(length: int, alphabet: str = ALNUM) -> Segments:
    return Segments(length, alphabet)


class IdCodec:
    """Index ↔ random-looking id (`cust_2G4fUQdCXUqp35nXNleav7bO`), both ways.

    The index is scrambled by an odd multiplier modulo 2**36 (salted per app
    and prefix), split into three 12-bit digits, and each digit picks a
    segment from a shared table of 4096 distinct strings; distinct digits
    give distinct ids, and decode() inverts.
    """

    BITS = 36

    def __init__(self, prefix: str, segs: Segments, salt: int) -> None:
        self.prefix = prefix
        self.tables = segs.tables
        self.segments = segs
        self.widths = segs.widths
        self.series = segs.series
        self.mask = (1 << self.BITS) - 1
        self.mult = (salt | 1) & self.mask  # odd, so invertible modulo 2**36
        self.add = mix(salt) & self.mask
        self.inverse = pow(self.mult, -1, 1 << self.BITS)

    def encode(self, index: int) -> str:
        j = (index * self.mult + self.add) & self.mask
        t0, t1, t2 = self.tables
        return f"{self.prefix}{t0[j & 4095]}{t1[(j >> 12) & 4095]}{t2[j >> 24]}"

    def encode_all(self, indices) -> list:
        """encode() of many indices; a None index gives None (an empty cell)."""
        mult, add, mask, prefix = self.mult, self.add, self.mask, self.prefix
        t0, t1, t2 = self.tables
        return [
            None
            if i is None
            else f"{prefix}{t0[(j := (i * mult + add) & mask) & 4095]}{t1[(j >> 12) & 4095]}{t2[j >> 24]}"
            for i in indices
        ]

    def encode_series(self, indices: np.ndarray) -> pl.Series:
        """encode_all() vectorised: int64 indices, a negative one giving null (an empty cell). Up to
        columns.SMALL of them are encoded in Python: 100 ids in ~50 µs, where polars' gathers and
        `concat_str` cost a query's set-up (~1 ms on a loaded server)."""
        if len(indices) <= SMALL:
            return pl.Series(self.encode_all([None if i < 0 else i for i in indices.tolist()]), dtype=pl.String)
        j = (indices.astype(np.uint64) * np.uint64(self.mult) + np.uint64(self.add)) & np.uint64(self.mask)
        s0, s1, s2 = self.series
        parts = [
            pl.lit(self.prefix),
            s0.gather(pl.Series(j & np.uint64(4095))),
            s1.gather(pl.Series((j >> np.uint64(12)) & np.uint64(4095))),
            s2.gather(pl.Series(j >> np.uint64(24))),
        ]
        ids = pl.concat_str(parts)
        if (indices < 0).any():
            ids = pl.when(pl.Series(indices >= 0)).then(ids)
        return pl.select(ids).to_series()

    def decode(self, text: str) -> int | None:
        if not isinstance(text, str) or not text.startswith(self.prefix):
            return None
        body = text[len(self.prefix) :]
        if len(body) != sum(self.widths):
            return None
        j, pos = 0, 0
        for shift, (lookup, width) in enumerate(zip(self.segments.lookup, self.widths)):
            digit = lookup.get(body[pos : pos + width])
            if digit is None:
                return None
            j |= digit << (12 * shift)
            pos += width
        return ((j - self.add) * self.inverse) & self.mask


class Pools:
    """Faker values of one locale, made once and shared by every app.

    Pools made on demand (a provider's values, an object's metadata) are
    built under a lock: the engine runs in worker threads, and a Faker
    instance reseeded by two threads at once would not be deterministic.
    """

    COMMON = ("first_names", "last_names", "domains", "phones", "sentences", "words", "companies", "addresses")

    def __init__(self, locale: str) -> None:
        self.locale = locale
        try:
            self.fake = Faker(locale)
        except AttributeError:
            raise ValueError(f"unknown locale {locale!r}") from None
        self._lock = threading.RLock()
        self._providers: dict[str, tuple[str, ...]] = {}
        self._metadata: dict[tuple, list[JsonObject]] = {}

    def __getattr__(self, name: str) -> list:
        """The common pools (COMMON, address_objects), made together on first use: an export that needs
        none of them (an order's) costs no Faker call for them."""
        if name not in (*self.COMMON, "address_objects"):
            raise AttributeError(name)
        self._common()
        return self.__dict__[name]

    def _common(self) -> None:
        with self._lock:
            if "addresses" in self.__dict__:
                return
            fake = self.fake
            # from their own seed, as always, and leaving the generator as it was: they may be made in the
            # middle of another pool (metadata picking words), which must draw what it drew before
            state = fake.random.getstate()
            fake.seed_instance(salt_of("pools", self.locale))
            first_names = self._list(("first_name",))
            last_names = self._list(("last_name",))
            domains = sorted(set(self._list(("free_email_domain",), 24)))
            phones = self._list(("phone_number",))
            sentences = self._list(("sentence",), 64)
            words = self._list(("word",), 64)
            companies = [one(fake, ("company",), "Shop").split()[0].strip(",") or "Shop" for _ in range(64)]
            addresses = [
                (
                    one(fake, ("city",)),
                    one(fake, ("state", "prefecture", "administrative_unit", "city")),
                    one(fake, ("street_address",)),
                    one(fake, ("secondary_address",), ""),
                    one(fake, ("current_country",), self.locale),
                    one(fake, ("postcode",)),
                )
                for _ in range(POOL)
            ]
            fake.random.setstate(state)
            self.first_names, self.last_names, self.domains, self.phones = first_names, last_names, domains, phones
            self.sentences, self.words, self.companies = sentences, words, companies
            self.address_objects = [JsonObject(dict(zip(ADDRESS_KEYS, address))) for address in addresses]
            self.addresses = addresses  # last: its presence says all are made

    def _list(self, providers: tuple[str, ...], size: int = POOL) -> list[str]:
        return [one(self.fake, providers) for _ in range(size)]

    def provider(self, name: str) -> tuple[str, ...]:
        """POOL values of one Faker provider (a `word` where the locale lacks it)."""
        values = self._providers.get(name)
        if values is None:
            with self._lock:
                self.fake.seed_instance(salt_of("pools", self.locale, "provider", name))
                values = self._providers[name] = tuple(one(self.fake, (name, "word")) for _ in range(POOL))
        return values

    def metadata(self, obj: str, attribute: Attribute, size: int = 128) -> list[JsonObject]:
        """Metadata objects for one exported object, from the keys its row schema names."""
        key = (obj, tuple(attribute.properties))
        values = self._metadata.get(key)
        if values is None:
            with self._lock:
                rng = random.Random(salt_of("pools", self.locale, "metadata", obj))
                self.fake.seed_instance(salt_of("pools", self.locale, "metadata-faker", obj))
                values = self._metadata[key] = [
                    JsonObject(
                        {
                            name: self._metadata_value(prop, rng)
                            for name, prop in attribute.properties.items()
                            if rng.random() < 0.85
                        }
                    )
                    for _ in range(size)
                ]
        return values

    def _metadata_value(self, prop: Attribute, rng: random.Random) -> object:
        if prop.enum:
            return rng.choice(prop.enum)
        if prop.type == "boolean":
            return rng.random() < 0.5
        if prop.type in ("integer", "number"):
            return rng.randint(prop.minimum or 0, prop.maximum or 1000)
        if prop.faker:
            return one(self.fake, (prop.faker, "word"))
        return rng.choice(self.words)


@lru_cache(maxsize=LOCALES)
def pools(locale: str) -> Pools:
    return Pools(locale)


class AppWorld:
    """What every app's data needs: its salt, the shared pools and salted id codecs."""

    def __init__(self, seed: int, app_id: str, locale: str) -> None:
        self.seed, self.app_id, self.locale = seed, app_id, locale
        self.salt = salt_of("world", seed, app_id)
        self.pools = pools(locale)
        self._codecs: dict[tuple[str, int], IdCodec] = {}

    def codec(self, prefix: str, length: int = 24) -> IdCodec:
        codec = self._codecs.get((prefix, length))
        if codec is None:
            codec = self._codecs[(prefix, length)] = IdCodec(
                prefix, segments(length), salt_of(self.salt, prefix, length)
            )
        return codec

    def metadata_pool(self, obj: str, attribute: Attribute) -> list[JsonObject]:
        return self.pools.metadata(obj, attribute)


@lru_cache(maxsize=4096)
def app_world(seed: int, app_id: str, locale: str) -> AppWorld:
    """The neutral world of an app (recipes that need no vendor entities draw from it)."""
    return AppWorld(seed, app_id, locale)


def one(fake: Faker, providers: tuple[str, ...], fallback: str = "") -> str:
    """The first provider the locale has; locales differ (ja_JP has no `state`)."""
    for name in providers:
        try:
            return str(getattr(fake, name)())
        except AttributeError:
            continue
    return fallback


def random_text(rng: random.Random, length: int, alphabet: str) -> str:
    return "".join(rng.choices(alphabet, k=length))


def _segment_tables(rng: random.Random, length: int, alphabet: str) -> tuple[list[str], ...]:
    widths = (length // 3, (length + 1) // 3, (length + 2) // 3)
    translate = bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))
    tables = []
    for width in widths:
        seen: dict[str, None] = {}
        while len(seen) < 4096:
            raw = rng.randbytes(width * 4096).translate(translate).decode()
            for k in range(0, len(raw), width):
                seen.setdefault(raw[k : k + width])
                if len(seen) == 4096:
                    break
        tables.append(list(seen))
    return tuple(tables)
