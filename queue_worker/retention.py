"""Media retention: bytes are dropped after analysis unless the chat keeps them for N days.

Kept files live under ``<data dir>/media/<yyyy>/<mm>/<dd>/<check id>-<sha256 prefix><ext>``;
the check row records the path and the expiry, and :func:`purge_expired_media`
(an hourly worker cron job) deletes what is past it.

The media also travels in the job, through Redis. A finished job's keys are deleted
at once, but an append-only Redis keeps every write in its file until the file is
rewritten, which Redis itself only does once the file has doubled (64 MB at the
least): :func:`compact_redis` has it rewritten every hour, so no photo outlives its
check on the Redis host's disk by more than that.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
from datetime import datetime, timedelta
from pathlib import Path, PurePath

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.checks import expired_media, forget_media, keep_media
from db.columns import utcnow
from db.models import Check

log = logging.getLogger(__name__)


def media_root(data_dir: Path) -> Path:
    """Where kept media goes."""
    return data_dir / "media"


def _suffix(check: Check) -> str:
    if check.file_name:
        suffix = PurePath(check.file_name).suffix.lower()
        if suffix.isascii() and 1 < len(suffix) <= 6 and suffix[1:].isalnum():
            return suffix
    if check.mime_type:
        return mimetypes.guess_extension(check.mime_type) or ".bin"
    return ".bin"


def media_path(data_dir: Path, check: Check, *, now: datetime) -> Path:
    """Where a check's media is kept (the name never comes from user input but the suffix)."""
    day = now.strftime("%Y/%m/%d")
    return media_root(data_dir) / day / f"{check.id}-{check.sha256[:16]}{_suffix(check)}"


def _write_private(path: Path, media: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(media)
    tmp.replace(path)  # readers never see half a file


async def keep_media_file(
    session: AsyncSession, *, data_dir: Path, check: Check, media: bytes, days: int
) -> Path:
    """Write a check's media and record it, to be deleted ``days`` from now."""
    now = utcnow()
    path = media_path(data_dir, check, now=now)
    await asyncio.to_thread(_write_private, path, media)
    await keep_media(
        session, check_id=check.id, path=str(path), expires_at=now + timedelta(days=days)
    )
    return path


async def purge_expired_media(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime | None = None
) -> int:
    """Delete kept media past its expiry; returns how many files went."""
    removed = 0
    async with sessions() as session:
        while True:
            checks = await expired_media(session, now=now)
            if not checks:
                return removed
            for check in checks:
                if check.media_path:
                    Path(check.media_path).unlink(missing_ok=True)
                    removed += 1
            await forget_media(session, check_ids=[c.id for c in checks])
            log.info("purged %d expired media files", len(checks))


async def compact_redis(redis: Redis) -> bool:
    """Have an append-only Redis rewrite its file, dropping finished jobs' media from disk.

    Returns:
        Whether a rewrite was started (not when Redis keeps no such file, when one is
        already running, or when a managed Redis refuses the commands).
    """
    try:
        config = await redis.config_get("appendonly")
        if config.get("appendonly") != "yes":
            return False
        await redis.bgrewriteaof()
    except RedisError as e:
        log.info("Redis's append-only file was not rewritten: %s", e)
        return False
    log.info("asked Redis to rewrite its append-only file")
    return True
