"""The Telegram bot against the fake Bot API server, the real Redis, a real worker and a store.

``settings`` points everything at this test's own resources: the fake server
(``TELEGRAM_API_BASE``), a queue of its own on the test Redis, a SQLite file in
``tmp_path`` (or a throwaway PostgreSQL database with ``@pytest.mark.parametrize
("store", ["postgresql"], indirect=True)``), untrained random weights.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from base.settings import Settings, load_settings
from tests.bots.telegram_fake import FakeTelegram
from tests.services import (  # noqa: F401  (fixtures)
    REDIS_URL,
    create_pg_database,
    drop_pg_database,
    queue_name,
)

TOKEN = "987654321:AAE-fakewatch-test-token-Zq8xJ3kLmN0pQrStUvW"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API, listening on 127.0.0.1."""
    server = FakeTelegram(token=TOKEN)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL: SQLite in ``tmp_path`` unless the test asks for ``postgresql``."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        url = create_pg_database()
        yield url
        drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'fakewatch.sqlite3'}"


@pytest.fixture
def settings(fake: FakeTelegram, store: str, queue_name: str, tmp_path: Path) -> Settings:  # noqa: F811
    """Settings of this test's bot and worker."""
    return load_settings(
        telegram_token=TOKEN,
        telegram_api_base=fake.url,
        redis_url=REDIS_URL,
        database_url=store,
        queue_name=queue_name,
        data_dir=tmp_path / "data",
        weights="random",
        device="cpu",
        frames=4,
        job_timeout_s=120,
    )


class WorkerRunner:
    """Starts and stops an in-process arq worker (the real one, with the real pipeline)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.worker: Any = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from arq.worker import create_worker

        from queue_worker.worker import WorkerSettings, worker_options

        base = {k: v for k, v in vars(WorkerSettings).items() if not k.startswith("_")}
        options = worker_options(self.settings)
        self.worker = create_worker(base, **options, handle_signals=False)
        self.task = asyncio.create_task(self.worker.async_run())
        # Ready once on_startup has loaded the model (and migrated the store).
        while "state" not in self.worker.ctx:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.worker is not None:
            try:
                await self.worker.close()  # waits for the jobs it runs
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is not None and me.cancelling():
                    raise  # the test itself is being cancelled
                # else a housekeeping job (a cron run at startup) was cancelled mid-run:
                # arq's close re-raises that, and there is nothing left to wait for
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.worker = self.task = None


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[WorkerRunner]:
    """A running worker for this test's queue."""
    runner = WorkerRunner(settings)
    await runner.start()
    yield runner
    await runner.stop()
