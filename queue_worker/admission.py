"""Token buckets in Redis: how many checks a user or a chat may ask for, shared by every bot.

Each bucket holds up to ``burst`` tokens and refills at ``per_minute`` tokens a
minute; a check takes one token from each bucket it is counted in (its author's
and its chat's). The buckets live in Redis and are updated by one Lua script, so
any number of bot processes share them and two of them never both spend the last
token. Redis's own clock is used, so the bots' clocks do not matter.

A refusal also says whether to *tell* the user: only the first refusal of a bucket
in a while is answered, so a raid of a hundred posts gets one polite notice, not a
hundred.

It meters what enters the queue, in the queue's Redis under the queue's key prefix, for
both of its producers that face people: the bots (with the queue's depth, the core's
``Gate``) and the dashboard's uploads. Both stand one layer above ``queue_worker``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

# KEYS: the buckets, then one "told" marker per bucket. ARGV: per bucket its burst and
# refill per millisecond, then the cost. Either every bucket pays or none does.
_TAKE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local n = #KEYS / 2
local cost = tonumber(ARGV[2 * n + 1])
local tokens = {}
for i = 1, n do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local b = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now_ms
  t = math.min(burst, t + math.max(0, now_ms - ts) * rate)
  tokens[i] = t
  if t < cost then
    local wait = math.ceil((cost - t) / rate)
    local told = redis.call('SET', KEYS[n + i], '1', 'NX', 'PX', math.max(wait, 60000))
    return {0, i, wait, told and 1 or 0}
  end
end
for i = 1, n do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  redis.call('HSET', KEYS[i], 't', tostring(tokens[i] - cost), 'ts', now_ms)
  redis.call('PEXPIRE', KEYS[i], math.ceil(burst / rate) + 1000)
end
return {1, 0, 0, 0}
"""


@dataclass(frozen=True)
class Rate:
    """A bucket's size and refill: ``per_minute`` checks a minute, ``burst`` at once."""

    per_minute: float
    burst: int

    @classmethod
    def per_minute_with_burst(cls, per_minute: float) -> Rate | None:
        """A minute's worth at once, refilled over the minute; ``None`` (no limit) for 0."""
        if per_minute <= 0:
            return None
        return cls(per_minute=per_minute, burst=max(1, math.ceil(per_minute)))


@dataclass(frozen=True)
class Bucket:
    """One bucket a check is counted in: ``scope`` names it to people (``user``, ``chat``)."""

    scope: str
    key: str
    rate: Rate


@dataclass(frozen=True)
class Decision:
    """The answer of :meth:`TokenBuckets.take`.

    Attributes:
        allowed: Every bucket had a token; they are spent.
        scope: The bucket that refused (``None`` when allowed).
        retry_after_s: When that bucket has a token again.
        notify: This is the bucket's first refusal in a while: tell the user.
        rate: The refusing bucket's rate, to tell them.
    """

    allowed: bool
    scope: str | None = None
    retry_after_s: float = 0.0
    notify: bool = False
    rate: Rate | None = None


class TokenBuckets:
    """Token buckets under one key prefix of a Redis database."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._script = redis.register_script(_TAKE)

    async def first(self, name: str, seconds: float) -> bool:
        """True once per ``seconds`` for ``name``: whether to tell someone about a refusal."""
        key = f"{self.prefix}:told:{name}"
        return bool(await self.redis.set(key, "1", nx=True, px=int(seconds * 1000)))

    def bucket(self, scope: str, name: str, rate: Rate | None) -> Bucket | None:
        """The bucket ``name`` of ``scope`` (``None`` when the rate is unlimited)."""
        if rate is None:
            return None
        return Bucket(scope=scope, key=f"{self.prefix}:rate:{scope}:{name}", rate=rate)

    async def take(self, buckets: Sequence[Bucket | None], cost: int = 1) -> Decision:
        """Spend ``cost`` tokens from every bucket, or from none when one is short."""
        active = [b for b in buckets if b is not None]
        if not active:
            return Decision(allowed=True)
        keys = [b.key for b in active] + [f"{b.key}:told" for b in active]
        args: list[float | int] = []
        for b in active:
            args += [b.rate.burst, b.rate.per_minute / 60_000.0]
        args.append(cost)
        allowed, index, wait_ms, told = await self._script(keys=keys, args=args)
        if allowed:
            return Decision(allowed=True)
        refused = active[int(index) - 1]
        return Decision(
            allowed=False,
            scope=refused.scope,
            retry_after_s=int(wait_ms) / 1000.0,
            notify=bool(told),
            rate=refused.rate,
        )
