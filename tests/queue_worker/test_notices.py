"""Finished-check notices over the real Redis: a waiter wakes when its check is announced."""

from __future__ import annotations

import asyncio

from arq.connections import ArqRedis

from base.settings import Settings
from base.vocabulary import Label
from db.checks import store_verdict
from db.verdicts import VerdictRecord
from queue_worker.client import QueueClient
from queue_worker.contracts import MediaContext
from queue_worker.notices import DoneNotices, announce
from tests.queue_worker.media import face_jpeg


async def test_an_announced_check_wakes_its_waiters_only(
    arq_redis: ArqRedis, queue_name: str
) -> None:
    notices = DoneNotices(arq_redis, queue_name)
    try:
        mine, again, other = notices.watch(7), notices.watch(7), notices.watch(8)
        await asyncio.wait_for(notices.subscribed.wait(), 10)
        await announce(arq_redis, queue_name, 7)
        await asyncio.wait_for(mine.wait(), 10)
        await asyncio.wait_for(again.wait(), 10)
        await announce(arq_redis, f"{queue_name}-another-queue", 8)  # not this queue's
        await asyncio.sleep(0.2)
        assert not other.is_set()
        notices.unwatch(7, mine)
        notices.unwatch(7, again)
        notices.unwatch(8, other)
        assert notices._waiters == {}
    finally:
        await notices.close()


async def test_wait_returns_on_the_notice_and_without_it(
    settings: Settings, arq_redis: ArqRedis
) -> None:
    """The notice wakes ``wait`` at once; a lost notice costs a poll, never the verdict."""
    ctx = MediaContext(platform="cli", request_kind="cli", file_name="a.jpg")
    async with await QueueClient.connect(settings) as client:
        for announced in (True, False):
            check_id = await client.submit(face_jpeg(30 + announced), ctx)
            waiting = asyncio.create_task(client.wait(check_id, timeout=30))
            await asyncio.wait_for(client.notices.subscribed.wait(), 10)
            async with client.sessions() as s:
                await store_verdict(
                    s, check_id=check_id, verdict=VerdictRecord(label=Label.REAL, model="m")
                )
            if announced:
                await announce(arq_redis, settings.queue_name, check_id)
            result = await asyncio.wait_for(waiting, 30)
            assert (result.check_id, result.label) == (check_id, "real")
