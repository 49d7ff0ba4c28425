"""Store fixtures: every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.schema import upgrade_database
from tests.services import empty_pg_url, pg_session_url  # noqa: F401 - fixtures

_MIGRATED: set[str] = set()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
        upgrade_database(path)
        return path
    url: str = request.getfixturevalue("pg_session_url")
    if url not in _MIGRATED:
        upgrade_database(url)
        _MIGRATED.add(url)
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE reviews, checks, chat_settings RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
async def sessions(store_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on the store."""
    engine = create_engine(store_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One session on the store."""
    async with sessions() as s:
        yield s


@pytest.fixture
def sha() -> Callable[[int], str]:
    """A fake sha256 hex digest from a number."""
    return lambda n: f"{n:064x}"
