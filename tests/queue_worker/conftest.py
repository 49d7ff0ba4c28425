"""Queue fixtures: real Redis (a queue of the test's own), real stores, the real model code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from arq.connections import ArqRedis, create_pool
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.settings import Settings, load_settings
from db.engine import create_engine, database_url, session_factory
from db.schema import upgrade_database
from inference.pipeline import Pipeline
from inference.weights import random_weights
from queue_worker.broker import redis_settings
from tests.services import (  # noqa: F401 - fixtures
    REDIS_URL,
    empty_pg_url,
    pg_session_url,
    queue_name,
)

FRAMES = 4


def make_settings(
    *, data_dir: Path, queue: str, database: str | None = None, **overrides: Any
) -> Settings:
    """Settings of a test service: its own queue and data dir, random weights, few frames."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "redis_url": REDIS_URL,
        "database_url": database or f"sqlite:///{data_dir / 'fakewatch.sqlite3'}",
        "queue_name": queue,
        "weights": "random",
        "device": os.environ.get("FAKEWATCH_TEST_DEVICE", "cpu"),
        "frames": FRAMES,
        "job_timeout_s": 60.0,
    }
    return load_settings(**(values | overrides))


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEWATCH_")}
    env.update(
        {
            "REDIS_URL": settings.redis_url or "",
            "DATABASE_URL": settings.database_url or "",
            "FAKEWATCH_DATA_DIR": str(settings.data_dir),
            "FAKEWATCH_QUEUE": settings.queue_name,
            "FAKEWATCH_WEIGHTS": settings.weights,
            "FAKEWATCH_DEVICE": settings.device,
            "FAKEWATCH_FRAMES": str(settings.frames),
            "FAKEWATCH_JOB_TIMEOUT_S": str(settings.job_timeout_s),
            "FAKEWATCH_JOB_TRIES": str(settings.job_tries),
            "FAKEWATCH_WORKER_JOBS": str(settings.worker_jobs),
            "FAKEWATCH_MAX_MEDIA_BYTES": str(settings.max_media_bytes),
        }
    )
    return env


class WorkerProcess:
    """``fakewatch worker`` in a child process, logging to a file."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self._out: IO[bytes] = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fakewatch", "worker"],
            env=settings_env(settings),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=settings.data_dir.parent,
        )

    def text(self) -> str:
        """The worker's log so far."""
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Block until the worker has loaded the model; returns the seconds it took."""
        start = time.monotonic()
        while "worker ready" not in self.text():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}):\n{self.text()}")
            if time.monotonic() - start > timeout:
                raise AssertionError(f"worker not ready after {timeout}s:\n{self.text()}")
            time.sleep(0.05)
        return time.monotonic() - start

    def kill(self) -> None:
        """``kill -9``."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[Settings], WorkerProcess]]:
    """Start worker processes; all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(settings: Settings) -> WorkerProcess:
        w = WorkerProcess(settings, tmp_path / f"worker-{len(started)}.log")
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


@pytest.fixture(scope="session")
def pipeline(test_device: str) -> Pipeline:
    """Small random weights: real MTCNN, real classifier code."""
    return Pipeline(random_weights(), device=test_device, frames=FRAMES)


@pytest.fixture
def settings(tmp_path: Path, queue_name: str) -> Settings:  # noqa: F811
    """A test service on SQLite in ``tmp_path`` with a queue of its own."""
    s = make_settings(data_dir=tmp_path / "data", queue=queue_name)
    upgrade_database(database_url(s))
    return s


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test service's store."""
    engine = create_engine(database_url(settings))
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def arq_redis(settings: Settings) -> AsyncIterator[ArqRedis]:
    """An arq pool on the test Redis."""
    redis = await create_pool(redis_settings(settings), default_queue_name=settings.queue_name)
    yield redis
    await redis.aclose(close_connection_pool=True)
