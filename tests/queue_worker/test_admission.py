"""Token buckets in the real Redis: allowance, refill, all-or-nothing, one notice, atomicity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from queue_worker.admission import Rate, TokenBuckets
from tests.services import REDIS_URL


@pytest.fixture
async def buckets(queue_name: str) -> AsyncIterator[TokenBuckets]:
    redis = Redis.from_url(REDIS_URL)
    yield TokenBuckets(redis, prefix=queue_name)
    await redis.aclose()


def test_a_rate_is_a_minutes_worth_at_once() -> None:
    assert Rate.per_minute_with_burst(0) is None
    assert Rate.per_minute_with_burst(20) == Rate(per_minute=20, burst=20)
    assert Rate.per_minute_with_burst(0.5) == Rate(per_minute=0.5, burst=1)


async def test_the_burst_is_spent_then_refused_with_one_notice(buckets: TokenBuckets) -> None:
    user = buckets.bucket("user", "telegram:7", Rate(per_minute=3, burst=3))
    decisions = [await buckets.take([user]) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False, False]
    refused = decisions[3:]
    assert all(d.scope == "user" and d.rate == Rate(3, 3) for d in refused)
    assert [d.notify for d in refused] == [True, False, False]  # told once, not per post
    assert all(0 < d.retry_after_s <= 20 for d in refused)  # one token every 20 s


async def test_tokens_come_back_at_the_rate(buckets: TokenBuckets) -> None:
    fast = buckets.bucket("chat", "telegram:-1", Rate(per_minute=600, burst=1))  # 10 a second
    assert (await buckets.take([fast])).allowed
    refused = await buckets.take([fast])
    assert not refused.allowed and refused.retry_after_s <= 0.1
    await asyncio.sleep(refused.retry_after_s + 0.05)
    assert (await buckets.take([fast])).allowed


async def test_every_bucket_pays_or_none_does(buckets: TokenBuckets) -> None:
    chat = buckets.bucket("chat", "telegram:-2", Rate(per_minute=1, burst=1))
    alice = buckets.bucket("user", "telegram:1", Rate(per_minute=5, burst=5))
    bob = buckets.bucket("user", "telegram:2", Rate(per_minute=5, burst=5))
    assert (await buckets.take([alice, chat])).allowed
    refused = await buckets.take([bob, chat])
    assert (refused.allowed, refused.scope) == (False, "chat")
    # Bob's token was not spent on the refused check: he still has all five elsewhere.
    other = buckets.bucket("chat", "telegram:-3", Rate(per_minute=60, burst=60))
    assert all([(await buckets.take([bob, other])).allowed for _ in range(5)])
    assert not (await buckets.take([bob, other])).allowed


async def test_unlimited_buckets_are_left_out(buckets: TokenBuckets) -> None:
    assert buckets.bucket("user", "x", None) is None
    assert (await buckets.take([None, None])).allowed


async def test_concurrent_takers_never_share_the_last_token(buckets: TokenBuckets) -> None:
    # Fifty bot handlers (or bot processes) asking at once: exactly the burst gets through.
    chat = buckets.bucket("chat", "telegram:-4", Rate(per_minute=0.001, burst=10))
    decisions = await asyncio.gather(*(buckets.take([chat]) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10
    assert sum(d.notify for d in decisions) == 1


async def test_first_is_true_once_per_period(buckets: TokenBuckets) -> None:
    assert await buckets.first("busy:telegram:-5", 0.2)
    assert not await buckets.first("busy:telegram:-5", 0.2)
    await asyncio.sleep(0.3)
    assert await buckets.first("busy:telegram:-5", 0.2)
