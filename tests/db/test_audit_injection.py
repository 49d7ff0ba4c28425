"""Hostile audit filters, on SQLite and PostgreSQL: every value is data, never SQL or a pattern.

Filter values come from chat commands (``/audit @name``) and the dashboard's query
string, so they are typed by whoever wants to read more than they may. Each hostile
value must match exactly what it literally says (nothing, here), never every row,
and leave the tables as they were.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import AuditFilter, count_by_label, iter_checks, query_checks
from db.checks import create_check
from db.errors import InvalidValue
from db.models import ChatSettings, Check, Review

HOSTILE = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE checks; --",
    "1; DELETE FROM checks",
    "x' UNION SELECT * FROM checks --",
    "%",
    "%%",
    "_",
    "%:%",
    "\\",
    "\\%",
    "-100%",
    "*",
    "' || (SELECT chat_id FROM checks LIMIT 1) || '",
    "$1",
    ":chat",
    "%(chat)s",
    "?",
    "ALICE' --",
    "A" * 5000,
    "😀' OR '😀'='😀",
]


async def _seed(session: AsyncSession, sha: Callable[[int], str]) -> int:
    rows = [
        ("-100", "1", "Alice"),
        ("-100", "2", "Bob"),
        ("-200", "3", "Carol"),
        ("10:20", "4", "D"),
    ]
    for n, (chat, author_id, name) in enumerate(rows):
        await create_check(
            session,
            platform="telegram",
            chat_id=chat,
            author_id=author_id,
            author_name=name,
            sha256=sha(n),
            byte_size=1,
        )
    return len(rows)


async def _counts(session: AsyncSession) -> tuple[int, int, int]:
    return (
        int(await session.scalar(select(func.count()).select_from(Check)) or 0),
        int(await session.scalar(select(func.count()).select_from(Review)) or 0),
        int(await session.scalar(select(func.count()).select_from(ChatSettings)) or 0),
    )


@pytest.mark.parametrize("field", ["chat", "author", "label", "status", "platform"])
async def test_hostile_filter_values_match_only_themselves(
    session: AsyncSession, sha: Callable[[int], str], field: str
) -> None:
    total = await _seed(session, sha)
    before = await _counts(session)
    for value in HOSTILE:
        f = AuditFilter(**{field: value})
        page = await query_checks(session, filters=f, limit=100)
        assert page.total == 0 and page.checks == [], (field, value)
        assert await count_by_label(session, filters=f) == {}
        assert [c async for c in iter_checks(session, filters=f)] == []
    assert await _counts(session) == before == (total, 0, 0)


async def test_a_chat_filter_is_not_a_prefix_pattern(
    session: AsyncSession, sha: Callable[[int], str]
) -> None:
    await _seed(session, sha)
    # "-10" must not find "-100", "1" must not find "10:20": only a whole chat or a guild.
    assert (await query_checks(session, filters=AuditFilter(chat="-10"))).total == 0
    assert (await query_checks(session, filters=AuditFilter(chat="1"))).total == 0
    assert (await query_checks(session, filters=AuditFilter(chat="10"))).total == 1
    assert (await query_checks(session, filters=AuditFilter(chat="-100"))).total == 2
    # A display name matches whole and without regard to case, never as a pattern.
    assert (await query_checks(session, filters=AuditFilter(author="alice"))).total == 1
    assert (await query_checks(session, filters=AuditFilter(author="Ali%"))).total == 0


async def test_a_nul_character_is_refused_on_every_store(
    session: AsyncSession, sha: Callable[[int], str]
) -> None:
    # PostgreSQL cannot hold NUL in text: it must be a clear refusal, not a driver error.
    await _seed(session, sha)
    for field in ("chat", "author", "label", "status", "platform"):
        with pytest.raises(InvalidValue):
            await query_checks(session, filters=AuditFilter(**{field: "-100\x00' OR 1=1"}))
