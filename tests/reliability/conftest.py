"""Fixtures of the system tests: a private Redis, a PostgreSQL database behind a cuttable
proxy, the fake Telegram, and a :class:`~tests.reliability.system.System` around them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.bots.telegram_fake import FakeTelegram
from tests.reliability.harness import RedisServer, TcpProxy
from tests.reliability.system import TOKEN, System
from tests.services import (  # noqa: F401 - the queue_name fixture
    create_pg_database,
    drop_pg_database,
    queue_name,
)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, on a free port (never the shared one on 6379)."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database on the shared server."""
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A cuttable relay to the throwaway database, and the database URL through it."""
    parsed = make_url(pg_url)
    proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    proxy.start()
    url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield proxy, url
    proxy.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API on 127.0.0.1."""
    server = FakeTelegram(token=TOKEN)
    await server.start()
    yield server
    await server.close()


def make_system(
    tmp_path: Path, fake: FakeTelegram, redis_url: str, database: str, **extra: str | int | None
) -> System:
    """A system of this test's own (its own queue name, data folder and store)."""
    return System(
        folder=tmp_path,
        fake=fake,
        redis_url=redis_url,
        database=database,
        queue=f"fw-rel-{uuid.uuid4().hex[:10]}",
        extra=dict(extra),
    )
