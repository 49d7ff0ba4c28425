"""The ``analyze`` job and the housekeeping jobs, run in this process on real Redis, a real
SQLite store and the real model code (small random weights)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import torch
from arq import Retry
from arq.connections import ArqRedis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from base.settings import Settings
from db.chat_settings import update_chat_settings
from db.checks import create_check, require_check
from db.columns import utcnow
from db.models import Check
from db.store import Store
from inference.pipeline import Pipeline
from queue_worker.contracts import ANALYZE, CheckResult, job_id
from queue_worker.tasks import WorkerState, analyze, fail_lost_checks, purge_media
from tests.queue_worker.media import corrupt_mp4, face_jpeg

Submit = Callable[..., Coroutine[Any, Any, Check]]


@pytest.fixture
async def state(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    pipeline: Pipeline,
    arq_redis: ArqRedis,
) -> AsyncIterator[WorkerState]:
    """What the worker's startup would build, around the session's pipeline."""
    executor = ThreadPoolExecutor(max_workers=2)
    yield WorkerState(
        settings=settings,
        store=Store(sessions.kw["bind"]),
        pipeline=pipeline,
        executor=executor,
        redis=arq_redis,
    )
    executor.shutdown(wait=True)


@pytest.fixture
def submit(sessions: async_sessionmaker[AsyncSession]) -> Submit:
    """Store a queued check for some bytes, as the client does."""
    import hashlib

    async def make(media: bytes, **context: Any) -> Check:
        async with sessions() as s:
            return await create_check(
                s,
                platform=context.pop("platform", "telegram"),
                sha256=hashlib.sha256(media).hexdigest(),
                byte_size=len(media),
                **context,
            )

    return make


async def run(state: WorkerState, check: Check, media: bytes, job_try: int = 1) -> CheckResult:
    out = await analyze({"state": state, "job_try": job_try}, check.id, media)
    assert out is not None
    return CheckResult.from_dict(out)


async def stored(sessions: async_sessionmaker[AsyncSession], check_id: int) -> Check:
    async with sessions() as s:
        return await require_check(s, check_id=check_id)


async def test_analyze_stores_one_verdict(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    media = face_jpeg(1)
    check = await submit(media, chat_id="-1")
    result = await run(state, check, media)
    assert result.status == "done" and result.label in ("fake", "real", "inconclusive")
    assert result.faces == 1 and result.frames == 1 and result.model == state.model_id
    assert {"decode", "detect", "classify"} <= set(result.timings)
    assert not result.deduplicated
    row = await stored(sessions, check.id)
    assert row.attempts == 1 and row.phash is not None and len(row.phash) == 16
    assert row.details is not None and len(row.details["frame_scores"]) == 1
    assert row.media_path is None  # retention 0: nothing kept
    assert not (state.settings.data_dir / "media").exists()

    # The job runs again (its worker died before arq saw it finish): the verdict stands.
    again = await run(state, check, media, job_try=2)
    assert again == result
    assert (await stored(sessions, check.id)).attempts == 1


async def test_same_bytes_reuse_the_verdict(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    media = face_jpeg(2)
    first = await submit(media, chat_id="-1", author_id="a")
    second = await submit(media, chat_id="-2", author_id="b")
    r1 = await run(state, first, media)
    r2 = await run(state, second, media)
    assert r2.deduplicated and not r1.deduplicated
    assert r2.timings == {}  # no stage ran
    assert (r2.label, r2.fake_probability, r2.faces) == (r1.label, r1.fake_probability, r1.faces)
    row = await stored(sessions, second.id)
    assert row.deduplicated_from == first.id and row.author_id == "b" and row.chat_id == "-2"
    assert row.details == (await stored(sessions, first.id)).details


async def test_same_bytes_at_once_run_inference_once(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    media = face_jpeg(3)
    checks = [await submit(media) for _ in range(3)]
    results = await asyncio.gather(*(run(state, c, media) for c in checks))
    assert sorted(r.deduplicated for r in results) == [False, True, True]
    judged = next(r for r in results if not r.deduplicated)
    rows = [await stored(sessions, c.id) for c in checks]
    assert {r.deduplicated_from for r in rows} == {None, judged.check_id}
    assert not await state.redis.keys(f"{state.settings.queue_name}:lock:*")  # released


async def test_chat_thresholds_decide_the_label(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as s:
        await update_chat_settings(
            s, platform="telegram", chat_id="strict", fake_threshold=0.0, real_threshold=0.0
        )
        await update_chat_settings(
            s, platform="telegram", chat_id="lax", fake_threshold=1.0, real_threshold=1.0
        )
    media = face_jpeg(4)
    strict = await run(state, await submit(media, chat_id="strict"), media)
    lax = await run(state, await submit(media, chat_id="lax"), media)
    assert strict.label == "fake" and lax.label == "real"  # random weights give 0 < p < 1
    assert strict.fake_probability == lax.fake_probability and lax.deduplicated


async def test_retention_keeps_media_until_it_expires(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as s:
        await update_chat_settings(s, platform="discord", chat_id="g", retention_days=3)
    media = face_jpeg(5)
    check = await submit(media, platform="discord", chat_id="g:c", file_name="a.jpg")
    await run(state, check, media)
    row = await stored(sessions, check.id)
    assert row.media_path is not None and row.media_expires_at is not None
    kept = Path(row.media_path)
    assert kept.read_bytes() == media and kept.suffix == ".jpg"
    assert kept.is_relative_to(state.settings.data_dir / "media")
    assert timedelta(days=2.9) < row.media_expires_at - utcnow() <= timedelta(days=3)

    assert await purge_media({"state": state}) == 0  # not expired yet
    assert kept.exists()
    async with sessions() as s:
        await s.execute(
            update(Check)
            .where(Check.id == check.id)
            .values(media_expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    assert await purge_media({"state": state}) == 1
    assert not kept.exists()
    row = await stored(sessions, check.id)
    assert row.media_path is None and row.media_expires_at is None


async def test_corrupt_media_fails_with_its_reason(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    media = corrupt_mp4()
    check = await submit(media, mime_type="video/mp4")
    result = await run(state, check, media)
    assert (result.status, result.label, result.reason_code) == (
        "failed",
        "unsupported",
        "corrupt_media",
    )
    assert result.reason and "damaged" in result.reason


async def test_too_many_bytes_in_the_job(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    media = face_jpeg(6)
    check = await submit(media)
    state.settings = state.settings.model_copy(update={"max_media_bytes": len(media) - 1})
    result = await run(state, check, media)
    assert (result.status, result.reason_code) == ("failed", "too_many_bytes")


async def test_an_inference_error_is_retried_then_stored(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The real pipeline, pointed at a device that cannot run: every try fails in classify.
    broken = copy.copy(state.pipeline)
    broken.device = torch.device("meta")
    state.pipeline = broken
    media = face_jpeg(7)
    check = await submit(media)
    for job_try in range(1, state.settings.job_tries):
        with pytest.raises(Retry):
            await analyze({"state": state, "job_try": job_try}, check.id, media)
        row = await stored(sessions, check.id)
        assert (row.status, row.attempts) == ("running", job_try)
    result = await run(state, check, media, job_try=state.settings.job_tries)
    assert (result.status, result.label, result.reason_code) == (
        "failed",
        "error",
        "inference_error",
    )
    assert result.reason and result.reason.startswith("gave up after 3 tries")


async def test_an_unreachable_store_is_retried(state: WorkerState, submit: Submit) -> None:
    media = face_jpeg(8)
    check = await submit(media)
    engine = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/fw.sqlite3")
    state.store = Store(engine)  # a store that cannot be opened
    state.outage_wait_s = 0.5  # waited out within the try first, then a try is spent
    with pytest.raises(Retry):
        await analyze({"state": state, "job_try": 1}, check.id, media)
    await engine.dispose()


async def test_a_short_store_outage_is_waited_out_within_the_try(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    media = face_jpeg(10)
    check = await submit(media)
    engine = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/fw.sqlite3")
    state.store = Store(engine)  # a store that cannot be opened

    async def restore() -> None:
        await asyncio.sleep(1.0)
        state.store = Store(sessions.kw["bind"])  # the store is back

    back = asyncio.create_task(restore())
    result = await analyze({"state": state, "job_try": 1}, check.id, media)  # no Retry
    await back
    await engine.dispose()
    assert result is not None and result["status"] == "done"
    assert (await stored(sessions, check.id)).attempts == 1


async def test_a_bug_is_stored_as_an_internal_error_and_raised(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    media = face_jpeg(9)
    check = await submit(media)
    state.executor.shutdown()  # "cannot schedule new futures after shutdown"
    with pytest.raises(RuntimeError):
        await analyze({"state": state, "job_try": 1}, check.id, media)
    row = await stored(sessions, check.id)
    assert (row.status, row.reason_code) == ("failed", "internal_error")


async def test_a_missing_check_is_dropped(state: WorkerState) -> None:
    assert await analyze({"state": state, "job_try": 1}, 123456, b"x") is None


async def test_lost_checks_are_failed(
    state: WorkerState, submit: Submit, sessions: async_sessionmaker[AsyncSession]
) -> None:
    lost = await submit(face_jpeg(10))
    queued = await submit(face_jpeg(11))
    recent = await submit(face_jpeg(12))
    async with sessions() as s:
        await s.execute(
            update(Check)
            .where(Check.id.in_([lost.id, queued.id]))
            .values(created_at=utcnow() - timedelta(minutes=10))
        )
        await s.commit()
    # Only ``queued`` still has its job in Redis.
    await state.redis.enqueue_job(
        ANALYZE, queued.id, b"", _job_id=job_id(state.settings.queue_name, queued.job_id)
    )
    assert await fail_lost_checks({"state": state}) == 1
    assert (await stored(sessions, lost.id)).reason_code == "job_lost"
    assert (await stored(sessions, queued.id)).status == "queued"
    assert (await stored(sessions, recent.id)).status == "queued"
