"""Everything one app's data sets share, built once per (seed, app id, locale).

Faker is slow (tens of microseconds a call), so it runs only here, filling
value pools (names, addresses, sentences …) that rows then index into. The
world also holds the app's campaigns and the codecs that turn an index into a
Voucherify-style id, and answers "who is customer c" / "what is voucher v" as
pure functions of the index, so an order export and a customer export of the
same app agree on every customer they both show.

References between objects use `ref(i)`, an index in [0, i]: row i of an
export only names records 0..i of the other object, so an export of that
object with at least as many rows contains every record named.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker

from .model import Attribute, JsonObject

MASK64 = (1 << 64) - 1
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: printable voucher codes
POOL = 256  # size of each Faker pool


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


class IdCodec:
    """Index ↔ random-looking id (`cust_2G4fUQdCXUqp35nXNleav7bO`), both ways.

    The index is scrambled by an odd multiplier modulo 2**36, split into three
    12-bit digits, and each digit picks a random segment from a table of 4096
    distinct strings; distinct digits give distinct ids, and decode() inverts.
    """

    BITS = 36

    def __init__(self, prefix: str, tables: tuple[list[str], list[str], list[str]], salt: int) -> None:
        self.prefix = prefix
        self.tables = tables
        self.mult = salt | 1  # odd, so invertible modulo 2**36
        self.mask = (1 << self.BITS) - 1
        self.mult &= self.mask
        self.add = mix(salt) & self.mask
        self.inverse = pow(self.mult, -1, 1 << self.BITS)
        self.lookup = tuple({text: digit for digit, text in enumerate(table)} for table in tables)
        self.widths = tuple(len(table[0]) for table in tables)

    def encode(self, index: int) -> str:
        j = (index * self.mult + self.add) & self.mask
        t0, t1, t2 = self.tables
        return f"{self.prefix}{t0[j & 4095]}{t1[(j >> 12) & 4095]}{t2[j >> 24]}"

    def encode_all(self, indices) -> list:
        """encode() of many indices; a None index gives None (an empty cell)."""
        mult, add, mask, prefix = self.mult, self.add, self.mask, self.prefix
        t0, t1, t2 = self.tables
        return [None if i is None else
                f"{prefix}{t0[(j := (i * mult + add) & mask) & 4095]}{t1[(j >> 12) & 4095]}{t2[j >> 24]}"
                for i in indices]

    def decode(self, text: str) -> int | None:
        if not isinstance(text, str) or not text.startswith(self.prefix):
            return None
        body = text[len(self.prefix):]
        if len(body) != sum(self.widths):
            return None
        j, pos = 0, 0
        for shift, (lookup, width) in enumerate(zip(self.lookup, self.widths)):
            digit = lookup.get(body[pos:pos + width])
            if digit is None:
                return None
            j |= digit << (12 * shift)
            pos += width
        return ((j - self.add) * self.inverse) & self.mask


@dataclass(frozen=True)
class Campaign:
    index: int
    id: str
    name: str
    voucher_type: str  # DISCOUNT_VOUCHER | GIFT_VOUCHER | LOYALTY_CARD
    kind: str  # discount | gift | loyalty | referral | promotion
    code_prefix: str
    category: int  # index into World.categories


@dataclass(frozen=True)
class Customer:
    index: int
    id: str
    name: str
    email: str
    source_id: str
    tracking_id: str


@dataclass(frozen=True)
class Voucher:
    index: int
    id: str
    code: str
    campaign: Campaign | None  # None: a standalone code
    holder: int | None  # customer index of the owner, if published


ADDRESS_KEYS = ("city", "state", "line_1", "line_2", "country", "postal_code")
# Campaigns every app has, in this order; `slots` below spreads vouchers over them.
CAMPAIGNS = (
    ("discount", "DISCOUNT_VOUCHER", "{season} Sale {pct}% off"),
    ("gift", "GIFT_VOUCHER", "Gift Cards {year}"),
    ("loyalty", "LOYALTY_CARD", "{company} Rewards"),
    ("referral", "DISCOUNT_VOUCHER", "Refer a Friend"),
    ("discount", "DISCOUNT_VOUCHER", "Welcome {pct}% off"),
    ("discount", "DISCOUNT_VOUCHER", "Black Friday {year}"),
    ("discount", "DISCOUNT_VOUCHER", "Free Shipping Week"),
    ("gift", "GIFT_VOUCHER", "Holiday Gift Cards"),
)
PROMOTIONS = ("Cart over 100 – 10% off", "Free delivery weekend", "Buy 2 get 1 free")
SEASONS = ("Summer", "Spring", "Autumn", "Winter", "Mid-Season")
# voucher index % 16 → campaign index (None: standalone code); every kind appears in the first five
SLOTS = (0, 1, 2, 3, None, 0, 4, 5, 2, 6, 1, 0, 4, 7, 2, 5)


class World:
    def __init__(self, seed: int, app_id: str, locale: str) -> None:
        self.seed, self.app_id, self.locale = seed, app_id, locale
        self.salt = salt_of("world", seed, app_id)
        rng = random.Random(self.salt)
        try:
            fake = Faker(locale)
        except AttributeError:
            raise ValueError(f"unknown locale {locale!r}") from None
        fake.seed_instance(self.salt)

        self.first_names = _pool(fake, ("first_name",))
        self.last_names = _pool(fake, ("last_name",))
        self.domains = sorted(set(_pool(fake, ("free_email_domain",), 24)))
        self.phones = _pool(fake, ("phone_number",))
        self.sentences = _pool(fake, ("sentence",), 64)
        self.words = _pool(fake, ("word",), 64)
        self.addresses = [
            (_one(fake, ("city",)), _one(fake, ("state", "prefecture", "administrative_unit", "city")),
             _one(fake, ("street_address",)), _one(fake, ("secondary_address",), ""),
             _one(fake, ("current_country",), locale), _one(fake, ("postcode",)))
            for _ in range(POOL)
        ]
        self.address_objects = [JsonObject(dict(zip(ADDRESS_KEYS, address))) for address in self.addresses]
        self.categories = [(f"cat_{_random_text(rng, 24, ALNUM)}", word.capitalize())
                           for word in ("electronics", "fashion", "home", "beauty", "sports", "grocery")]
        self.products = [f"prod_{_random_text(rng, 24, ALNUM)}" for _ in range(12)] + ["prod_5h1pp1ng"]
        self._tables = {length: _segment_tables(rng, length) for length in (24, 32)}
        self._codecs: dict[tuple[str, int], IdCodec] = {}
        self._codes = IdCodec("", _segment_tables(rng, 12, CODE_CHARS), salt_of(self.salt, "code"))
        self.campaigns = tuple(self._campaign(n, spec, rng, fake) for n, spec in enumerate(CAMPAIGNS))
        self.promotions = tuple((self.codec("promo_").encode(n), name) for n, name in enumerate(PROMOTIONS))
        self.promotion_campaign = Campaign(len(CAMPAIGNS), self.codec("camp_").encode(len(CAMPAIGNS)),
                                           "Promotions", "DISCOUNT_VOUCHER", "promotion", "", 0)
        self.fake = fake
        self._metadata: dict[str, list[JsonObject]] = {}
        self._salts = {name: salt_of(self.salt, name) for name in
                       ("first", "last", "email", "source", "holder", "unpublished")}

    # ------------------------------------------------------------------ ids
    def codec(self, prefix: str, length: int = 24) -> IdCodec:
        key = (prefix, length)
        if key not in self._codecs:
            self._codecs[key] = IdCodec(prefix, self._tables[length], salt_of(self.salt, prefix, length))
        return self._codecs[key]

    def voucher_code(self, campaign: Campaign | None, index: int) -> str:
        """A unique printable code: the campaign's prefix and 12 characters that encode the index."""
        return (campaign.code_prefix if campaign else "PROMO-") + self._codes.encode(index)

    # ------------------------------------------------------------- entities
    def customer(self, c: int) -> Customer:
        salts = self._salts
        first = self.first_names[mix(c ^ salts["first"]) % POOL]
        last = self.last_names[mix(c ^ salts["last"]) % POOL]
        h = mix(c ^ salts["email"])
        email = f"{_slug(first)}.{_slug(last)}{h % 1000}@{self.domains[(h >> 10) % len(self.domains)]}"
        source = email if mix(c ^ salts["source"]) % 10 < 7 else f"CRM-{(h >> 20) % 10_000_000:07d}"
        return Customer(c, self.codec("cust_").encode(c), f"{first} {last}", email, source,
                        self.codec("track_", 32).encode(c))

    def voucher(self, v: int) -> Voucher:
        slot = SLOTS[v % len(SLOTS)]
        campaign = None if slot is None else self.campaigns[slot]
        holder = None
        if campaign is not None and (campaign.kind != "discount" or mix(v ^ self._salts["unpublished"]) % 10 < 6):
            holder = ref(v, self._salts["holder"])
        return Voucher(v, self.codec("v_", 32).encode(v), self.voucher_code(campaign, v), campaign, holder)

    def voucher_of_kind(self, kinds: tuple[str, ...], index: int, salt: int) -> int:
        """A voucher index ≤ about `index` whose campaign is of one of the kinds."""
        slots = [s for s, camp in enumerate(SLOTS) if camp is not None and self.campaigns[camp].kind in kinds]
        h = mix(index ^ salt)
        slot = slots[h % len(slots)]
        return slot + len(SLOTS) * ((h >> 8) % (index // len(SLOTS) + 1))

    def resolve_voucher(self, text: str) -> int | None:
        """The index of the voucher with this id or code, if this world made it."""
        index = self.codec("v_", 32).decode(text)
        if index is not None:
            return index
        for campaign in (*self.campaigns, None):
            prefix = campaign.code_prefix if campaign else "PROMO-"
            if isinstance(text, str) and text.startswith(prefix):
                index = self._codes.decode(text[len(prefix):])
                if index is not None and self.voucher(index).code == text:
                    return index
        return None

    def resolve_campaign(self, text: str) -> Campaign | None:
        return next((c for c in self.campaigns if text in (c.id, c.name)), None)

    def metadata_pool(self, obj: str, attribute: Attribute, size: int = 128) -> list[JsonObject]:
        """Metadata objects for one exported object, from the keys its row schema names."""
        if obj not in self._metadata:
            rng = random.Random(salt_of(self.salt, "metadata", obj))
            self.fake.seed_instance(salt_of(self.salt, "metadata-faker", obj))
            self._metadata[obj] = [
                JsonObject({key: self._metadata_value(prop, rng) for key, prop in attribute.properties.items()
                            if rng.random() < 0.85})
                for _ in range(size)
            ]
        return self._metadata[obj]

    def _metadata_value(self, prop: Attribute, rng: random.Random) -> object:
        if prop.enum:
            return rng.choice(prop.enum)
        if prop.type == "boolean":
            return rng.random() < 0.5
        if prop.type in ("integer", "number"):
            return rng.randint(prop.minimum or 0, prop.maximum or 1000)
        if prop.faker:
            return _one(self.fake, (prop.faker, "word"))
        return rng.choice(self.words)

    def _campaign(self, n: int, spec: tuple[str, str, str], rng: random.Random, fake: Faker) -> Campaign:
        kind, voucher_type, template = spec
        company = _one(fake, ("company",), "Shop").split()[0].strip(",")
        name = template.format(season=rng.choice(SEASONS), pct=rng.choice((10, 15, 20, 25, 30)),
                               year=2024 + n % 2, company=company)
        prefix = "".join(ch for ch in _slug(name).upper() if ch.isalnum())[:6] + "-"
        return Campaign(n, self.codec("camp_").encode(n), name, voucher_type, kind, prefix,
                        rng.randrange(len(self.categories)))


@lru_cache(maxsize=8)
def world(seed: int, app_id: str, locale: str) -> World:
    return World(seed, app_id, locale)


def _pool(fake: Faker, providers: tuple[str, ...], size: int = POOL) -> list[str]:
    return [_one(fake, providers) for _ in range(size)]


def _one(fake: Faker, providers: tuple[str, ...], fallback: str = "") -> str:
    """The first provider the locale has; locales differ (ja_JP has no `state`)."""
    for name in providers:
        try:
            return str(getattr(fake, name)())
        except AttributeError:
            continue
    return fallback


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum()) or "user"


def _random_text(rng: random.Random, length: int, alphabet: str) -> str:
    return "".join(rng.choices(alphabet, k=length))


def _segment_tables(rng: random.Random, length: int, alphabet: str = ALNUM) -> tuple[list[str], ...]:
    """Three tables of 4096 distinct random strings whose lengths add up to `length`."""
    widths = (length // 3, (length + 1) // 3, (length + 2) // 3)
    translate = bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))
    tables = []
    for width in widths:
        seen: dict[str, None] = {}
        while len(seen) < 4096:
            raw = rng.randbytes(width * 4096).translate(translate).decode()
            for k in range(0, len(raw), width):
                seen.setdefault(raw[k:k + width])
                if len(seen) == 4096:
                    break
        tables.append(list(seen))
    return tuple(tables)
