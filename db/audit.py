"""Audit queries: what was checked where, by whom, with what outcome.

Filters are a frozen :class:`AuditFilter`; every value reaches the database as a
bound parameter. A chat filter matches the chat and its sub-chats: ``"123"``
finds Discord guild 123's checks whether they were stored as ``"123"`` or as
``"123:<channel>"``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.columns import utcnow
from db.errors import InvalidValue
from db.models import Check, Review

PENDING = "pending"  # the label bucket of checks not finished yet
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; ``None`` means any."""

    platform: str | None = None
    chat: str | None = None
    author: str | None = None  # an author id, or a display name (case-insensitive)
    # The chat commands match only what a poster cannot choose to imitate someone:
    author_id: str | None = None  # exactly this author id
    author_username: str | None = None  # the @username stored with the check (no "@")
    label: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    reviewed: bool | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of checks, newest first, and how many match in all."""

    checks: list[Check]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        """Whether a next page exists."""
        return self.offset + len(self.checks) < self.total


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"2w"`` ago, or an ISO date/time (UTC if no zone).

    Raises:
        InvalidValue: neither form.
    """
    m = _SPAN.match(text)
    if m:
        amount = float(m.group(1))
        return (now or utcnow()) - timedelta(**{_UNITS[m.group(2)]: amount})
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise InvalidValue(
            f"{text!r} is neither a span like 7d, 12h, 30m nor an ISO date/time"
        ) from e
    if value.tzinfo is None:
        value = value.replace(tzinfo=now.tzinfo if now else utcnow().tzinfo)
    return value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _refuse_nul(f: AuditFilter) -> None:
    # PostgreSQL text cannot hold NUL: say so instead of failing deep in the driver.
    for name in ("platform", "chat", "author", "author_id", "author_username", "label", "status"):
        value = getattr(f, name)
        if isinstance(value, str) and "\x00" in value:
            raise InvalidValue(f"the {name} filter contains a NUL character")


def conditions(f: AuditFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter.

    Raises:
        InvalidValue: a value holds a NUL character.
    """
    _refuse_nul(f)
    where: list[ColumnElement[bool]] = []
    if f.platform is not None:
        where.append(Check.platform == f.platform)
    if f.chat is not None:
        where.append(
            or_(
                Check.chat_id == f.chat,
                Check.chat_id.like(_escape_like(f.chat) + ":%", escape="\\"),
            )
        )
    if f.author is not None:
        where.append(
            or_(Check.author_id == f.author, func.lower(Check.author_name) == f.author.lower())
        )
    if f.author_id is not None:
        where.append(Check.author_id == f.author_id)
    if f.author_username is not None:
        # Kept with the reply's context (bots store it there); usernames ignore case.
        username = Check.reply_to["author_username"].as_string()
        where.append(func.lower(username) == f.author_username.lower())
    if f.label == PENDING:
        where.append(Check.label.is_(None))
    elif f.label is not None:
        where.append(Check.label == f.label)
    if f.status is not None:
        where.append(Check.status == f.status)
    if f.since is not None:
        where.append(Check.created_at >= f.since)
    if f.until is not None:
        where.append(Check.created_at < f.until)
    if f.reviewed is not None:
        has_review = exists().where(Review.check_id == Check.id)
        where.append(has_review if f.reviewed else ~has_review)
    return where


def select_checks(f: AuditFilter) -> Select[Check]:
    """Matching checks, newest first."""
    return (
        select(Check)
        .where(and_(True, *conditions(f)))
        .order_by(Check.created_at.desc(), Check.id.desc())
    )


async def query_checks(
    session: AsyncSession, *, filters: AuditFilter | None = None, limit: int = 50, offset: int = 0
) -> AuditPage:
    """One page of matching checks and the total count.

    Raises:
        InvalidValue: a negative offset or a limit outside 1..10000.
    """
    if not 1 <= limit <= 10_000 or offset < 0:
        raise InvalidValue(f"bad paging: limit {limit}, offset {offset}")
    f = filters or AuditFilter()
    total = await session.scalar(
        select(func.count()).select_from(Check).where(and_(True, *conditions(f)))
    )
    rows = await session.scalars(select_checks(f).limit(limit).offset(offset))
    return AuditPage(checks=list(rows), total=int(total or 0), limit=limit, offset=offset)


async def count_by_label(
    session: AsyncSession, *, filters: AuditFilter | None = None
) -> dict[str, int]:
    """How many matching checks carry each label (unfinished ones under ``"pending"``)."""
    f = filters or AuditFilter()
    rows = await session.execute(
        select(Check.label, func.count()).where(and_(True, *conditions(f))).group_by(Check.label)
    )
    counts = {(label or PENDING): int(n) for label, n in rows}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


async def iter_checks(
    session: AsyncSession, *, filters: AuditFilter | None = None, batch: int = 500
) -> AsyncIterator[Check]:
    """Every matching check, newest first (the order of :func:`query_checks`), in batches.

    Pages by the last row seen rather than by offset, so rows arriving meanwhile do not
    shift the pages.
    """
    f = filters or AuditFilter()
    last: Check | None = None
    while True:
        query = select_checks(f)
        if last is not None:
            query = query.where(
                or_(
                    Check.created_at < last.created_at,
                    and_(Check.created_at == last.created_at, Check.id < last.id),
                )
            )
        rows = list(await session.scalars(query.limit(batch)))
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        last = rows[-1]
