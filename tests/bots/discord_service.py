"""The real service behind the Discord bot in tests, and the bot itself.

A SQLite store in a temporary folder, a queue of the module's own on this machine's Redis
(``tests.services``), and a ``fakewatch worker`` process with small random weights: only
Discord is fake. Test modules import the fixtures they use by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from base.settings import Settings, load_settings
from bots.discord.bot import FakeWatchBot
from queue_worker.client import QueueClient
from tests.bots.discord_fake import FakeDiscord
from tests.services import REDIS_URL, delete_queue_keys, redis_reachable

# Small enough that a test can post a bigger file without a big allocation.
MAX_MEDIA_BYTES = 2 * 1024 * 1024


@contextlib.contextmanager
def worker_process(env: dict[str, str], *, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``fakewatch worker`` in its own process with ``env``; stopped (SIGTERM) on exit."""
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "fakewatch", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@dataclass(frozen=True)
class Service:
    """Where the module's store and queue are, and the worker's log."""

    env: dict[str, str]
    worker_log: Path

    @property
    def queue_name(self) -> str:
        """The queue the module's worker takes jobs from."""
        return self.env["FAKEWATCH_QUEUE"]

    def settings(self, fake: FakeDiscord | None = None, **overrides: Any) -> Settings:
        """The bot's settings: this service, and the fake Discord's endpoints and token."""
        values: dict[str, Any] = {
            "redis_url": self.env["REDIS_URL"],
            "database_url": self.env["DATABASE_URL"],
            "queue_name": self.queue_name,
            "data_dir": self.env["FAKEWATCH_DATA_DIR"],
            "max_media_bytes": MAX_MEDIA_BYTES,
        }
        if fake is not None:
            values |= {
                "discord_token": fake.token,
                "discord_api_base": fake.api_base,
                "discord_gateway_url": fake.gateway_url,
            }
        return load_settings(**(values | overrides))

    @contextlib.contextmanager
    def extra_worker(self, queue_name: str) -> Iterator[None]:
        """Another worker on the same store, taking jobs from ``queue_name``."""
        env = {**self.env, "FAKEWATCH_QUEUE": queue_name}
        try:
            with worker_process(env, log=self.worker_log.with_name(f"{queue_name}.log")):
                yield
        finally:
            delete_queue_keys(queue_name)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A store, a queue and a real worker process (``FAKEWATCH_WEIGHTS=random``) per module."""
    reason = redis_reachable()
    if reason is not None:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {reason}")
    from db.schema import upgrade_database

    folder = tmp_path_factory.mktemp("discord-service")
    queue = f"fw-test-discord-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": f"sqlite:///{folder / 'fakewatch.sqlite3'}",
        "FAKEWATCH_QUEUE": queue,
        "FAKEWATCH_DATA_DIR": str(folder),
        "FAKEWATCH_WEIGHTS": "random",
        "FAKEWATCH_DEVICE": "cpu",
        "FAKEWATCH_MAX_MEDIA_BYTES": str(MAX_MEDIA_BYTES),
    }
    # Migrate before the worker starts, so it and the tests never race to create tables.
    upgrade_database(env["DATABASE_URL"])
    service = Service(env=env, worker_log=folder / "worker.log")
    try:
        with worker_process(env, log=service.worker_log):
            yield service
    finally:
        delete_queue_keys(queue)


@pytest.fixture
async def queue(service: Service) -> AsyncIterator[QueueClient]:
    """A queue client on the module's service (what ``fakewatch discord`` makes)."""
    client = await QueueClient.connect(service.settings(), migrate=False)
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, queue: QueueClient, settings: Settings, **options: Any
) -> AsyncIterator[FakeWatchBot]:
    """The real bot, logged in to the fake Discord and ready (guild received)."""
    options.setdefault("guild_ready_timeout", 0.1)
    bot = FakeWatchBot(queue=queue, sessions=queue.sessions, settings=settings, **options)
    task = asyncio.create_task(bot.start(fake.token))
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if task.done():
            task.result()  # raises why the bot stopped
        assert bot.is_ready(), "the bot did not get READY from the fake Discord"
        yield bot
    finally:
        await bot.close()
        await task
