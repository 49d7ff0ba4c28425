"""Checks through their life: created queued, run, finished with one verdict, replied to.

Every function is keyword-only, takes the session first and commits its own
change: each is one unit of work, and a bot or worker crashing between two
calls leaves the row in a state the next call understands. Finishing a check
is idempotent: a second verdict for a finished check is ignored, so a job that
runs twice (a worker killed mid-job) still leaves exactly one verdict.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from base.vocabulary import FINISHED, OPEN, PLATFORMS, REQUEST_KINDS, Label, Status
from db.columns import utcnow
from db.errors import CheckNotFound, InvalidValue
from db.models import Check
from db.verdicts import VerdictRecord


async def create_check(
    session: AsyncSession,
    *,
    platform: str,
    sha256: str,
    byte_size: int,
    request_kind: str = "auto",
    chat_id: str | None = None,
    chat_title: str | None = None,
    message_id: str | None = None,
    author_id: str | None = None,
    author_name: str | None = None,
    requested_by: str | None = None,
    media_kind: str | None = None,
    file_name: str | None = None,
    mime_type: str | None = None,
    reply_to: Mapping[str, Any] | None = None,
    job_id: str | None = None,
) -> Check:
    """Record a new check, ``queued``, with a fresh job id unless one is given.

    Raises:
        InvalidValue: an unknown platform or request kind.
    """
    if platform not in PLATFORMS:
        raise InvalidValue(f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)}")
    if request_kind not in REQUEST_KINDS:
        raise InvalidValue(
            f"unknown request kind {request_kind!r}; one of {', '.join(REQUEST_KINDS)}"
        )
    check = Check(
        job_id=job_id or uuid.uuid4().hex,
        platform=platform,
        chat_id=chat_id,
        chat_title=chat_title,
        message_id=message_id,
        author_id=author_id,
        author_name=author_name,
        request_kind=request_kind,
        requested_by=requested_by,
        media_kind=media_kind,
        file_name=file_name,
        mime_type=mime_type,
        byte_size=byte_size,
        sha256=sha256,
        reply_to=dict(reply_to) if reply_to is not None else None,
        status=Status.QUEUED,
        attempts=0,
        created_at=utcnow(),
    )
    session.add(check)
    await session.commit()
    return check


async def get_check(session: AsyncSession, *, check_id: int) -> Check | None:
    """The check with that id, read fresh from the database, or ``None``."""
    return await session.get(Check, check_id, populate_existing=True)


async def require_check(session: AsyncSession, *, check_id: int) -> Check:
    """Like :func:`get_check`, but a missing check is an error.

    Raises:
        CheckNotFound: no such check.
    """
    check = await get_check(session, check_id=check_id)
    if check is None:
        raise CheckNotFound(f"no check {check_id}")
    return check


async def get_check_by_job_id(session: AsyncSession, *, job_id: str) -> Check | None:
    """The check with that job id, or ``None`` (how a retried submission finds its row)."""
    rows = await session.scalars(
        select(Check).where(Check.job_id == job_id).execution_options(populate_existing=True)
    )
    return rows.first()


async def find_auto_check(
    session: AsyncSession, *, platform: str, chat_id: str, message_id: str, since: datetime
) -> Check | None:
    """The automatic check of a chat message made since ``since``, if any.

    How a bot recognises a message the platform handed out again after a restart.
    """
    rows = await session.scalars(
        select(Check)
        .where(
            Check.platform == platform,
            Check.chat_id == chat_id,
            Check.created_at >= since,
            Check.message_id == message_id,
            Check.request_kind == "auto",
        )
        .order_by(Check.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return rows.first()


async def get_checks(session: AsyncSession, *, check_ids: Sequence[int]) -> list[Check]:
    """The checks with these ids (missing ones left out), in id order."""
    if not check_ids:
        return []
    rows = await session.scalars(
        select(Check)
        .where(Check.id.in_(list(check_ids)))
        .order_by(Check.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def mark_running(session: AsyncSession, *, check_id: int) -> Check:
    """Mark an unfinished check ``running`` and count the attempt; a finished one is returned as is.

    Raises:
        CheckNotFound: no such check.
    """
    # The update comes first: on SQLite a write that follows a read in one
    # transaction can fail instead of waiting for the lock.
    await session.execute(
        update(Check)
        .where(Check.id == check_id, Check.status.in_(OPEN))
        .values(status=Status.RUNNING, started_at=utcnow(), attempts=Check.attempts + 1)
    )
    await session.commit()
    return await require_check(session, check_id=check_id)


async def store_verdict(
    session: AsyncSession,
    *,
    check_id: int,
    verdict: VerdictRecord,
    label: Label | None = None,
    deduplicated_from: int | None = None,
) -> Check:
    """Finish a check ``done`` with a verdict.

    Args:
        label: overrides the verdict's label (a chat's own thresholds decided it); the
            model's own is then kept in ``details`` as ``model_label``.
        deduplicated_from: the check whose verdict this one reuses.

    Returns:
        The check; unchanged when it was already finished (its first verdict stands).

    Raises:
        CheckNotFound: no such check.
    """
    overridden = label is not None and label != verdict.label
    details = replace(verdict.details, model_label=verdict.label if overridden else None)
    values: dict[str, Any] = {
        "status": Status.DONE,
        "label": label or verdict.label,
        "fake_probability": verdict.fake_probability,
        "faces": verdict.faces,
        "frames": verdict.frames,
        "model_id": verdict.model or None,
        "timings": dict(verdict.timings),
        "details": details.to_json(),
        "reason": verdict.reason,
        "reason_code": verdict.reason_code,
        "deduplicated_from": deduplicated_from,
        "finished_at": utcnow(),
    }
    if verdict.media_kind:
        values["media_kind"] = verdict.media_kind
    if verdict.phash is not None:
        values["phash"] = verdict.phash
    return await _finish(session, check_id=check_id, values=values)


async def mark_failed(
    session: AsyncSession,
    *,
    check_id: int,
    reason: str,
    reason_code: str,
    label: str = Label.ERROR,
    model_id: str | None = None,
    timings: Mapping[str, float] | None = None,
    media_kind: str | None = None,
) -> Check:
    """Finish a check ``failed`` with a reason a bot can show.

    Args:
        label: ``unsupported`` for media that cannot be judged, ``error`` otherwise.

    Returns:
        The check; unchanged when it was already finished.

    Raises:
        CheckNotFound: no such check.
    """
    values: dict[str, Any] = {
        "status": Status.FAILED,
        "label": label,
        "reason": reason,
        "reason_code": reason_code,
        "model_id": model_id,
        "timings": dict(timings or {}),
        "finished_at": utcnow(),
    }
    if media_kind:
        values["media_kind"] = media_kind
    return await _finish(session, check_id=check_id, values=values)


async def _finish(session: AsyncSession, *, check_id: int, values: dict[str, Any]) -> Check:
    # Only an open check can be finished: the first verdict wins, a re-run is a no-op.
    await session.execute(
        update(Check).where(Check.id == check_id, Check.status.in_(OPEN)).values(**values)
    )
    await session.commit()
    return await require_check(session, check_id=check_id)


async def find_done_by_hash(session: AsyncSession, *, sha256: str, model_id: str) -> Check | None:
    """The first check that judged these bytes with this model, or ``None``.

    Only original verdicts (not reused ones) count, so the chain is one step long.
    """
    row = await session.scalars(
        select(Check)
        .where(
            Check.sha256 == sha256,
            Check.model_id == model_id,
            Check.status == Status.DONE,
            Check.deduplicated_from.is_(None),
        )
        .order_by(Check.id)
        .limit(1)
    )
    return row.first()


async def unreplied_checks(
    session: AsyncSession, *, platform: str, limit: int = 100
) -> list[Check]:
    """Finished checks of a platform that carry reply details and were not answered yet.

    What a bot re-reads after a restart to answer what it missed, oldest first.
    """
    rows = await session.scalars(
        select(Check)
        .where(
            Check.platform == platform,
            Check.replied_at.is_(None),
            Check.reply_to.is_not(None),
            Check.status.in_(FINISHED),
        )
        .order_by(Check.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def mark_replied(session: AsyncSession, *, check_id: int, at: datetime | None = None) -> None:
    """Record that the bot answered (first answer wins).

    Raises:
        CheckNotFound: no such check.
    """
    result = await session.execute(
        update(Check)
        .where(Check.id == check_id, Check.replied_at.is_(None))
        .values(replied_at=at or utcnow())
    )
    await session.commit()
    if getattr(result, "rowcount", 1) == 0:
        await require_check(session, check_id=check_id)


async def update_reply_to(
    session: AsyncSession, *, check_id: int, reply_to: Mapping[str, Any]
) -> None:
    """Replace a check's reply details (e.g. once the bot's "analysing..." message exists)."""
    await session.execute(update(Check).where(Check.id == check_id).values(reply_to=dict(reply_to)))
    await session.commit()


async def keep_media(
    session: AsyncSession, *, check_id: int, path: str, expires_at: datetime
) -> None:
    """Record where a check's media is kept and until when."""
    await session.execute(
        update(Check)
        .where(Check.id == check_id)
        .values(media_path=path, media_expires_at=expires_at)
    )
    await session.commit()


async def expired_media(
    session: AsyncSession, *, now: datetime | None = None, limit: int = 500
) -> list[Check]:
    """Checks whose kept media is past its expiry."""
    rows = await session.scalars(
        select(Check)
        .where(Check.media_path.is_not(None), Check.media_expires_at <= (now or utcnow()))
        .order_by(Check.media_expires_at)
        .limit(limit)
    )
    return list(rows)


async def forget_media(session: AsyncSession, *, check_ids: Sequence[int]) -> None:
    """Clear the kept-media fields once the files are gone."""
    if not check_ids:
        return
    await session.execute(
        update(Check)
        .where(Check.id.in_(list(check_ids)))
        .values(media_path=None, media_expires_at=None)
    )
    await session.commit()


async def open_checks(
    session: AsyncSession, *, created_before: datetime, limit: int = 500
) -> list[Check]:
    """Checks still queued or running that were created before a time (for the lost-job sweep)."""
    rows = await session.scalars(
        select(Check)
        .where(Check.status.in_(OPEN), Check.created_at < created_before)
        .order_by(Check.id)
        .limit(limit)
    )
    return list(rows)
