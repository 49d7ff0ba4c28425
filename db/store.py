"""The one way every process opens the verdict store.

A worker, a bot, the dashboard and a command each open one :class:`Store` (migrated to
the newest schema first unless told otherwise), take sessions from it, and close it
when they stop::

    store = await Store.open(database_url(settings))
    async with store.sessions() as session:
        ...
    await store.close()

or, for a command that does one thing and exits, ``async with open_store(url) as store``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.schema import upgrade_database_async


class Store:
    """One engine on the store, and its session factory.

    Attributes:
        engine: The async engine (one connection pool per process).
        sessions: Sessions whose objects stay readable after commit.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(engine)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Open the store at ``url`` (any form :func:`db.engine.async_url` accepts).

        Args:
            migrate: bring the schema to the newest revision first (cheap when it is).

        Raises:
            StoreError: not a PostgreSQL or SQLite URL.
            MigrationError: the schema could not be upgraded.
        """
        if migrate:
            await upgrade_database_async(url)
        return cls(create_engine(url))

    async def close(self) -> None:
        """Close the engine's connections."""
        await self.engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


@asynccontextmanager
async def open_store(url: str, *, migrate: bool = True) -> AsyncIterator[Store]:
    """A :class:`Store` for the length of a ``with`` block (a command's one piece of work)."""
    store = await Store.open(url, migrate=migrate)
    try:
        yield store
    finally:
        await store.close()
