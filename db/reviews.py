"""Moderators' reviews of checks: the audit trail of overrides."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from base.vocabulary import DECISIONS
from db.checks import require_check
from db.columns import utcnow
from db.errors import InvalidValue
from db.models import Review


async def add_review(
    session: AsyncSession,
    *,
    check_id: int,
    moderator_id: str,
    decision: str,
    moderator_name: str | None = None,
    note: str | None = None,
) -> Review:
    """Record a moderator's decision (``fake``, ``real`` or ``dismissed``) on a check.

    Raises:
        InvalidValue: an unknown decision.
        CheckNotFound: no such check.
    """
    if decision not in DECISIONS:
        raise InvalidValue(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
    await require_check(session, check_id=check_id)
    review = Review(
        check_id=check_id,
        moderator_id=moderator_id,
        moderator_name=moderator_name,
        decision=decision,
        note=note,
        created_at=utcnow(),
    )
    session.add(review)
    await session.commit()
    return review


async def reviews_of(session: AsyncSession, *, check_id: int) -> list[Review]:
    """A check's reviews, oldest first."""
    rows = await session.scalars(
        select(Review).where(Review.check_id == check_id).order_by(Review.created_at, Review.id)
    )
    return list(rows)


async def latest_decisions(session: AsyncSession, *, check_ids: list[int]) -> dict[int, str]:
    """The newest review decision of each of these checks that has one."""
    if not check_ids:
        return {}
    rows = await session.execute(
        select(Review.check_id, Review.decision)
        .where(Review.check_id.in_(check_ids))
        .order_by(Review.check_id, Review.created_at, Review.id)
    )
    return {check_id: decision for check_id, decision in rows}
