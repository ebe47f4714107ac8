"""A Store kept in Redis (`mockserver serve --state redis://host:port/db`), for
replicas on several hosts behind a load balancer, or `--workers N` on one.

Same interface and semantics as MemoryStore and SqliteStore (the contract
tests run against all three). Needs the `redis` package: the `redis` extra,
`pip install 'mockserver[redis]'`.

Layout, every key under a prefix (default `mockserver:`, `?prefix=` in the URL
changes it) so the mock can share a Redis with other users and `reset` only
ever removes its own keys. A name is written `<byte length>:<bytes>`, so no
vendor, app or kind can pass for another; T is a tenant, `<vendor><app>` so
written, V a vendor:

    owner:<V>:<kind>   hash   key → app     (keys unique per kind within a vendor)
    data:<T>:<kind>    hash   key → "<seq>:<JSON>"  (seq keeps list order; an update keeps it)
    order:<T>:<kind>   zset   key by seq    (what `trim` removes first)
    kinds:<T>          set    the kinds the tenant has records of
    tenants            hash   T → V of the tenants that have records
    seq                string the insertion counter
    counters           hash   name → number (survives reset)

The client is redis.asyncio: no call blocks the event loop.
Every write is one Lua script, so it is atomic however many processes share
the Redis: the owner check and the write cannot be split by another client.
Reads are single commands. Scripts name keys they build themselves, so this
needs a single Redis (or a primary with replicas), not Redis Cluster.
Durability is Redis' own (RDB/AOF settings): `appendonly yes` with `appendfsync
always` gives SQLite's "nothing acknowledged is lost".
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .store import Tenant

SCHEMES = ("redis://", "rediss://", "unix://")
DEFAULT_PREFIX = "mockserver:"

# KEYS: owner hash, data hash, kinds set, tenants hash, seq, order zset. ARGV: app, key, JSON, kind, mode, T, V.
# mode put: upsert unless another app has the key (→ 0); add: only a key nobody has (→ 0 otherwise);
# replace: only a key the app has (→ 0 otherwise).
_WRITE = """
local owner = redis.call('HGET', KEYS[1], ARGV[2])
local mode = ARGV[5]
if owner and owner ~= ARGV[1] then return 0 end
if mode == 'add' and owner then return 0 end
if mode == 'replace' and not owner then return 0 end
local seq
local old = redis.call('HGET', KEYS[2], ARGV[2])
if old then seq = string.match(old, '^(%d+):') end
if not seq then
  seq = tostring(redis.call('INCR', KEYS[5]))
  redis.call('ZADD', KEYS[6], seq, ARGV[2])
end
redis.call('HSET', KEYS[2], ARGV[2], seq .. ':' .. ARGV[3])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('HSET', KEYS[4], ARGV[6], ARGV[7])
return 1
"""

# KEYS: owner hash, data hash, order zset. ARGV: key.
_DELETE = """
if redis.call('HDEL', KEYS[2], ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
return 0
"""

# KEYS: owner hash, data hash, order zset. ARGV: how many to keep.
_TRIM = """
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local keys = redis.call('ZRANGE', KEYS[3], 0, excess - 1)
for i = 1, #keys, 1000 do
  local chunk = {unpack(keys, i, math.min(i + 999, #keys))}
  redis.call('HDEL', KEYS[2], unpack(chunk))
  redis.call('HDEL', KEYS[1], unpack(chunk))
  redis.call('ZREM', KEYS[3], unpack(chunk))
end
return #keys
"""

# KEYS: tenants hash. ARGV: prefix, then the tenants (T) to wipe.
_RESET = """
local prefix = ARGV[1]
for i = 2, #ARGV do
  local tenant = ARGV[i]
  local vendor = redis.call('HGET', KEYS[1], tenant)
  if vendor then
    local kinds_key = prefix .. 'kinds:' .. tenant
    for _, kind in ipairs(redis.call('SMEMBERS', kinds_key)) do
      local suffix = string.len(kind) .. ':' .. kind
      local data = prefix .. 'data:' .. tenant .. suffix
      local keys = redis.call('HKEYS', data)
      for j = 1, #keys, 1000 do
        redis.call('HDEL', prefix .. 'owner:' .. vendor .. suffix, unpack(keys, j, math.min(j + 999, #keys)))
      end
      redis.call('DEL', data, prefix .. 'order:' .. tenant .. suffix)
    end
    redis.call('DEL', kinds_key)
    redis.call('HDEL', KEYS[1], tenant)
  end
end
return 1
"""


def is_redis_url(state: str | None) -> bool:
    return bool(state) and state.startswith(SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password, for logs and /__mock/health."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[-1]}"))


def _b(text: str) -> bytes:
    # header values may carry undecodable bytes (as surrogates): keep them byte for byte
    return text.encode("utf-8", "surrogateescape")


def _s(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _name(text: str) -> bytes:
    raw = _b(text)
    return str(len(raw)).encode() + b":" + raw


class RedisStore:
    shared = True  # every process (and host) on the same Redis sees one store

    def __init__(self, url: str, *, prefix: str | None = None, client=None) -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError:  # pragma: no cover - depends on the environment
            raise ValueError("--state redis://… needs the redis package: pip install 'mockserver[redis]'") from None
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        prefix = prefix if prefix is not None else query.pop("prefix", [DEFAULT_PREFIX])[0]
        url = urlunsplit(parts._replace(query="&".join(f"{k}={v}" for k, vs in query.items() for v in vs)))
        self.url = redacted(url)
        self.prefix = _b(prefix)
        self._redis = client or aioredis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                                        health_check_interval=30)
        self._write_script = self._redis.register_script(_WRITE)
        self._delete_script = self._redis.register_script(_DELETE)
        self._reset_script = self._redis.register_script(_RESET)
        self._trim_script = self._redis.register_script(_TRIM)

    async def open(self) -> None:
        """Check the server answers: an unreachable Redis is a clear error at start-up."""
        import redis

        try:
            await self._redis.ping()
        except (redis.RedisError, OSError) as exc:
            await self._redis.aclose()
            raise ValueError(f"cannot reach the Redis store at {self.url}: {exc}") from None

    # -- keys ------------------------------------------------------------------
    def _owner_key(self, vendor: str, kind: str) -> bytes:
        return self.prefix + b"owner:" + _name(vendor) + _name(kind)

    def _tenant(self, tenant: Tenant) -> bytes:
        return _name(tenant.vendor) + _name(tenant.app)

    def _data_key(self, tenant: Tenant, kind: str, what: bytes = b"data:") -> bytes:
        return self.prefix + what + self._tenant(tenant) + _name(kind)

    def _keys(self, tenant: Tenant, kind: str) -> list[bytes]:
        """owner hash, data hash, order zset"""
        return [self._owner_key(tenant.vendor, kind), self._data_key(tenant, kind),
                self._data_key(tenant, kind, b"order:")]

    # -- the Store interface -----------------------------------------------------
    async def get(self, tenant: Tenant, kind: str, key: str) -> dict | None:
        raw = await self._redis.hget(self._data_key(tenant, kind), _b(key))
        return _record(raw) if raw is not None else None

    async def put(self, tenant: Tenant, kind: str, key: str, record: dict) -> None:
        if not await self._write(tenant, kind, key, record, "put"):
            raise KeyError(f"{kind} {key} belongs to another app")

    async def add(self, tenant: Tenant, kind: str, key: str, record: dict) -> bool:
        return await self._write(tenant, kind, key, record, "add")

    async def replace(self, tenant: Tenant, kind: str, key: str, record: dict) -> bool:
        return await self._write(tenant, kind, key, record, "replace")

    async def delete(self, tenant: Tenant, kind: str, key: str) -> bool:
        return bool(await self._delete_script(keys=self._keys(tenant, kind), args=[_b(key)]))

    async def list(self, tenant: Tenant, kind: str) -> list[dict]:
        values = await self._redis.hvals(self._data_key(tenant, kind))  # one command: a consistent snapshot
        entries = []
        for raw in values:
            seq, _, text = raw.partition(b":")
            entries.append((int(seq), text))
        entries.sort(key=lambda entry: entry[0])
        return [json.loads(text) for _, text in entries]

    async def summaries(self, tenant: Tenant, kind: str) -> list[dict]:
        return await self.list(tenant, kind)

    async def count(self, tenant: Tenant, kind: str) -> int:
        return await self._redis.hlen(self._data_key(tenant, kind))

    async def trim(self, tenant: Tenant, kind: str, keep: int) -> int:
        return int(await self._trim_script(keys=self._keys(tenant, kind), args=[max(0, keep)]))

    async def owner(self, vendor: str, kind: str, key: str) -> str | None:
        raw = await self._redis.hget(self._owner_key(vendor, kind), _b(key))
        return _s(raw) if raw is not None else None

    async def reset(self, app: str | None = None, vendor: str | None = None) -> None:
        tenants_key = self.prefix + b"tenants"
        if app is not None and vendor is not None:
            chosen = [_name(vendor) + _name(app)]
        else:
            chosen = [tenant for tenant, owner in (await self._redis.hgetall(tenants_key)).items()
                      if (vendor is None or owner == _name(vendor))
                      and (app is None or tenant == owner + _name(app))]
        if chosen:
            await self._reset_script(keys=[tenants_key], args=[self.prefix, *chosen])

    async def counter(self, name: str) -> float:
        raw = await self._redis.hget(self.prefix + b"counters", _b(name))
        return float(raw) if raw is not None else 0

    async def incr(self, name: str, amount: float = 1) -> float:
        return float(await self._redis.hincrbyfloat(self.prefix + b"counters", _b(name), amount))

    async def close(self) -> None:
        await self._redis.aclose()

    async def _write(self, tenant: Tenant, kind: str, key: str, record: dict, mode: str) -> bool:
        owner, data, order = self._keys(tenant, kind)
        name = self._tenant(tenant)
        keys = [owner, data, self.prefix + b"kinds:" + name, self.prefix + b"tenants", self.prefix + b"seq", order]
        args = [_b(tenant.app), _b(key), json.dumps(record), _b(kind), mode, name, _name(tenant.vendor)]
        return bool(await self._write_script(keys=keys, args=args))


def _record(raw: bytes) -> dict:
    return json.loads(raw.partition(b":")[2])
