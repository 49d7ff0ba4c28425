"""Audit queries, reviews and exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from base.vocabulary import Label
from db.audit import AuditFilter, count_by_label, parse_since, query_checks
from db.checks import create_check, mark_failed, store_verdict
from db.errors import CheckNotFound, InvalidValue
from db.export import FIELDS, export_checks
from db.models import Check
from db.reviews import add_review, latest_decisions, reviews_of
from db.verdicts import VerdictRecord

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _seed(session: AsyncSession, sha: Callable[[int], str]) -> dict[str, int]:
    """Seven checks over a week in a few chats."""
    rows = [
        # name, platform, chat, author id, author name, label (None: pending), days ago
        ("tg_fake", "telegram", "-100", "1", "Ann", "fake", 0),
        ("tg_real", "telegram", "-100", "2", "bob", "real", 1),
        ("tg_other", "telegram", "-200", "1", "Ann", "fake", 2),
        ("dc_guild", "discord", "10", "3", "=cmd|calc", "inconclusive", 3),
        ("dc_chan", "discord", "10:20", "3", "Cleo", "no_face", 5),
        ("dc_like", "discord", "100:20", "4", "Dan", "fake", 6),  # "10" must not match "100:"
        ("pending", "telegram", "-100", "2", "Bob", None, 0),
    ]
    ids: dict[str, int] = {}
    for n, (name, platform, chat, author_id, author_name, label, days) in enumerate(rows):
        check = await create_check(
            session,
            platform=platform,
            chat_id=chat,
            chat_title=f"chat {chat}",
            author_id=author_id,
            author_name=author_name,
            sha256=sha(100 + n),
            byte_size=n + 1,
        )
        if label is not None:
            await store_verdict(
                session,
                check_id=check.id,
                verdict=VerdictRecord(
                    label=Label(label), fake_probability=0.5, faces=1, frames=1, model="m@1"
                ),
            )
        await session.execute(
            update(Check)
            .where(Check.id == check.id)
            .values(created_at=NOW - timedelta(days=days, minutes=n))
        )
        ids[name] = check.id
    failed = await create_check(session, platform="cli", sha256=sha(99), byte_size=1)
    await mark_failed(
        session, check_id=failed.id, reason="bad", reason_code="corrupt_media", label="unsupported"
    )
    await session.execute(
        update(Check).where(Check.id == failed.id).values(created_at=NOW - timedelta(days=30))
    )
    ids["failed"] = failed.id
    await session.commit()
    return ids


async def _names(session: AsyncSession, ids: dict[str, int], f: AuditFilter) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    page = await query_checks(session, filters=f, limit=100)
    assert page.total == len(page.checks)
    return [by_id[c.id] for c in page.checks]


async def test_filters(session: AsyncSession, sha: Callable[[int], str]) -> None:
    ids = await _seed(session, sha)
    q = lambda **kw: _names(session, ids, AuditFilter(**kw))  # noqa: E731
    assert await q() == [
        "tg_fake",
        "pending",
        "tg_real",
        "tg_other",
        "dc_guild",
        "dc_chan",
        "dc_like",
        "failed",
    ]
    assert await q(platform="discord") == ["dc_guild", "dc_chan", "dc_like"]
    assert await q(chat="10") == ["dc_guild", "dc_chan"]  # the guild and its channels
    assert await q(chat="10:20") == ["dc_chan"]
    assert await q(chat="%") == []  # LIKE wildcards are text here
    assert await q(author="1") == ["tg_fake", "tg_other"]
    assert await q(author="BOB") == ["pending", "tg_real"]  # names match case-insensitively
    assert await q(label="fake") == ["tg_fake", "tg_other", "dc_like"]
    assert await q(label="pending") == ["pending"]
    assert await q(status="failed") == ["failed"]
    assert await q(since=NOW - timedelta(days=2, hours=1)) == [
        "tg_fake",
        "pending",
        "tg_real",
        "tg_other",
    ]
    assert await q(since=NOW - timedelta(days=6, hours=1), until=NOW - timedelta(days=2)) == [
        "tg_other",
        "dc_guild",
        "dc_chan",
        "dc_like",
    ]
    assert await q(platform="telegram", chat="-100", label="real") == ["tg_real"]
    assert await q(author="x' OR '1'='1") == []


async def test_reviews_and_the_reviewed_filter(
    session: AsyncSession, sha: Callable[[int], str]
) -> None:
    ids = await _seed(session, sha)
    await add_review(
        session,
        check_id=ids["tg_fake"],
        moderator_id="m1",
        decision="real",
        note="it is a real photo",
    )
    await add_review(session, check_id=ids["tg_fake"], moderator_id="m2", decision="fake")
    await add_review(session, check_id=ids["dc_guild"], moderator_id="m1", decision="dismissed")
    assert [r.decision for r in await reviews_of(session, check_id=ids["tg_fake"])] == [
        "real",
        "fake",
    ]
    assert await latest_decisions(session, check_ids=[ids["tg_fake"], ids["tg_real"]]) == {
        ids["tg_fake"]: "fake"
    }
    reviewed = await _names(session, ids, AuditFilter(reviewed=True))
    assert reviewed == ["tg_fake", "dc_guild"]
    unreviewed = await _names(session, ids, AuditFilter(reviewed=False, platform="discord"))
    assert unreviewed == ["dc_chan", "dc_like"]
    with pytest.raises(InvalidValue):
        await add_review(session, check_id=ids["tg_fake"], moderator_id="m1", decision="maybe")
    with pytest.raises(CheckNotFound):
        await add_review(session, check_id=987654, moderator_id="m1", decision="fake")


async def test_paging_and_counts(session: AsyncSession, sha: Callable[[int], str]) -> None:
    ids = await _seed(session, sha)
    first = await query_checks(session, limit=3)
    second = await query_checks(session, limit=3, offset=3)
    last = await query_checks(session, limit=3, offset=6)
    assert first.total == second.total == last.total == len(ids)
    assert first.has_more and second.has_more and not last.has_more
    seen = [c.id for page in (first, second, last) for c in page.checks]
    assert sorted(seen) == sorted(ids.values())
    assert await count_by_label(session) == {
        "fake": 3,
        "inconclusive": 1,
        "no_face": 1,
        "pending": 1,
        "real": 1,
        "unsupported": 1,
    }
    assert await count_by_label(session, filters=AuditFilter(platform="telegram")) == {
        "fake": 2,
        "pending": 1,
        "real": 1,
    }
    with pytest.raises(InvalidValue):
        await query_checks(session, limit=0)


async def test_export_csv_and_json(session: AsyncSession, sha: Callable[[int], str]) -> None:
    ids = await _seed(session, sha)
    await add_review(session, check_id=ids["dc_guild"], moderator_id="m1", decision="real")
    f = AuditFilter(platform="discord")

    out = io.StringIO()
    assert await export_checks(session, out=out, fmt="csv", filters=f) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [int(r["id"]) for r in rows] == [ids["dc_guild"], ids["dc_chan"], ids["dc_like"]]
    assert tuple(rows[0]) == FIELDS
    assert rows[0]["author_name"] == "'=cmd|calc"  # never a live spreadsheet formula
    assert rows[0]["review"] == "real" and rows[1]["review"] == ""

    out = io.StringIO()
    assert await export_checks(session, out=out, fmt="json", filters=f, limit=2) == 2
    data = json.loads(out.getvalue())
    assert [d["id"] for d in data] == [ids["dc_guild"], ids["dc_chan"]]
    assert data[0]["author_name"] == "=cmd|calc"  # JSON keeps the text as it is
    assert datetime.fromisoformat(data[0]["created_at"]) == NOW - timedelta(days=3, minutes=3)

    out = io.StringIO()
    assert await export_checks(session, out=out, fmt="json", filters=AuditFilter(chat="nope")) == 0
    assert json.loads(out.getvalue()) == []


def test_parse_since() -> None:
    assert parse_since("7d", now=NOW) == NOW - timedelta(days=7)
    assert parse_since("12h", now=NOW) == NOW - timedelta(hours=12)
    assert parse_since(" 30m ", now=NOW) == NOW - timedelta(minutes=30)
    assert parse_since("2w", now=NOW) == NOW - timedelta(weeks=2)
    assert parse_since("2026-02-01", now=NOW) == datetime(2026, 2, 1, tzinfo=UTC)
    assert parse_since("2026-02-01T10:00+02:00") == datetime(2026, 2, 1, 8, tzinfo=UTC)
    with pytest.raises(InvalidValue):
        parse_since("last tuesday")
