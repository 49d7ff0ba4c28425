"""The statistics page: checks and fake share per day and per chat.

The fake share is the part of *finished* checks labelled ``fake``; unfinished
checks count in the totals only. Days are UTC days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from base.vocabulary import FINISHED, Label
from dashboard import charts
from dashboard.auth import SignedIn
from dashboard.services import Services, services
from dashboard.view import render
from db.audit import AuditFilter, count_by_label
from db.columns import utcnow
from db.models import Check

router = APIRouter()
PERIODS = (7, 30, 90, 365)
TOP_CHATS = 15


@dataclass(frozen=True)
class DayCount:
    """Checks made on one UTC day."""

    day: date
    total: int
    finished: int
    fake: int


@dataclass(frozen=True)
class ChatCount:
    """Checks made in one chat."""

    platform: str
    chat_id: str | None
    title: str | None
    total: int
    finished: int
    fake: int

    @property
    def name(self) -> str:
        """The chat's title, else its id, with the platform."""
        return f"{self.platform}: {self.title or self.chat_id or '(direct)'}"


def _day_expression(session: AsyncSession) -> ColumnElement[Any]:
    # SQLite keeps naive UTC text; PostgreSQL a timestamptz that is turned to UTC first
    # (the server's own time zone may be anything).
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Check.created_at), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", Check.created_at)


def _finished() -> ColumnElement[int]:
    return func.sum(case((Check.status.in_(FINISHED), 1), else_=0))


def _fake() -> ColumnElement[int]:
    return func.sum(case((Check.label == Label.FAKE, 1), else_=0))


async def per_day(session: AsyncSession, *, since: date, until: date) -> list[DayCount]:
    """One entry per UTC day from ``since`` to ``until`` inclusive, empty days included."""
    start = datetime.combine(since, time(), tzinfo=utcnow().tzinfo)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=utcnow().tzinfo)
    day = _day_expression(session).label("day")
    rows = await session.execute(
        select(day, func.count(), _finished(), _fake())
        .where(Check.created_at >= start, Check.created_at < end)
        .group_by(day)
    )
    found = {str(d): (int(n), int(f or 0), int(k or 0)) for d, n, f, k in rows}
    days: list[DayCount] = []
    current = since
    while current <= until:
        total, finished, fake = found.get(current.isoformat(), (0, 0, 0))
        days.append(DayCount(day=current, total=total, finished=finished, fake=fake))
        current += timedelta(days=1)
    return days


async def per_chat(
    session: AsyncSession, *, since: datetime, limit: int = TOP_CHATS
) -> list[ChatCount]:
    """The busiest chats since a time, busiest first."""
    total = func.count().label("total")
    rows = await session.execute(
        select(
            Check.platform, Check.chat_id, func.max(Check.chat_title), total, _finished(), _fake()
        )
        .where(Check.created_at >= since)
        .group_by(Check.platform, Check.chat_id)
        .order_by(total.desc(), Check.platform, Check.chat_id)
        .limit(limit)
    )
    return [
        ChatCount(
            platform=p,
            chat_id=c,
            title=t,
            total=int(n),
            finished=int(f or 0),
            fake=int(k or 0),
        )
        for p, c, t, n, f, k in rows
    ]


@router.get("/stats", response_class=HTMLResponse)
async def statistics(
    request: Request,
    user: SignedIn,
    svc: Annotated[Services, Depends(services)],
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Response:
    """Checks and fake share per day and per chat over the last ``days`` days."""
    today = utcnow().date()
    since = today - timedelta(days=days - 1)
    async with svc.sessions() as session:
        daily = await per_day(session, since=since, until=today)
        chats = await per_chat(
            session, since=datetime.combine(since, time(), tzinfo=utcnow().tzinfo)
        )
        labels = await count_by_label(
            session,
            filters=AuditFilter(since=datetime.combine(since, time(), tzinfo=utcnow().tzinfo)),
        )
    total = sum(d.total for d in daily)
    finished = sum(d.finished for d in daily)
    fake = sum(d.fake for d in daily)
    return render(
        request,
        "stats.html",
        {
            "days": days,
            "periods": PERIODS,
            "daily": daily,
            "chats": chats,
            "labels": labels,
            "total": total,
            "fake": fake,
            "fake_share": fake / finished if finished else None,
            "daily_chart": charts.daily(
                [charts.Bar(d.day.isoformat(), d.total, d.fake, d.finished) for d in daily]
            ),
            "chat_chart": charts.per_chat(
                [charts.Bar(c.name, c.total, c.fake, c.finished) for c in chats]
            ),
        },
        user=user,
    )
