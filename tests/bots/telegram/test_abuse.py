"""Abuse limits through the real Telegram bot, Redis and store: per-user and per-chat rates,
the queue-depth limit, one polite notice per flood, and nothing queued past a limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select

from base.settings import Settings
from bots.core import formatting
from bots.core.services import BotServices
from bots.telegram.app import build_application, running
from db.models import Check
from tests.bots.telegram.conftest import WorkerRunner
from tests.bots.telegram_fake import GROUP, Call, FakeTelegram, message, photo_sizes, user
from tests.reliability.harness import distinct_jpeg

ALICE = user(7101, "Alice")


@asynccontextmanager
async def bot(settings: Settings) -> AsyncIterator[None]:
    async with running(build_application(settings)):
        yield


def post(fake: FakeTelegram, n: int, sender: dict[str, Any]) -> dict[str, Any]:
    msg = message(fake, chat=GROUP, sender=sender, photo=photo_sizes(fake, distinct_jpeg(n)))
    fake.push("message", msg)
    return msg


def replies_to(fake: FakeTelegram, posts: list[dict[str, Any]]) -> dict[int, list[Call]]:
    ids = {p["message_id"] for p in posts}
    out: dict[int, list[Call]] = {i: [] for i in ids}
    for c in fake.sent("sendMessage"):
        target = (c.params.get("reply_parameters") or {}).get("message_id")
        if target in ids:
            out[target].append(c)
    return out


async def settle(fake: FakeTelegram, posts: list[dict[str, Any]], answered: int) -> None:
    """Wait until ``answered`` of the posts have a reply, then a little for any stray one."""
    for _ in range(600):
        if sum(bool(r) for r in replies_to(fake, posts).values()) >= answered:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)


async def stored_checks(settings: Settings) -> int:
    services = await BotServices.connect(settings, migrate=False)
    try:
        async with services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Check)) or 0)
    finally:
        await services.close()


async def queue_depth(settings: Settings) -> int:
    services = await BotServices.connect(settings, migrate=False)
    try:
        return await services.client.queue_depth()
    finally:
        await services.close()


async def test_a_user_past_the_rate_gets_one_notice_and_no_more_checks(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner
) -> None:
    limited = settings.model_copy(update={"user_checks_per_minute": 2})
    async with bot(limited):
        posts = [post(fake, 200 + n, ALICE) for n in range(5)]
        await settle(fake, posts, answered=3)
        replies = replies_to(fake, posts)
    texts = [c.params["text"] for calls in replies.values() for c in calls]
    assert texts.count(formatting.WORKING) == 2  # two checks started
    notices = [t for t in texts if t.startswith("⏳")]
    assert len(notices) == 1 and "2 a minute for one person" in notices[0]
    assert sum(not calls for calls in replies.values()) == 2  # the rest: silence
    assert await stored_checks(limited) == 2


async def test_a_busy_chat_gets_one_notice_whoever_posts(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner
) -> None:
    limited = settings.model_copy(update={"chat_checks_per_minute": 3})
    async with bot(limited):
        posts = [post(fake, 300 + n, user(7200 + n, f"Raider{n}")) for n in range(6)]
        await settle(fake, posts, answered=4)
        replies = replies_to(fake, posts)
    texts = [c.params["text"] for calls in replies.values() for c in calls]
    assert texts.count(formatting.WORKING) == 3
    notices = [t for t in texts if t.startswith("⏳")]
    assert len(notices) == 1 and "3 files a minute in one chat" in notices[0]
    assert await stored_checks(limited) == 3


async def test_a_full_queue_pushes_back_until_the_workers_catch_up(
    fake: FakeTelegram, settings: Settings
) -> None:
    limited = settings.model_copy(update={"max_queue_depth": 2})
    async with bot(limited):
        # No worker yet: two checks fill the queue, the rest are refused politely.
        first = [post(fake, 400 + n, user(7300 + n, f"User{n}")) for n in range(2)]
        await settle(fake, first, answered=2)
        later = [post(fake, 410 + n, user(7310 + n, f"Later{n}")) for n in range(3)]
        await settle(fake, later, answered=1)
        replies = replies_to(fake, later)
        texts = [c.params["text"] for calls in replies.values() for c in calls]
        assert len(texts) == 1 and "very busy" in texts[0]
        assert await stored_checks(limited) == 2

        runner = WorkerRunner(limited)
        await runner.start()
        try:
            # Caught up: both verdicts delivered and arq has taken both jobs off the queue
            # (it does so just after the verdict is stored, so the edits alone may come first).
            for _ in range(1200):
                if len(fake.sent("editMessageText")) >= 2 and await queue_depth(limited) < 2:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the worker did not drain the queue in 120 s")
            # The queue drained: a new post is checked again.
            again = [post(fake, 420, user(7320, "After"))]
            await settle(fake, again, answered=1)
            assert replies_to(fake, again)[again[0]["message_id"]][0].params["text"] == (
                formatting.WORKING
            )
        finally:
            await runner.stop()
    assert len(fake.sent("editMessageText")) >= 2
