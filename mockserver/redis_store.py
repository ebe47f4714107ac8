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
    uq:<T>:<kind>:<F>  hash   value → key, for each field F of store.UNIQUE (what `find` reads)
    kinds:<T>          set    the kinds the tenant has records of
    tenants            hash   T → V of the tenants that have records
    seq                string the insertion counter
    counters           hash   name → number (survives reset)

The client is redis.asyncio: no call blocks the event loop.
Every write is one Lua script, so it is atomic however many processes share
the Redis: the owner check and the write cannot be split by another client.
Reads are single commands. A transaction (`transact`) runs its work on a
thread, reading through the client, and stores its writes with one script
that first checks every value the work read is still what it was; if one
changed (another process wrote meanwhile), nothing is stored and the work runs
again on what is there now. Scripts name keys they build themselves, so this
needs a single Redis (or a primary with replicas), not Redis Cluster.
Durability is Redis' own (RDB/AOF settings): `appendonly yes` with `appendfsync
always` gives SQLite's "nothing acknowledged is lost".
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import struct
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .store import INDEXES, THAW_ON_THREAD, UNIQUE, Tenant, Transaction, unique_fields, unique_value

T = TypeVar("T")
ATTEMPTS = 200  # a transaction whose reads keep changing under it runs again at most this often

SCHEMES = ("redis://", "rediss://", "unix://")
DEFAULT_PREFIX = "mockserver:"

# write(K, A), one record: K = owner hash, data hash, kinds set, tenants hash, seq, order zset, then (ix zset,
# im hash) per index, then a uq hash per unique field. A = app, key, JSON, kind, mode, T, V, number of indexes,
# the record's encoded fields per index, its value per unique field ('' for none), the unique fields' names.
# mode put: upsert unless another app has the key (→ 0); add: only a key nobody has (→ 0 otherwise);
# replace: only a key the app has (→ 0 otherwise). Any mode: 0 when another record of the app has a unique value.
_WRITER = """
local function writable(K, A, batch)
  local owner = redis.call('HGET', K[1], A[2])
  local mode = A[5]
  if owner and owner ~= A[1] then return false end
  if mode == 'add' and owner then return false end
  if mode == 'replace' and not owner then return false end
  local n = tonumber(A[8])
  for j = 1, #K - 6 - 2 * n do
    local value = A[8 + n + j]
    if value ~= '' then
      local holder = redis.call('HGET', K[6 + 2 * n + j], value)
      if holder and holder ~= A[2] and not (batch and batch[K[2] .. '\\0' .. holder]) then return false end
    end
  end
  return true
end

local function unfind(K, A, old, seq)
  local n = tonumber(A[8])
  local m = #K - 6 - 2 * n
  if not old or m == 0 then return end
  local before = cjson.decode(string.sub(old, #seq + 2))
  for j = 1, m do
    local was = before[A[8 + n + m + j]]
    if type(was) == 'string' and was ~= '' and redis.call('HGET', K[6 + 2 * n + j], was) == A[2] then
      redis.call('HDEL', K[6 + 2 * n + j], was)
    end
  end
end

local function write(K, A)
  local n = tonumber(A[8])
  local m = #K - 6 - 2 * n
  local seq
  local old = redis.call('HGET', K[2], A[2])
  if old then seq = string.match(old, '^(%d+):') end
  if seq then
    unfind(K, A, old, seq)
  else
    seq = tostring(redis.call('INCR', K[5]))
    redis.call('ZADD', K[6], seq, A[2])
  end
  redis.call('HSET', K[2], A[2], seq .. ':' .. A[3])
  for i = 1, n do
    local index, members = K[5 + 2 * i], K[6 + 2 * i]
    local before = redis.call('HGET', members, A[2])
    if before then redis.call('ZREM', index, before) end
    local member = A[8 + i] .. string.format('%016x', tonumber(seq)) .. A[2]
    redis.call('ZADD', index, 0, member)
    redis.call('HSET', members, A[2], member)
  end
  for j = 1, m do
    if A[8 + n + j] ~= '' then redis.call('HSET', K[6 + 2 * n + j], A[8 + n + j], A[2]) end
  end
  redis.call('HSET', K[1], A[2], A[1])
  redis.call('SADD', K[3], A[4])
  redis.call('HSET', K[4], A[6], A[7])
end
"""
_WRITE = (
    _WRITER
    + """
if not writable(KEYS, ARGV) then return 0 end
write(KEYS, ARGV)
return 1
"""
)

# A transaction's writes. ARGV: number of checks, then per check (hash, field, '1' + value | '0' for absent);
# then per write: number of keys, the keys, number of args, the args (as for write()).
# → -1 (nothing written) when a checked value changed, -2 when a write clashes, else the number of writes.
_COMMIT = (
    _WRITER
    + """
local at = 2
for _ = 1, tonumber(ARGV[1]) do
  local now = redis.call('HGET', ARGV[at], ARGV[at + 1])
  local seen = ARGV[at + 2]
  if (seen == '0' and now) or (seen ~= '0' and now ~= string.sub(seen, 2)) then return -1 end
  at = at + 3
end
local writes, batch = {}, {}
while at <= #ARGV do
  local nk = tonumber(ARGV[at])
  local K = {unpack(ARGV, at + 1, at + nk)}
  local na = tonumber(ARGV[at + nk + 1])
  local A = {unpack(ARGV, at + nk + 2, at + nk + 1 + na)}
  at = at + nk + 2 + na
  writes[#writes + 1] = {K, A}
  batch[K[2] .. '\\0' .. A[2]] = true
end
for _, w in ipairs(writes) do
  if not writable(w[1], w[2], batch) then return -2 end
end
for _, w in ipairs(writes) do
  local K, A = w[1], w[2]
  local old = redis.call('HGET', K[2], A[2])
  local seq = old and string.match(old, '^(%d+):')
  if seq then unfind(K, A, old, seq) end
end
for _, w in ipairs(writes) do write(w[1], w[2]) end
return #writes
"""
)

# KEYS: owner hash, data hash, order zset, then (ix zset, im hash) per index, then a uq hash per unique field.
# ARGV[2]: number of indexes; then the unique fields' names.
_UNINDEX = """
local n = tonumber(ARGV[2])
local function unindex(key)
  for i = 1, n do
    local members = KEYS[3 + 2 * i]
    local member = redis.call('HGET', members, key)
    if member then
      redis.call('ZREM', KEYS[2 + 2 * i], member)
      redis.call('HDEL', members, key)
    end
  end
end
local function unfind(key, raw)
  local m = #KEYS - 3 - 2 * n
  if m == 0 or not raw then return end
  local record = cjson.decode(string.sub(raw, string.find(raw, ':', 1, true) + 1))
  for j = 1, m do
    local was = record[ARGV[2 + j]]
    if type(was) == 'string' and was ~= '' and redis.call('HGET', KEYS[3 + 2 * n + j], was) == key then
      redis.call('HDEL', KEYS[3 + 2 * n + j], was)
    end
  end
end
"""

# ARGV[1]: key.
_DELETE = (
    _UNINDEX
    + """
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if raw then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  unindex(ARGV[1])
  unfind(ARGV[1], raw)
  return 1
end
return 0
"""
)

# ARGV[1]: how many to keep.
_TRIM = (
    _UNINDEX
    + """
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local keys = redis.call('ZRANGE', KEYS[3], 0, excess - 1)
for _, key in ipairs(keys) do unfind(key, redis.call('HGET', KEYS[2], key)) end
for i = 1, #keys, 1000 do
  local chunk = {unpack(keys, i, math.min(i + 999, #keys))}
  redis.call('HDEL', KEYS[2], unpack(chunk))
  redis.call('HDEL', KEYS[1], unpack(chunk))
  redis.call('ZREM', KEYS[3], unpack(chunk))
end
for _, key in ipairs(keys) do unindex(key) end
return #keys
"""
)

# KEYS: tenants hash. ARGV: prefix, JSON {kind: [[ix:|im:|uq:, encoded index or field name], …]}, then the
# tenants (T) to wipe.
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
      for _, part in ipairs(indexes[kind] or {}) do  -- part: {what, encoded name}: ix/im per index, uq per field
        redis.call('DEL', prefix .. part[1] .. tenant .. suffix .. part[2])
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
        self._redis = client or aioredis.Redis.from_url(
            url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30
        )
        self._write_script = self._redis.register_script(_WRITE)
        self._delete_script = self._redis.register_script(_DELETE)
        self._reset_script = self._redis.register_script(_RESET)
        self._trim_script = self._redis.register_script(_TRIM)
        # transactions run on a thread, with a blocking client of their own: their reads, and the packing of a
        # commit of 2,000 orders, never take turns of the event loop
        import redis as sync_redis

        self._sync = sync_redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._commit_script = self._sync.register_script(_COMMIT)

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
        """owner hash, data hash, order zset, then (ix zset, im hash) per index of the kind, then a uq hash
        per unique field"""
        keys = [
            self._owner_key(tenant.vendor, kind),
            self._data_key(tenant, kind),
            self._data_key(tenant, kind, b"order:"),
        ]
        for name in INDEXES.get(kind, {}):
            keys += [self._index_key(tenant, kind, name), self._index_key(tenant, kind, name, b"im:")]
        return keys + [self._unique_key(tenant, kind, field) for field in UNIQUE.get(kind, ())]

    def _unique_key(self, tenant: Tenant, kind: str, field: str) -> bytes:
        return self.prefix + b"uq:" + self._tenant(tenant) + _name(kind) + _name(field)

    def _unindex_args(self, kind: str) -> list:
        return [len(INDEXES.get(kind, {})), *(_b(field) for field in UNIQUE.get(kind, ()))]

    def _index_key(self, tenant: Tenant, kind: str, index: str, what: bytes = b"ix:") -> bytes:
        if index not in INDEXES.get(kind, {}):
            raise KeyError(f"{kind} have no index {index!r}")
        return self.prefix + what + self._tenant(tenant) + _name(kind) + _name(index)

    # -- the Store interface -----------------------------------------------------
    async def get(self, tenant: Tenant, kind: str, key: str) -> dict | None:
        raw = await self._redis.hget(self._data_key(tenant, kind), _b(key))
        return _record(raw) if raw is not None else None

    def version(self, tenant: Tenant, kind: str, key: str) -> object | None:
        """None: other processes write the server (Store.version)."""
        return None

    async def put(self, tenant: Tenant, kind: str, key: str, record: dict) -> None:
        if not await self._write(tenant, kind, key, record, "put"):
            raise KeyError(f"{kind} {key} belongs to another app")

    async def add(self, tenant: Tenant, kind: str, key: str, record: dict, *, keep: int | None = None) -> bool:
        added = await self._write(tenant, kind, key, record, "add")
        if added and keep is not None:
            await self.trim(tenant, kind, keep)
        return added

    async def replace(self, tenant: Tenant, kind: str, key: str, record: dict) -> bool:
        return await self._write(tenant, kind, key, record, "replace")

    async def replace_many(self, tenant: Tenant, kind: str, records: dict[str, dict]) -> int:
        return sum([await self.replace(tenant, kind, key, record) for key, record in records.items()])

    async def delete(self, tenant: Tenant, kind: str, key: str) -> bool:
        return bool(await self._delete_script(keys=self._keys(tenant, kind), args=[_b(key), *self._unindex_args(kind)]))

    async def list(self, tenant: Tenant, kind: str) -> list[dict]:
        values = await self._redis.hvals(self._data_key(tenant, kind))  # one command: a consistent snapshot
        if len(values) > THAW_ON_THREAD:  # decoding 50,000 orders takes a while: not on the event loop
            return await asyncio.to_thread(_listed, values)
        return _listed(values)

    async def page(
        self, tenant: Tenant, kind: str, index: str, *, reverse: bool, offset: int, limit: int
    ) -> list[dict]:
        if limit <= 0:
            return []
        members = await self._redis.zrange(
            self._index_key(tenant, kind, index), offset, offset + limit - 1, desc=reverse
        )
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
        return int(
            await self._trim_script(keys=self._keys(tenant, kind), args=[max(0, keep), *self._unindex_args(kind)])
        )

    async def owner(self, vendor: str, kind: str, key: str) -> str | None:
        raw = await self._redis.hget(self._owner_key(vendor, kind), _b(key))
        return _s(raw) if raw is not None else None

    async def apps(self, vendor: str, kind: str) -> list[str]:
        return sorted({_s(raw) for raw in await self._redis.hvals(self._owner_key(vendor, kind))})

    async def reset(self, app: str | None = None, vendor: str | None = None) -> None:
        tenants_key = self.prefix + b"tenants"
        if app is not None and vendor is not None:
            chosen = [_name(vendor) + _name(app)]
        else:
            chosen = [
                tenant
                for tenant, owner in (await self._redis.hgetall(tenants_key)).items()
                if (vendor is None or owner == _name(vendor)) and (app is None or tenant == owner + _name(app))
            ]
        if chosen:
            parts: dict[str, list] = {}
            for kind, names in INDEXES.items():
                parts.setdefault(kind, []).extend(
                    [what, _name(name).decode()] for name in names for what in ("ix:", "im:")
                )
            for kind, fields in UNIQUE.items():
                parts.setdefault(kind, []).extend(["uq:", _name(field).decode()] for field in fields)
            indexes = json.dumps(parts)
            await self._reset_script(keys=[tenants_key], args=[self.prefix, indexes, *chosen])

    async def counter(self, name: str) -> float:
        raw = await self._redis.hget(self.prefix + b"counters", _b(name))
        return float(raw) if raw is not None else 0

    async def incr(self, name: str, amount: float = 1) -> float:
        return float(await self._redis.hincrbyfloat(self.prefix + b"counters", _b(name), amount))

    async def close(self) -> None:
        await self._redis.aclose()
        await asyncio.to_thread(self._sync.close)

    async def _write(self, tenant: Tenant, kind: str, key: str, record: dict, mode: str) -> bool:
        return bool(await self._write_script(*self._writing(tenant, kind, key, record, mode)))

    def _writing(self, tenant: Tenant, kind: str, key: str, record: dict, mode: str) -> tuple[list, list]:
        """The keys and args of write() in the scripts, for one record."""
        owner, data, order, *rest = self._keys(tenant, kind)
        name = self._tenant(tenant)
        keys = [
            owner,
            data,
            self.prefix + b"kinds:" + name,
            self.prefix + b"tenants",
            self.prefix + b"seq",
            order,
            *rest,
        ]
        fields = UNIQUE.get(kind, ())
        args = [
            _b(tenant.app),
            _b(key),
            json.dumps(record),
            _b(kind),
            mode,
            name,
            _name(tenant.vendor),
            len(INDEXES.get(kind, {})),
            *(_lex(record, fields) for fields in INDEXES.get(kind, {}).values()),
            *(_b(unique_value(record, field) or "") for field in fields),
            *(_b(field) for field in fields),
        ]
        return keys, args

    async def find(self, tenant: Tenant, kind: str, field: str, value: str) -> dict | None:
        unique_fields(kind, field)
        key = await self._redis.hget(self._unique_key(tenant, kind, field), _b(value))
        if key is None:
            return None
        record = await self.get(tenant, kind, _s(key))
        return record if record is not None and unique_value(record, field) == value else None

    async def transact(self, tenant: Tenant, work: Callable[[Transaction], T]) -> T:
        """Optimistic: the work runs on a thread, reading through a blocking client; the commit script stores
        its writes only if every hash field it read still holds what it read, else the work runs again."""
        return await asyncio.to_thread(self._transact, tenant, work)

    def _transact(self, tenant: Tenant, work: Callable[[Transaction], T]) -> T:
        for attempt in range(ATTEMPTS):
            view = _RedisTransaction(self, tenant)
            result = work(view)
            args: list[Any] = [len(view.read)]
            for (hash_key, field), seen in view.read.items():
                args += [hash_key, field, b"0" if seen is None else b"1" + seen]
            for kind, key in view.writes:
                keys, write_args = self._writing(tenant, kind, key, view.writes[(kind, key)], "put")
                args += [len(keys), *keys, len(write_args), *write_args]
            outcome = int(self._commit_script(keys=[], args=args))
            if outcome == -2:
                raise KeyError("a transaction's write clashes with another app's key or another record's value")
            if outcome >= 0:
                return result
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))  # others are writing: make way
        raise RuntimeError(f"the Redis store kept changing under a transaction ({ATTEMPTS} attempts)")


class _RedisTransaction:
    """A RedisStore transaction's view (see store.Transaction), used on a thread: reads go through the store's
    blocking client and are remembered (hash, field → what was there) for the commit's check."""

    def __init__(self, store: RedisStore, tenant: Tenant) -> None:
        self._store = store
        self._tenant = tenant
        self.read: dict[tuple[bytes, bytes], bytes | None] = {}
        self.writes: dict[tuple[str, str], dict] = {}
        self._found: dict[tuple[str, str, str], str] = {}

    def _hget(self, hash_key: bytes, field: bytes) -> bytes | None:
        if (hash_key, field) not in self.read:
            self.read[(hash_key, field)] = self._store._sync.hget(hash_key, field)
        return self.read[(hash_key, field)]

    def get(self, kind: str, key: str) -> dict | None:
        written = self.writes.get((kind, key))
        if written is not None:
            return written
        raw = self._hget(self._store._data_key(self._tenant, kind), _b(key))
        return _record(raw) if raw is not None else None

    def find(self, kind: str, field: str, value: str) -> dict | None:
        unique_fields(kind, field)
        key = self._found.get((kind, field, value))
        if key is None:
            raw = self._hget(self._store._unique_key(self._tenant, kind, field), _b(value)) if value else None
            key = _s(raw) if raw is not None else None
        record = self.get(kind, key) if key is not None else None
        return record if record is not None and unique_value(record, field) == value else None

    def count(self, kind: str) -> int:
        stored = self._store._sync.hlen(self._store._data_key(self._tenant, kind))
        data = self._store._data_key(self._tenant, kind)
        return stored + sum(1 for k, key in self.writes if k == kind and self.read.get((data, _b(key))) is None)

    def put(self, kind: str, key: str, record: dict) -> None:
        self.writes[(kind, key)] = record
        for field in UNIQUE.get(kind, ()):
            value = unique_value(record, field)
            if value:
                self._found[(kind, field, value)] = key


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
        tag = member[at : at + 1]
        if tag == _NULL:
            at += 1
        elif tag == _NUMBER:
            at += 9
        else:
            at += 1
            while True:
                at = member.index(b"\x00", at)
                if member[at + 1 : at + 2] == b"\xff":
                    at += 2
                    continue
                at += 2
                break
    return member[at + 16 :]


def _listed(values: list[bytes]) -> list[dict]:
    """Stored values decoded, in order of first storing."""
    entries = []
    for raw in values:
        seq, _, text = raw.partition(b":")
        entries.append((int(seq), text))
    entries.sort(key=lambda entry: entry[0])
    return [json.loads(text) for _, text in entries]


def _record(raw: bytes) -> dict:
    return json.loads(raw.partition(b":")[2])
