"""A check's life in the store: queued, running, one verdict, replied; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from base.scores import Details, FaceScore
from base.vocabulary import Label
from db.checks import (
    create_check,
    find_done_by_hash,
    get_check,
    mark_failed,
    mark_replied,
    mark_running,
    require_check,
    store_verdict,
    unreplied_checks,
    update_reply_to,
)
from db.errors import CheckNotFound, InvalidValue
from db.models import Check
from db.verdicts import VerdictRecord

VERDICT = VerdictRecord(
    label=Label.FAKE,
    fake_probability=0.91,
    faces=2,
    frames=16,
    model="resnext-lstm@abc123",
    timings={"decode": 0.1, "detect": 0.2, "classify": 0.3},
    details=Details(
        face_scores=(
            FaceScore(
                track=0,
                fake_probability=0.91,
                frames=(0, 1),
                frame_scores=(0.9, 0.92),
                box=(1.0, 2.0, 30.0, 40.0),
            ),
        ),
        frame_scores=(0.9, 0.92),
        frame_times=(0.0, 0.5),
    ),
    media_kind="video",
)


async def test_lifecycle_queued_running_done(
    session: AsyncSession, sha: Callable[[int], str]
) -> None:
    check = await create_check(
        session,
        platform="telegram",
        chat_id="-100123",
        chat_title="Group",
        message_id="77",
        author_id="42",
        author_name="Ann",
        request_kind="command",
        requested_by="Bob",
        media_kind="video",
        mime_type="video/mp4",
        sha256=sha(1),
        byte_size=1234,
        reply_to={"chat_id": -100123, "message_id": 77},
    )
    assert (check.status, check.attempts, check.label) == ("queued", 0, None)
    assert check.created_at.tzinfo is not None
    assert len(check.job_id) == 32

    running = await mark_running(session, check_id=check.id)
    assert (running.status, running.attempts) == ("running", 1)
    assert running.started_at is not None

    done = await store_verdict(session, check_id=check.id, verdict=VERDICT)
    assert done.status == "done" and done.label == "fake"
    assert done.fake_probability == pytest.approx(0.91)
    assert (done.faces, done.frames, done.model_id) == (2, 16, "resnext-lstm@abc123")
    assert done.timings == VERDICT.timings
    assert done.details is not None
    assert done.details["frame_scores"] == [0.9, 0.92]
    assert done.details["face_scores"][0]["box"] == [1.0, 2.0, 30.0, 40.0]
    assert done.finished_at is not None and done.finished_at >= done.started_at  # type: ignore[operator]
    assert done.reply_to == {"chat_id": -100123, "message_id": 77}


async def test_the_first_verdict_stands(session: AsyncSession, sha: Callable[[int], str]) -> None:
    check = await create_check(session, platform="discord", sha256=sha(2), byte_size=10)
    await mark_running(session, check_id=check.id)
    await store_verdict(session, check_id=check.id, verdict=VERDICT)
    # A job that runs again (its worker was killed after storing) changes nothing.
    again = await store_verdict(
        session, check_id=check.id, verdict=replace(VERDICT, label=Label.REAL)
    )
    failed = await mark_failed(session, check_id=check.id, reason="late", reason_code="x")
    rerun = await mark_running(session, check_id=check.id)
    for c in (again, failed, rerun):
        assert (c.status, c.label, c.attempts) == ("done", "fake", 1)
    assert await session.scalar(select(func.count()).select_from(Check)) == 1


async def test_failed_with_reason(session: AsyncSession, sha: Callable[[int], str]) -> None:
    check = await create_check(session, platform="cli", sha256=sha(3), byte_size=5)
    failed = await mark_failed(
        session,
        check_id=check.id,
        reason="the file is damaged",
        reason_code="corrupt_media",
        label="unsupported",
        timings={"decode": 0.01},
    )
    assert (failed.status, failed.label, failed.reason_code) == (
        "failed",
        "unsupported",
        "corrupt_media",
    )
    assert failed.reason == "the file is damaged"


async def test_chat_thresholds_label_keeps_the_model_label(
    session: AsyncSession, sha: Callable[[int], str]
) -> None:
    check = await create_check(session, platform="telegram", sha256=sha(4), byte_size=5)
    done = await store_verdict(
        session, check_id=check.id, verdict=VERDICT, label=Label.INCONCLUSIVE
    )
    assert done.label == "inconclusive"
    assert done.details is not None and done.details["model_label"] == "fake"


async def test_find_done_by_hash(session: AsyncSession, sha: Callable[[int], str]) -> None:
    model = VERDICT.model
    assert await find_done_by_hash(session, sha256=sha(5), model_id=model) is None
    first = await create_check(session, platform="telegram", sha256=sha(5), byte_size=5)
    assert await find_done_by_hash(session, sha256=sha(5), model_id=model) is None  # not done
    await store_verdict(session, check_id=first.id, verdict=VERDICT)
    second = await create_check(session, platform="discord", sha256=sha(5), byte_size=5)
    await store_verdict(session, check_id=second.id, verdict=VERDICT, deduplicated_from=first.id)
    found = await find_done_by_hash(session, sha256=sha(5), model_id=model)
    assert found is not None and found.id == first.id
    assert await find_done_by_hash(session, sha256=sha(5), model_id="other@1") is None
    assert await find_done_by_hash(session, sha256=sha(6), model_id=model) is None


async def test_unreplied_and_mark_replied(session: AsyncSession, sha: Callable[[int], str]) -> None:
    reply = {"chat_id": 1, "message_id": 2}
    a = await create_check(session, platform="telegram", sha256=sha(7), byte_size=1, reply_to=reply)
    b = await create_check(session, platform="telegram", sha256=sha(8), byte_size=1, reply_to=reply)
    c = await create_check(session, platform="discord", sha256=sha(9), byte_size=1, reply_to=reply)
    d = await create_check(session, platform="telegram", sha256=sha(10), byte_size=1)  # no reply_to
    for check in (a, b, c, d):
        await store_verdict(session, check_id=check.id, verdict=VERDICT)
    queued = await create_check(
        session, platform="telegram", sha256=sha(11), byte_size=1, reply_to=reply
    )
    assert [x.id for x in await unreplied_checks(session, platform="telegram")] == [a.id, b.id]
    await mark_replied(session, check_id=a.id)
    assert [x.id for x in await unreplied_checks(session, platform="telegram")] == [b.id]
    await update_reply_to(session, check_id=queued.id, reply_to={**reply, "status_message_id": 9})
    assert (await require_check(session, check_id=queued.id)).reply_to == {
        **reply,
        "status_message_id": 9,
    }
    with pytest.raises(CheckNotFound):
        await mark_replied(session, check_id=999_999)


async def test_hostile_text_is_stored_as_text(
    session: AsyncSession, sha: Callable[[int], str]
) -> None:
    title = "x'); DROP TABLE checks; --"
    check = await create_check(
        session,
        platform="telegram",
        chat_title=title,
        author_name="%_\\",
        sha256=sha(12),
        byte_size=1,
    )
    again = await get_check(session, check_id=check.id)
    assert again is not None and again.chat_title == title and again.author_name == "%_\\"


@pytest.mark.parametrize(("platform", "kind"), [("irc", "auto"), ("telegram", "pigeon")])
async def test_unknown_platform_or_request_kind(
    session: AsyncSession, sha: Callable[[int], str], platform: str, kind: str
) -> None:
    with pytest.raises(InvalidValue):
        await create_check(
            session, platform=platform, request_kind=kind, sha256=sha(13), byte_size=1
        )


async def test_missing_check(session: AsyncSession) -> None:
    assert await get_check(session, check_id=424242) is None
    with pytest.raises(CheckNotFound):
        await mark_running(session, check_id=424242)
