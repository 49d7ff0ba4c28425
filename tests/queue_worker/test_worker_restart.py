"""A worker loop started again after a lost Redis serves on with the same state, even when
arq ran the old loop's shutdown hook (Redis came back before the old loop closed)."""

from __future__ import annotations

import asyncio
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import text

from base.settings import Settings
from queue_worker.worker import shutdown, startup


async def test_a_loop_started_after_shutdown_gets_new_inference_threads(
    settings: Settings, arq_redis: ArqRedis
) -> None:
    cache: dict[str, Any] = {}
    first: dict[str, Any] = {"settings": settings, "cache": cache, "redis": arq_redis}
    await startup(first)
    state = first["state"]
    old_threads = state.executor
    await shutdown(first)  # what arq does when the old loop closes with Redis back up

    again: dict[str, Any] = {"settings": settings, "cache": cache, "redis": arq_redis}
    await startup(again)
    assert again["state"] is state  # the model is not loaded again
    assert state.executor is not old_threads
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(state.executor, lambda: 42) == 42
    async with state.sessions() as session:  # the store reconnects after its dispose
        assert (await session.execute(text("select 1"))).scalar() == 1
    await shutdown(again)
