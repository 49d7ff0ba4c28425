"""Nothing lost: real ``fakewatch worker`` processes, a real producer process, real Redis,
PostgreSQL and SQLite, the real model code with small random weights.

The numbers (time to drain, jobs per second, recovery after ``kill -9``) are printed:
run with ``-s`` to see them.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from arq.connections import create_pool
from arq.constants import in_progress_key_prefix, job_key_prefix
from sqlalchemy import func, select

from base.settings import Settings
from db.checks import get_checks, require_check
from db.engine import create_engine, database_url, session_factory
from db.models import Check
from db.schema import upgrade_database
from queue_worker.broker import redis_settings
from queue_worker.client import QueueClient
from queue_worker.contracts import MediaContext, job_id
from tests.queue_worker.conftest import WorkerProcess, make_settings, settings_env
from tests.queue_worker.media import corrupt_mp4, face_jpeg, face_video

StartWorker = Callable[[Settings], WorkerProcess]
LABELS = {"fake", "real", "inconclusive", "no_face"}


async def _all_finished(settings: Settings, ids: list[int], timeout: float) -> list[Check]:
    engine = create_engine(database_url(settings))
    sessions = session_factory(engine)
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with sessions() as s:
                rows = await get_checks(s, check_ids=ids)
            if len(rows) == len(ids) and all(r.finished for r in rows):
                return rows
            assert time.monotonic() < deadline, (
                f"unfinished: {[r.id for r in rows if not r.finished]}"
            )
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def _count_checks(settings: Settings) -> int:
    engine = create_engine(database_url(settings))
    try:
        async with session_factory(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(Check)) or 0)
    finally:
        await engine.dispose()


async def _queue_is_empty(settings: Settings) -> bool:
    redis = await create_pool(redis_settings(settings))
    try:
        queued = await redis.zcard(settings.queue_name)
        jobs = [k async for k in redis.scan_iter(match=f"{job_key_prefix}{settings.queue_name}:*")]
        return queued == 0 and not jobs
    finally:
        await redis.aclose()


def test_fifty_checks_from_a_producer_process(
    tmp_path: Path, empty_pg_url: str, queue_name: str, start_worker: StartWorker
) -> None:
    settings = make_settings(
        data_dir=tmp_path / "data", queue=queue_name, database=empty_pg_url, worker_jobs=2
    )
    upgrade_database(database_url(settings))
    files = []
    for n in range(50):
        if n % 10 == 9:  # 5 short videos among 45 photos
            path = tmp_path / f"clip{n:02}.mp4"
            face_video(path, n)
        else:
            path = tmp_path / f"photo{n:02}.jpg"
            path.write_bytes(face_jpeg(100 + n))
        files.append(path)

    worker = start_worker(settings)
    ready_s = worker.wait_ready()

    start = time.monotonic()
    producer = subprocess.run(
        [sys.executable, "-m", "fakewatch", "submit", "--json", *map(str, files)],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    submitted_s = time.monotonic() - start
    assert producer.returncode == 0, producer.stderr
    lines = [json.loads(line) for line in producer.stdout.splitlines()]
    assert [line["file"] for line in lines] == list(map(str, files))
    ids = [line["check_id"] for line in lines]
    assert len(set(ids)) == 50

    rows = asyncio.run(_all_finished(settings, ids, timeout=600))
    drained_s = time.monotonic() - start

    assert all(r.status == "done" and r.label in LABELS for r in rows), [
        (r.id, r.status, r.reason) for r in rows if r.status != "done"
    ]
    assert all(r.attempts == 1 and r.deduplicated_from is None for r in rows)
    assert all(r.model_id == rows[0].model_id and r.finished_at for r in rows)
    assert sum(r.media_kind == "video" for r in rows) == 5
    assert asyncio.run(_count_checks(settings)) == 50  # one row per check, no duplicates
    assert asyncio.run(_queue_is_empty(settings))

    latency = sorted((r.finished_at - r.created_at).total_seconds() for r in rows)  # type: ignore[operator]
    inference = [sum((r.timings or {}).values()) for r in rows]
    print(
        f"\n[50 checks] worker ready in {ready_s:.1f}s; producer process submitted 50 in "
        f"{submitted_s:.2f}s; all 50 done {drained_s:.2f}s after the producer started "
        f"= {50 / drained_s:.2f} checks/s with {settings.worker_jobs} inference threads; "
        f"per-check latency median {statistics.median(latency):.2f}s, max {latency[-1]:.2f}s; "
        f"model time median {statistics.median(inference):.3f}s"
    )


def test_a_corrupt_file_fails_with_its_reason_and_the_worker_goes_on(
    tmp_path: Path, queue_name: str, start_worker: StartWorker
) -> None:
    settings = make_settings(data_dir=tmp_path / "data", queue=queue_name)
    upgrade_database(database_url(settings))
    worker = start_worker(settings)
    worker.wait_ready()

    async def go() -> list[Check]:
        ctx = MediaContext(platform="telegram", chat_id="-5", media_kind="video")
        async with await QueueClient.connect(settings) as client:
            ids = [
                await client.submit(corrupt_mp4(), ctx),
                await client.submit(face_jpeg(300), ctx),
                await client.submit(b"GIF89a" + b"\x00" * 20, ctx),
                await client.submit(face_jpeg(301), ctx),
            ]
            results = [await client.wait(i, timeout=120) for i in ids]
            assert [r.status for r in results] == ["failed", "done", "failed", "done"]
            async with client.sessions() as s:
                return [await require_check(s, check_id=i) for i in ids]

    rows = asyncio.run(go())
    bad, good = rows[0], rows[1]
    assert (bad.label, bad.reason_code) == ("unsupported", "corrupt_media")
    assert bad.reason and "damaged" in bad.reason and bad.finished_at is not None
    assert rows[2].label == "unsupported" and rows[2].reason
    assert good.label in LABELS and good.finished_at > bad.finished_at  # type: ignore[operator]
    assert worker.proc.poll() is None  # still running


def test_the_same_bytes_twice_run_inference_once(
    tmp_path: Path, queue_name: str, start_worker: StartWorker
) -> None:
    settings = make_settings(data_dir=tmp_path / "data", queue=queue_name, worker_jobs=2)
    upgrade_database(database_url(settings))
    worker = start_worker(settings)
    worker.wait_ready()
    media = face_jpeg(400)

    async def go() -> list[Check]:
        async with await QueueClient.connect(settings) as client:
            ids = [
                await client.submit(media, MediaContext(platform="telegram", chat_id="-1")),
                await client.submit(media, MediaContext(platform="discord", chat_id="2:3")),
            ]
            for i in ids:
                await client.wait(i, timeout=120)
            async with client.sessions() as s:
                return [await require_check(s, check_id=i) for i in ids]

    first, second = sorted(asyncio.run(go()), key=lambda c: c.deduplicated_from or 0)
    seen = [(c.id, c.status, c.deduplicated_from, c.timings, c.reason) for c in (first, second)]
    assert first.deduplicated_from is None and second.deduplicated_from == first.id, seen
    assert first.timings and "classify" in first.timings, seen
    assert second.timings == {}, seen  # nothing ran for the second
    assert (second.label, second.fake_probability) == (first.label, first.fake_probability)
    # Whichever job took the lock first judged the bytes; each check keeps its own origin.
    assert {(c.platform, c.chat_id) for c in (first, second)} == {
        ("telegram", "-1"),
        ("discord", "2:3"),
    }
    # The worker logs the reuse just after storing it; the waiter may read the store first.
    deadline = time.monotonic() + 30
    while "reuses the verdict" not in worker.text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.text().count("reuses the verdict") == 1


def test_kill_9_mid_job_then_a_new_worker_finishes_it(
    tmp_path: Path, queue_name: str, start_worker: StartWorker
) -> None:
    # A short job timeout: arq lets another worker take a job over once its in-progress
    # marker expires, ``job timeout + 10 s`` after the job started.
    settings = make_settings(
        data_dir=tmp_path / "data", queue=queue_name, job_timeout_s=8.0, frames=16
    )
    upgrade_database(database_url(settings))
    media = face_video(tmp_path / "long.mp4", 7)
    first = start_worker(settings)
    first.wait_ready()

    async def go() -> tuple[Check, float, float]:
        """The finished row, seconds from the kill to the verdict, the new worker's start-up."""
        async with await QueueClient.connect(settings) as client:
            check_id = await client.submit(media, MediaContext(platform="cli", request_kind="cli"))
            while (await client.get(check_id)).status != "running":
                await asyncio.sleep(0.005)
            first.kill()  # kill -9 while the model runs
            killed = time.monotonic()
            async with client.sessions() as s:
                row = await require_check(s, check_id=check_id)
            assert (row.status, row.attempts) == ("running", 1), "the job finished too soon"
            jid = job_id(settings.queue_name, row.job_id)
            assert await client.redis.exists(in_progress_key_prefix + jid)

            second = start_worker(settings)
            ready_s = second.wait_ready()
            result = await client.wait(check_id, timeout=120)
            recovered_s = time.monotonic() - killed
            assert result.status == "done"
            async with client.sessions() as s:
                row = await require_check(s, check_id=check_id)
            return row, recovered_s, ready_s

    row, recovered_s, ready_s = asyncio.run(go())
    assert (row.status, row.attempts, row.deduplicated_from) == ("done", 2, None)
    assert row.label in LABELS and row.frames and row.timings
    assert asyncio.run(_count_checks(settings)) == 1  # exactly one row, one verdict
    assert asyncio.run(_queue_is_empty(settings))
    print(
        f"\n[kill -9] job killed mid-inference; a new worker finished it "
        f"{recovered_s:.1f}s after the kill (its start-up took {ready_s:.1f}s; job timeout "
        f"{settings.job_timeout_s:g}s, "
        f"arq re-runs a job {settings.job_timeout_s + 10:g}s after it started); attempts 2, "
        f"1 row, 1 verdict"
    )
