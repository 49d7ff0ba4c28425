"""What producers wait out: the real errors of a database or Redis going away."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from db.engine import create_engine
from queue_worker.transient import is_transient, retrying
from tests.services import empty_pg_url  # noqa: F401 - fixture


@contextlib.asynccontextmanager
async def hanging_up(*, answers: list[bytes] | None = None) -> AsyncIterator[int]:
    """A server on a free port that reads and answers each of ``answers``, then hangs up."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            for answer in answers or []:
                await reader.read(1024)
                writer.write(answer)
                await writer.drain()
            await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


async def select_one_error(port: int) -> Exception:
    """What ``select 1`` raises against whatever listens on ``port`` as PostgreSQL."""
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/test")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
    except Exception as e:
        return e
    finally:
        await engine.dispose()
    raise AssertionError("the query did not fail")


async def test_postgresql_closing_the_connection_while_it_opens_is_transient() -> None:
    # What a PostgreSQL restarting (or a proxy in front of it) does to a new connection;
    # SQLAlchemy reports it as a plain DBAPIError, the asyncpg error beneath says why.
    # "N": no TLS here; then the startup message is read and the connection closed.
    async with hanging_up(answers=[b"N"]) as port:
        error = await select_one_error(port)
    assert isinstance(error, DBAPIError) and is_transient(error)


async def test_postgresql_refusing_connections_is_transient() -> None:
    async with hanging_up() as port:
        pass  # closed: nothing listens there any more
    assert is_transient(await select_one_error(port))


async def test_redis_hanging_up_is_transient() -> None:
    async with hanging_up() as port:
        client = Redis(host="127.0.0.1", port=port)
        try:
            with pytest.raises(Exception) as caught:
                await client.ping()
        finally:
            await client.aclose()
    assert is_transient(caught.value)


async def test_mistakes_are_not_transient(empty_pg_url: str) -> None:  # noqa: F811
    engine = create_engine(empty_pg_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(ProgrammingError) as bad_sql:
                await conn.execute(text("select * from no_such_table"))
            assert not is_transient(bad_sql.value)
            await conn.rollback()
            await conn.execute(text("create temporary table t (x int primary key)"))
            await conn.execute(text("insert into t values (1)"))
            with pytest.raises(IntegrityError) as duplicate:
                await conn.execute(text("insert into t values (1)"))
            assert not is_transient(duplicate.value)
    finally:
        await engine.dispose()


async def test_retrying_gives_up_at_once_on_a_mistake_and_waits_out_an_outage() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        await retrying(broken, within=5, what="testing")
    assert calls == 1

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionResetError("reset by peer")
        return "ok"

    calls = 0
    assert await retrying(flaky, within=5, what="testing") == "ok"
    assert calls == 4
