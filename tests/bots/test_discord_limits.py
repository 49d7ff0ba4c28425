"""The abuse limits on Discord: the real bot against the fake Discord, with the real queue,
store and worker; a member posting faster than the per-user rate gets one notice."""

from __future__ import annotations

import asyncio
import re

from base.settings import Settings
from queue_worker.client import QueueClient
from tests.bots.discord_fake import FakeDiscord
from tests.bots.discord_fixtures import fake_discord  # noqa: F401 (fixture)
from tests.bots.discord_service import (  # noqa: F401 (fixtures)
    Service,
    running_bot,
    service,
)
from tests.reliability.harness import distinct_jpeg

VERDICT = re.compile(r"check \d+")


def replies(fake: FakeDiscord, ids: set[str]) -> list[str]:
    return [
        str(r.body.get("content", ""))
        for r in fake.log
        if r.kind == "rest"
        and r.method == "POST"
        and isinstance(r.body, dict)
        and str((r.body.get("message_reference") or {}).get("message_id")) in ids
    ]


async def test_a_member_past_the_rate_gets_one_notice(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
) -> None:
    fake = fake_discord
    settings = service.settings(fake, user_checks_per_minute=2)
    # The limits are the queue client's settings, as in `fakewatch discord`.
    queue = await QueueClient.connect(settings, migrate=False)
    try:
        await _burst(fake, queue, settings)
    finally:
        await queue.close()


async def _burst(fake: FakeDiscord, queue: QueueClient, settings: Settings) -> None:
    async with running_bot(fake, queue, settings):
        ids = set()
        for n in range(5):
            upload = fake.upload(distinct_jpeg(5000 + n), f"p{n}.jpg", "image/jpeg")
            ids.add((await fake.post_message(author="member", attachments=[upload]))["id"])
        for _ in range(1800):
            if len([t for t in replies(fake, ids) if VERDICT.search(t)]) >= 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        texts = replies(fake, ids)
    assert len([t for t in texts if VERDICT.search(t)]) == 2  # two verdicts
    notices = [t for t in texts if t.startswith("⏳")]
    assert len(notices) == 1 and "2 a minute for one person" in notices[0]
    assert len(texts) == 3  # and silence for the rest
    assert sum(fake.downloads.values()) == 2, fake.downloads  # nothing fetched past the limit
