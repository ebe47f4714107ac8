"""A Store kept in Redis (`mockserver serve --state redis://host:port/db`), for
replicas on several hosts behind a load balancer, or `--workers N` on one.

Same interface and semantics as MemoryStore and SqliteStore (the contract
tests run against all three). Needs the `redis` package: the `redis` extra,
`pip install 'mockserver[redis]'`.

Layout, every key under a prefix (default `mockserver:`, `?prefix=` in the URL
changes it) so the mock can share a Redis with other users and `reset` only
ever removes its own keys:

    owner:<kind>                 hash  key → app            (keys unique per kind across apps)
    data:<len(app)>:<app>:<kind> hash  key → "<seq>:<JSON>"  (seq keeps list order; an update keeps it)
    order:<len(app)>:<app>:<kind> zset key by seq             (what `trim` removes first)
    kinds:<app>                  set   the kinds the app has records of
    apps                         set   the apps that have records
    seq                          string the insertion counter
    counters                     hash  name → number (survives reset)

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

SCHEMES = ("redis://", "rediss://", "unix://")
DEFAULT_PREFIX = "mockserver:"

# KEYS: owner hash, data hash, kinds set, apps set, seq, order zset. ARGV: app, key, JSON, kind, mode.
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
redis.call('SADD', KEYS[4], ARGV[1])
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

# KEYS: apps set. ARGV: prefix, app ('' with ARGV[3] == 'all': every app).
_RESET = """
local prefix = ARGV[1]
local function wipe(app)
  local kinds_key = prefix .. 'kinds:' .. app
  for _, kind in ipairs(redis.call('SMEMBERS', kinds_key)) do
    local data = prefix .. 'data:' .. string.len(app) .. ':' .. app .. ':' .. kind
    local keys = redis.call('HKEYS', data)
    for i = 1, #keys, 1000 do
      redis.call('HDEL', prefix .. 'owner:' .. kind, unpack(keys, i, math.min(i + 999, #keys)))
    end
    redis.call('DEL', data, prefix .. 'order:' .. string.len(app) .. ':' .. app .. ':' .. kind)
  end
  redis.call('DEL', kinds_key)
  redis.call('SREM', KEYS[1], app)
end
if ARGV[3] == 'all' then
  for _, app in ipairs(redis.call('SMEMBERS', KEYS[1])) do wipe(app) end
else
  wipe(ARGV[2])
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


class RedisStore:
    shared = True  # every process (and host) on the same Redis sees one store

    def __init__(self, url: str, *, prefix: str | None = None, client=None) -> None:
        try:
            import redis
        except ImportError:  # pragma: no cover - depends on the environment
            raise ValueError("--state redis://… needs the redis package: pip install 'mockserver[redis]'") from None
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        prefix = prefix if prefix is not None else query.pop("prefix", [DEFAULT_PREFIX])[0]
        url = urlunsplit(parts._replace(query="&".join(f"{k}={v}" for k, vs in query.items() for v in vs)))
        self.url = redacted(url)
        self.prefix = _b(prefix)
        self._redis = client or redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                                     health_check_interval=30)
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            self._redis.close()
            raise ValueError(f"cannot reach the Redis store at {self.url}: {exc}") from None
        self._write_script = self._redis.register_script(_WRITE)
        self._delete_script = self._redis.register_script(_DELETE)
        self._reset_script = self._redis.register_script(_RESET)
        self._trim_script = self._redis.register_script(_TRIM)

    # -- keys ------------------------------------------------------------------
    def _owner_key(self, kind: str) -> bytes:
        return self.prefix + b"owner:" + _b(kind)

    def _data_key(self, app: str, kind: str, what: bytes = b"data:") -> bytes:
        name = _b(app)
        return self.prefix + what + str(len(name)).encode() + b":" + name + b":" + _b(kind)

    def _keys(self, app: str, kind: str) -> list[bytes]:
        """owner hash, data hash, order zset"""
        return [self._owner_key(kind), self._data_key(app, kind), self._data_key(app, kind, b"order:")]

    def _kinds_key(self, app: str) -> bytes:
        return self.prefix + b"kinds:" + _b(app)

    # -- the Store interface -----------------------------------------------------
    def get(self, app: str, kind: str, key: str) -> dict | None:
        raw = self._redis.hget(self._data_key(app, kind), _b(key))
        return _record(raw) if raw is not None else None

    def put(self, app: str, kind: str, key: str, record: dict) -> None:
        if not self._write(app, kind, key, record, "put"):
            raise KeyError(f"{kind} {key} belongs to another app")

    def add(self, app: str, kind: str, key: str, record: dict) -> bool:
        return self._write(app, kind, key, record, "add")

    def replace(self, app: str, kind: str, key: str, record: dict) -> bool:
        return self._write(app, kind, key, record, "replace")

    def delete(self, app: str, kind: str, key: str) -> bool:
        return bool(self._delete_script(keys=self._keys(app, kind), args=[_b(key)]))

    def list(self, app: str, kind: str) -> list[dict]:
        values = self._redis.hvals(self._data_key(app, kind))  # one command: a consistent snapshot
        entries = []
        for raw in values:
            seq, _, text = raw.partition(b":")
            entries.append((int(seq), text))
        entries.sort(key=lambda entry: entry[0])
        return [json.loads(text) for _, text in entries]

    def count(self, app: str, kind: str) -> int:
        return self._redis.hlen(self._data_key(app, kind))

    def trim(self, app: str, kind: str, keep: int) -> int:
        return int(self._trim_script(keys=self._keys(app, kind), args=[max(0, keep)]))

    def owner(self, kind: str, key: str) -> str | None:
        raw = self._redis.hget(self._owner_key(kind), _b(key))
        return _s(raw) if raw is not None else None

    def reset(self, app: str | None = None) -> None:
        self._reset_script(keys=[self.prefix + b"apps"],
                           args=[self.prefix, _b(app or ""), b"all" if app is None else b"one"])

    def counter(self, name: str) -> float:
        raw = self._redis.hget(self.prefix + b"counters", _b(name))
        return float(raw) if raw is not None else 0

    def incr(self, name: str, amount: float = 1) -> float:
        return float(self._redis.hincrbyfloat(self.prefix + b"counters", _b(name), amount))

    def close(self) -> None:
        self._redis.close()

    def _write(self, app: str, kind: str, key: str, record: dict, mode: str) -> bool:
        owner, data, order = self._keys(app, kind)
        keys = [owner, data, self._kinds_key(app), self.prefix + b"apps", self.prefix + b"seq", order]
        return bool(self._write_script(keys=keys, args=[_b(app), _b(key), json.dumps(record), _b(kind), mode]))


def _record(raw: bytes) -> dict:
    return json.loads(raw.partition(b":")[2])
