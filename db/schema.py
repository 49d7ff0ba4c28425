"""Alembic, driven from code: ``upgrade_database(url)`` and friends.

The migration scripts live in ``db/migrations`` inside the package, so an
installed FakeWatch can migrate its database without an ``alembic.ini``.
Concurrent upgrades (a worker and two bots starting at once) are serialised:
by a PostgreSQL advisory lock in ``env.py``, by a lock file next to a SQLite file.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection

from db.engine import async_url, create_engine, sqlite_file
from db.errors import MigrationError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Alembic keeps its running context in module globals: one migration per process at a time.
_IN_PROCESS = threading.Lock()


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` pointing at the packaged scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as an attribute, not an option: ConfigParser would read '%' in a password.
    config.attributes["url"] = async_url(url)
    return config


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    with _IN_PROCESS:
        path = sqlite_file(async_url(url))
        if path is None:
            yield  # PostgreSQL: env.py takes an advisory lock
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.with_name(path.name + ".migrate.lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def upgrade_database(url: str, revision: str = "head") -> None:
    """Upgrade the schema at ``url`` to ``revision``; a no-op when it is already there.

    Synchronous (Alembic runs its own event loop): from async code use
    :func:`upgrade_database_async`.

    Raises:
        MigrationError: Alembic or the database refused.
    """
    try:
        with _migration_lock(url):
            command.upgrade(alembic_config(url), revision)
    except CommandError as e:
        raise MigrationError(f"cannot upgrade to {revision}: {e}") from e


def downgrade_database(url: str, revision: str) -> None:
    """Downgrade the schema at ``url`` to ``revision`` (``base`` drops every table).

    Raises:
        MigrationError: Alembic or the database refused.
    """
    try:
        with _migration_lock(url):
            command.downgrade(alembic_config(url), revision)
    except CommandError as e:
        raise MigrationError(f"cannot downgrade to {revision}: {e}") from e


async def upgrade_database_async(url: str, revision: str = "head") -> None:
    """:func:`upgrade_database` from a running event loop (in a thread of its own)."""
    await asyncio.to_thread(upgrade_database, url, revision)


def head_revision() -> str:
    """The newest revision the packaged scripts know."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise MigrationError("no migration scripts found")
    return head


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; ``None`` for an empty database."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()
