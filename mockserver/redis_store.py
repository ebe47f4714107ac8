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
    ix:<T>:<kind>:<I>  zset   one member per record, all scored 0, so ordered by bytes: the
                              record's fields of index I (store.INDEXES) encoded to sort as
                              SQLite sorts them, its seq (16 hex digits), its key
    im:<T>:<kind>:<I>  hash   key → its member of ix (to remove it when the record changes)
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
import math
import struct
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .store import INDEXES, Tenant

SCHEMES = ("redis://", "rediss://", "unix://")
DEFAULT_PREFIX = "mockserver:"

# KEYS: owner hash, data hash, kinds set, tenants hash, seq, order zset, then (ix zset, im hash) per index.
# ARGV: app, key, JSON, kind, mode, T, V, then the record's encoded fields per index.
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
for i = 1, (#KEYS - 6) / 2 do
  local index, members = KEYS[5 + 2 * i], KEYS[6 + 2 * i]
  local before = redis.call('HGET', members, ARGV[2])
  if before then redis.call('ZREM', index, before) end
  local member = ARGV[7 + i] .. string.format('%016x', tonumber(seq)) .. ARGV[2]
  redis.call('ZADD', index, 0, member)
  redis.call('HSET', members, ARGV[2], member)
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('HSET', KEYS[4], ARGV[6], ARGV[7])
return 1
"""

_UNINDEX = """
local function unindex(key)
  for i = 1, (#KEYS - 3) / 2 do
    local members = KEYS[3 + 2 * i]
    local member = redis.call('HGET', members, key)
    if member then
      redis.call('ZREM', KEYS[2 + 2 * i], member)
      redis.call('HDEL', members, key)
    end
  end
end
"""

# KEYS: owner hash, data hash, order zset, then (ix zset, im hash) per index. ARGV: key.
_DELETE = _UNINDEX + """
if redis.call('HDEL', KEYS[2], ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  unindex(ARGV[1])
  return 1
end
return 0
"""

# KEYS: owner hash, data hash, order zset, then (ix zset, im hash) per index. ARGV: how many to keep.
_TRIM = _UNINDEX + """
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local keys = redis.call('ZRANGE', KEYS[3], 0, excess - 1)
for i = 1, #keys, 1000 do
  local chunk = {unpack(keys, i, math.min(i + 999, #keys))}
  redis.call('HDEL', KEYS[2], unpack(chunk))
  redis.call('HDEL', KEYS[1], unpack(chunk))
  redis.call('ZREM', KEYS[3], unpack(chunk))
end
for _, key in ipairs(keys) do unindex(key) end
return #keys
"""

# KEYS: tenants hash. ARGV: prefix, JSON {kind: [encoded index names]}, then the tenants (T) to wipe.
_RESET = """
local prefix = ARGV[1]
local indexes = cjson.decode(ARGV[2])
for i = 3, #ARGV do
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
      for _, name in ipairs(indexes[kind] or {}) do
        redis.call('DEL', prefix .. 'ix:' .. tenant .. suffix .. name, prefix .. 'im:' .. tenant .. suffix .. name)
      end
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
        """owner hash, data hash, order zset, then (ix zset, im hash) per index of the kind"""
        keys = [self._owner_key(tenant.vendor, kind), self._data_key(tenant, kind),
                self._data_key(tenant, kind, b"order:")]
        for name in INDEXES.get(kind, {}):
            keys += [self._index_key(tenant, kind, name), self._index_key(tenant, kind, name, b"im:")]
        return keys

    def _index_key(self, tenant: Tenant, kind: str, index: str, what: bytes = b"ix:") -> bytes:
        if index not in INDEXES.get(kind, {}):
            raise KeyError(f"{kind} have no index {index!r}")
        return self.prefix + what + self._tenant(tenant) + _name(kind) + _name(index)

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

    async def replace_many(self, tenant: Tenant, kind: str, records: dict[str, dict]) -> int:
        return sum([await self.replace(tenant, kind, key, record) for key, record in records.items()])

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

    async def page(self, tenant: Tenant, kind: str, index: str, *, reverse: bool, offset: int,
                   limit: int) -> list[dict]:
        if limit <= 0:
            return []
        members = await self._redis.zrange(self._index_key(tenant, kind, index), offset, offset + limit - 1,
                                           desc=reverse)
        return await self._records(tenant, kind, index, members)

    async def upto(self, tenant: Tenant, kind: str, index: str, bound: float) -> list[dict]:
        top = b"+" if bound == math.inf else b"(" + _NUMBER + _ordered(math.nextafter(bound, math.inf))
        members = await self._redis.zrangebylex(self._index_key(tenant, kind, index), b"[" + _NUMBER, top)
        return await self._records(tenant, kind, index, members)

    async def _records(self, tenant: Tenant, kind: str, index: str, members: list[bytes]) -> list[dict]:
        if not members:
            return []
        fields = len(INDEXES[kind][index])
        values = await self._redis.hmget(self._data_key(tenant, kind), [_key_of(m, fields) for m in members])
        return [_record(raw) for raw in values if raw is not None]  # None: deleted meanwhile

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
            indexes = json.dumps({kind: [_name(name).decode() for name in names] for kind, names in INDEXES.items()})
            await self._reset_script(keys=[tenants_key], args=[self.prefix, indexes, *chosen])

    async def counter(self, name: str) -> float:
        raw = await self._redis.hget(self.prefix + b"counters", _b(name))
        return float(raw) if raw is not None else 0

    async def incr(self, name: str, amount: float = 1) -> float:
        return float(await self._redis.hincrbyfloat(self.prefix + b"counters", _b(name), amount))

    async def close(self) -> None:
        await self._redis.aclose()

    async def _write(self, tenant: Tenant, kind: str, key: str, record: dict, mode: str) -> bool:
        owner, data, order = self._keys(tenant, kind)[:3]
        name = self._tenant(tenant)
        keys = [owner, data, self.prefix + b"kinds:" + name, self.prefix + b"tenants", self.prefix + b"seq", order,
                *self._keys(tenant, kind)[3:]]
        args = [_b(tenant.app), _b(key), json.dumps(record), _b(kind), mode, name, _name(tenant.vendor),
                *(_lex(record, fields) for fields in INDEXES.get(kind, {}).values())]
        return bool(await self._write_script(keys=keys, args=args))


_NULL, _NUMBER, _TEXT, _OTHER = b"\x00", b"\x01", b"\x02", b"\x03"


def _ordered(number: float) -> bytes:
    """8 bytes that sort as the number does."""
    raw = struct.pack(">d", number)
    return bytes(b ^ 0xFF for b in raw) if raw[0] & 0x80 else bytes([raw[0] ^ 0x80]) + raw[1:]


def _lex(record: dict, fields: tuple[str, ...]) -> bytes:
    """A record's fields as bytes that sort as SQLite sorts the JSON values (nulls, numbers, text),
    each prefix-free (text ends in 00 00, its own 00 bytes written 00 FF)."""
    out = b""
    for name in fields:
        value = record.get(name)
        if value is None:
            out += _NULL
        elif isinstance(value, (int, float)):
            out += _NUMBER + _ordered(float(value))
        else:
            tag = _TEXT if isinstance(value, str) else _OTHER
            out += tag + _b(str(value)).replace(b"\x00", b"\x00\xff") + b"\x00\x00"
    return out


def _key_of(member: bytes, fields: int) -> bytes:
    """The record key at the end of an ix member: after `fields` encoded fields and 16 hex digits."""
    at = 0
    for _ in range(fields):
        tag = member[at:at + 1]
        if tag == _NULL:
            at += 1
        elif tag == _NUMBER:
            at += 9
        else:
            at += 1
            while True:
                at = member.index(b"\x00", at)
                if member[at + 1:at + 2] == b"\xff":
                    at += 2
                    continue
                at += 2
                break
    return member[at + 16:]


def _record(raw: bytes) -> dict:
    return json.loads(raw.partition(b":")[2])
