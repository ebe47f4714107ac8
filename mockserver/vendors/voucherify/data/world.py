"""One app's Voucherify world: campaigns, customers and vouchers, as pure functions of an index.

Built on the vendor-neutral pools (pools.py): Faker values and id tables are
shared by all apps, and this app's salt decides which values it picks, so a
world costs microseconds and any number of apps can be active. The world
answers "who is customer c" / "what is voucher v" as pure functions of the
index, so an order export and a customer export of the same app agree on
every customer they both show.

References between objects use `ref(i)`, an index in [0, i]: row i of an
export only names records 0..i of the other object, so an export of that
object with at least as many rows contains every record named.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from ....data.pools import (
    ALNUM,
    CODE_CHARS,
    POOL,
    AppWorld,
    IdCodec,
    Pools,
    mix,
    random_text,
    ref,
    salt_of,
    segments,
)

WORLDS = 4096  # worlds cached at once: a few KiB each, so at most ~20 MiB


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


class World(AppWorld):
    """One app's Voucherify world: campaigns, customers and vouchers as functions of an index.

    Cheap to make (no Faker, no tables: see pools.py), so any number of apps
    can be active without a rebuild cliff. What only some exports need is made
    on first use: the Faker pools (an order export needs none), the voucher
    codes' tables and the campaigns (whose names take Faker's companies).
    """

    def __init__(self, seed: int, app_id: str, locale: str) -> None:
        super().__init__(seed, app_id, locale)
        rng = random.Random(self.salt)
        self.categories = [
            (f"cat_{random_text(rng, 24, ALNUM)}", word.capitalize())
            for word in ("electronics", "fashion", "home", "beauty", "sports", "grocery")
        ]
        self.products = [f"prod_{random_text(rng, 24, ALNUM)}" for _ in range(12)] + ["prod_5h1pp1ng"]
        self._campaign_draws = rng.getstate()  # the campaigns draw on from here, whenever they are made
        self.promotions = tuple((self.codec("promo_").encode(n), name) for n, name in enumerate(PROMOTIONS))
        self.promotion_campaign = Campaign(
            len(CAMPAIGNS),
            self.codec("camp_").encode(len(CAMPAIGNS)),
            "Promotions",
            "DISCOUNT_VOUCHER",
            "promotion",
            "",
            0,
        )
        self._salts = {
            name: salt_of(self.salt, name) for name in ("first", "last", "email", "source", "holder", "unpublished")
        }

    def __getattr__(self, name: str) -> list:
        """The Faker pools (first_names, addresses …: Pools.COMMON), the shared ones of the locale."""
        if name in (*Pools.COMMON, "address_objects"):
            value = getattr(self.pools, name)
            setattr(self, name, value)  # read for every row: found on the instance from now on
            return value
        raise AttributeError(name)

    @cached_property
    def campaigns(self) -> tuple[Campaign, ...]:
        rng = random.Random()
        rng.setstate(self._campaign_draws)
        return tuple(self._campaign(n, spec, rng) for n, spec in enumerate(CAMPAIGNS))

    @cached_property
    def _codes(self) -> IdCodec:
        return IdCodec("", segments(12, CODE_CHARS), salt_of(self.salt, "code"))

    # ------------------------------------------------------------------ ids
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
        return Customer(
            c, self.codec("cust_").encode(c), f"{first} {last}", email, source, self.codec("track_", 32).encode(c)
        )

    def voucher(self, v: int) -> Voucher:
        slot = SLOTS[v % len(SLOTS)]
        campaign = None if slot is None else self.campaigns[slot]
        return Voucher(v, self.codec("v_", 32).encode(v), self.voucher_code(campaign, v), campaign, self.holder(v))

    def holder(self, v: int) -> int | None:
        """voucher(v).holder (the customer it was published to, if it was) without making its ids and code: a
        publication walks back over vouchers until one has a holder."""
        slot = SLOTS[v % len(SLOTS)]
        campaign = None if slot is None else self.campaigns[slot]
        if campaign is not None and (campaign.kind != "discount" or mix(v ^ self._salts["unpublished"]) % 10 < 6):
            return ref(v, self._salts["holder"])
        return None

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
                index = self._codes.decode(text[len(prefix) :])
                if index is not None and self.voucher(index).code == text:
                    return index
        return None

    def resolve_campaign(self, text: str) -> Campaign | None:
        return next((c for c in self.campaigns if text in (c.id, c.name)), None)

    def _campaign(self, n: int, spec: tuple[str, str, str], rng: random.Random) -> Campaign:
        kind, voucher_type, template = spec
        company = rng.choice(self.pools.companies)
        name = template.format(
            season=rng.choice(SEASONS), pct=rng.choice((10, 15, 20, 25, 30)), year=2024 + n % 2, company=company
        )
        prefix = "".join(ch for ch in _slug(name).upper() if ch.isalnum())[:6] + "-"
        return Campaign(
            n, self.codec("camp_").encode(n), name, voucher_type, kind, prefix, rng.randrange(len(self.categories))
        )


@lru_cache(maxsize=WORLDS)
def world(seed: int, app_id: str, locale: str) -> World:
    """The app's world; a miss costs well under a millisecond (see pools.py), so the bound only caps memory."""
    return World(seed, app_id, locale)


@lru_cache(maxsize=4096)  # its texts are a locale's pool names and campaign names: a few hundred, slugged per row
def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum()) or "user"
