"""Alembic migrations: an empty database goes to head and back to base, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from db.engine import create_engine
from db.errors import MigrationError
from db.schema import (
    alembic_config,
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)

# Other packages may add tables in later revisions; these are the store's own.
TABLES = {"checks", "reviews", "chat_settings", "alembic_version"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    url: str = request.getfixturevalue("empty_pg_url")
    return url


def test_upgrade_an_empty_database_then_downgrade_to_base(empty_url: str) -> None:
    assert asyncio.run(current_revision(empty_url)) is None
    upgrade_database(empty_url)
    assert asyncio.run(current_revision(empty_url)) == head_revision()
    assert asyncio.run(_tables(empty_url)) >= TABLES
    # The models and the migrations describe the same schema (alembic check raises if not).
    command.check(alembic_config(empty_url))

    upgrade_database(empty_url)  # already at head: nothing to do
    downgrade_database(empty_url, "base")
    assert asyncio.run(current_revision(empty_url)) is None
    assert asyncio.run(_tables(empty_url)) == {"alembic_version"}

    upgrade_database(empty_url)  # and up again from base
    assert asyncio.run(current_revision(empty_url)) == head_revision()


def test_concurrent_upgrades_from_several_processes(empty_url: str) -> None:
    # A worker and two bots starting at once all upgrade the same empty database.
    code = "import sys; from db.schema import upgrade_database; upgrade_database(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, empty_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert asyncio.run(current_revision(empty_url)) == head_revision()


def test_upgrades_from_threads_of_one_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threads.sqlite3'}"
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            upgrade_database(url)
        except MigrationError as e:
            errors.append(e)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert asyncio.run(current_revision(url)) == head_revision()


def test_an_unknown_revision_is_a_migration_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationError):
        upgrade_database(f"sqlite:///{tmp_path / 'x.sqlite3'}", "no-such-revision")
