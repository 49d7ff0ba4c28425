"""Throwaway databases and Redis namespaces on this machine's real services, for the store
and queue tests.

PostgreSQL: ``FAKEWATCH_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
is the admin connection; every test run creates its own ``fw_test_<random>`` database
and drops it afterwards. Redis: ``FAKEWATCH_TEST_REDIS_URL`` (default database 11 on
127.0.0.1:6379); every test gets its own queue name, which also prefixes its job ids,
and its keys are deleted afterwards. Tests skip with the reason when a service is down.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("FAKEWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FAKEWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database() -> str:
    """A new empty PostgreSQL database; returns its URL. Skips the test if PostgreSQL is down."""
    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError) as e:
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {e}")
    return _with_database(PG_ADMIN_URL, name)


def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`create_pg_database` (closing its connections)."""
    name = url.rpartition("/")[2]
    assert name.startswith("fw_test_")
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    """One PostgreSQL database for the session's store tests (tables truncated between tests)."""
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def redis_reachable() -> str | None:
    """``None`` when the test Redis answers, else why not."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as e:
        return str(e)
    finally:
        client.close()
    return None


def delete_queue_keys(queue_name: str) -> None:
    """Delete a test queue and every key arq or FakeWatch made for it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        for pattern in (f"{queue_name}*", f"arq:*:{queue_name}:*"):
            keys = list(client.scan_iter(match=pattern, count=500))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of this test's own on the test Redis (deleted afterwards)."""
    reason = redis_reachable()
    if reason is not None:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {reason}")
    name = f"fw-test-{uuid.uuid4().hex[:12]}"
    yield name
    delete_queue_keys(name)
