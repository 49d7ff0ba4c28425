"""One label per check, decided once: the bot's reply, the audit log and the stored row agree
even when a moderator changes the chat's thresholds while the check is under way.

The real flow: the bot's :class:`CheckFlow` over the real bot backend (``BotServices``: the queue
client, Redis, the SQLite store), the ``analyze`` job run in this process on the real model
code (small random weights), and the bot's own reply formatting.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.settings import Settings
from base.vocabulary import Label
from bots.core import formatting
from bots.core.flow import CheckFlow, Reply
from bots.core.media import Request
from bots.core.ports import AuditQuery
from bots.core.services import BotServices
from db.checks import require_check
from db.models import Check
from db.store import Store
from inference.pipeline import Pipeline
from inference.verdict import Verdict
from queue_worker.tasks import WorkerState, analyze
from tests.bots.fakes import FakeConversation
from tests.bots.fakes import media as media_item
from tests.queue_worker.media import face_jpeg

CHAT = "-100777"
# Nothing short of certainty is fake, everything else real: what the bot reads first.
LENIENT = {"fake_threshold": 1.0, "real_threshold": 1.0}
# Everything is fake: what a moderator sets while the check is under way.
STRICT = {"fake_threshold": 0.0, "real_threshold": 0.0}


@dataclass
class GatedPipeline:
    """The real pipeline, held at the start of ``analyze`` until the test lets it go."""

    inner: Pipeline
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def analyze(self, media: bytes) -> Verdict:
        self.started.set()
        assert self.release.wait(60), "the test never released the pipeline"
        return self.inner.analyze(media)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[BotServices]:
    """The bots' real backend on the test Redis and store."""
    backend = await BotServices.connect(settings, migrate=False)
    yield backend
    await backend.close()


@pytest.mark.parametrize("when", ["queued", "running"])
async def test_reply_and_audit_carry_one_label_after_a_threshold_change_mid_check(
    when: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    pipeline: Pipeline,
    arq_redis: ArqRedis,
    services: BotServices,
) -> None:
    await services.moderation.update_policy(
        platform="telegram", chat_id=CHAT, changes=LENIENT, updated_by="mod"
    )
    gated = GatedPipeline(pipeline)
    executor = ThreadPoolExecutor(max_workers=1)
    state = WorkerState(
        settings=settings,
        store=Store(sessions.kw["bind"]),
        pipeline=gated,  # type: ignore[arg-type]
        executor=executor,
        redis=arq_redis,
    )
    flow = CheckFlow(
        platform="telegram",
        queue=services.queue,
        store=services.chats,
        max_bytes=settings.max_media_bytes,
        wait_timeout=60,
    )
    media = face_jpeg(3)
    conversation = FakeConversation()
    queued = asyncio.Event()
    # The bot reads the chat's (lenient) settings, stores and queues the check, waits.
    bot = asyncio.create_task(
        flow.run(
            media_item(data=media, size=len(media), chat_id=CHAT),
            request=Request(kind="command", requested_by="7001"),
            conversation=conversation,
            queued=queued.set,
        )
    )
    try:
        await asyncio.wait_for(queued.wait(), 30)
        async with sessions() as session:
            check_id = await session.scalar(
                select(Check.id)
                .where(Check.chat_id == CHAT, Check.message_id == "42")
                .order_by(Check.id.desc())
            )
        assert check_id is not None
        strict = services.moderation.update_policy(
            platform="telegram", chat_id=CHAT, changes=STRICT, updated_by="mod"
        )
        if when == "queued":
            await strict  # before the worker takes the job
            job = asyncio.create_task(analyze({"state": state, "job_try": 1}, check_id, media))
        else:
            job = asyncio.create_task(analyze({"state": state, "job_try": 1}, check_id, media))
            assert await asyncio.to_thread(gated.started.wait, 30)
            await strict  # while the model runs
        gated.release.set()
        await asyncio.wait_for(job, 60)
        reply = await asyncio.wait_for(bot, 60)
    finally:
        gated.release.set()
        executor.shutdown(wait=True)

    async with sessions() as session:
        row = await require_check(session, check_id=check_id)
    assert row.status == "done" and row.faces == 1
    # Decided once, as it was stored, under the thresholds of that moment...
    assert row.label == Label.FAKE
    # ...and the reply and the audit log say what is stored, never deciding again.
    assert isinstance(reply, Reply) and reply.label == row.label
    delivered = [e[1] for e in conversation.events if e[0] == "deliver"]
    assert [r.text for r in delivered] == [reply.text]
    assert reply.text.startswith("⚠️ Likely a deepfake")
    outcome = await services.queue.get(check_id)
    assert outcome is not None and reply.text == formatting.verdict_text(outcome)
    entries, counts = await services.moderation.audit(
        platform="telegram", chat_id=CHAT, query=AuditQuery()
    )
    assert [(e.check_id, e.label) for e in entries] == [(check_id, row.label)]
    assert counts == {row.label: 1}
