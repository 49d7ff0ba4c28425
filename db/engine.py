"""Engines and sessions: which database, and how to talk to it.

``DATABASE_URL`` may be given the way operators write it (``postgresql://``,
``postgres://``, ``sqlite:///``); it is turned into the async driver's URL here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from base.settings import Settings
from db.errors import StoreError

# Driver for each plain scheme operators write.
_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
_SUPPORTED = ("postgresql+asyncpg", "sqlite+aiosqlite")

# Seconds a SQLite connection waits for another process's write lock (worker and
# bots write the same file).
SQLITE_BUSY_TIMEOUT_S = 30


def async_url(url: str) -> str:
    """``url`` with the async driver this project uses for its scheme.

    Raises:
        StoreError: not a PostgreSQL or SQLite URL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreError(f"DATABASE_URL is not a URL: {url!r}")
    scheme = _ASYNC_DRIVERS.get(scheme, scheme)
    if scheme not in _SUPPORTED:
        raise StoreError(f"unsupported database {scheme!r}: use postgresql:// or sqlite:///")
    return f"{scheme}://{rest}"


def database_url(settings: Settings) -> str:
    """``DATABASE_URL`` (made async), else the embedded SQLite file in the data directory."""
    if settings.database_url:
        return async_url(settings.database_url)
    return f"sqlite+aiosqlite:///{settings.sqlite_path()}"


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; ``None`` for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StoreError(f"bad database URL: {e}") from e
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (bots polling for verdicts) run while the worker writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine for ``url`` (any form :func:`async_url` accepts).

    SQLite gets its parent folder created, WAL mode, foreign keys and a busy timeout;
    PostgreSQL gets pre-ping so a restarted server does not fail the first query.
    """
    url = async_url(url)
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_S})
        engine = _create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    return _create_async_engine(url, **options)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (they are handed to bots and CLIs)."""
    return async_sessionmaker(engine, expire_on_commit=False)
