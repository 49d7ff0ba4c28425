"""Upgrading the schema twice at once in one process (a bot and the dashboard in ``fakewatch
run`` start together): Alembic keeps its context in module globals, so ``db.schema``
serialises in-process upgrades with a lock, on top of the file lock (SQLite) and the
advisory lock (PostgreSQL) that keep processes apart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.schema import current_revision, head_revision, upgrade_database, upgrade_database_async
from tests.services import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    url = create_pg_database()
    yield url
    drop_pg_database(url)


async def test_concurrent_async_upgrades_in_one_event_loop(fresh_url: str) -> None:
    await asyncio.gather(*(upgrade_database_async(fresh_url) for _ in range(4)))
    assert await current_revision(fresh_url) == head_revision()


def test_concurrent_upgrades_from_threads_of_one_process(fresh_url: str) -> None:
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            upgrade_database(fresh_url)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert asyncio.run(current_revision(fresh_url)) == head_revision()


async def test_two_databases_upgraded_at_once_each_reach_head(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'db{n}.sqlite3'}" for n in range(3)]
    await asyncio.gather(*(upgrade_database_async(u) for u in urls))
    assert [await current_revision(u) for u in urls] == [head_revision()] * 3
