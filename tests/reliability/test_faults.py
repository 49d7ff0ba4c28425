"""Faults, each with real ``fakewatch`` processes around the fake Telegram: a worker killed
with ``kill -9`` mid-job, Redis restarted mid-burst, PostgreSQL unreachable for a few
seconds, and a bot stopped or killed with checks in flight.

After each, every post has exactly one reply carrying its verdict and every check
exactly one stored verdict. Figures are printed (run with ``-s``).
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from tests.bots.telegram_fake import FakeTelegram
from tests.reliability.conftest import make_system
from tests.reliability.harness import RedisServer, TcpProxy, distinct_jpeg
from tests.reliability.system import Answer, Post, System, duplicates, group, member

VERDICT = re.compile(r"check \d+")


def burst(system: System, n: int, *, first: int = 0) -> list[Post]:
    """``n`` distinct photos from eight people in four chats."""
    return [
        system.post_photo(distinct_jpeg(first + k), chat=group(k % 4), sender=member(k % 8))
        for k in range(n)
    ]


async def rows_stored(system: System, n: int, *, timeout: float = 120.0) -> None:
    """Wait until the store holds at least ``n`` checks."""
    deadline = time.monotonic() + timeout
    while len(await system.checks()) < n:
        assert time.monotonic() < deadline, f"fewer than {n} checks stored in {timeout}s"
        await asyncio.sleep(0.1)


async def assert_one_reply_and_one_verdict_each(
    system: System, posts: list[Post], *, all_done: bool = True
) -> list[Answer]:
    """Every post: one reply, edited into one verdict; every check: one row, finished."""
    answers = system.answers(posts)
    for post in posts:
        a = answers[post.message_id]
        assert len(a.replies) == 1, (post, [c.describe() for c in a.replies])
        # A restart may deliver the same verdict twice into the same message: one answer.
        assert len(set(a.finals)) == 1 and VERDICT.search(a.finals[0]), (post, a.finals)
    # The bot marks a check replied just after the platform took the answer.
    deadline = time.monotonic() + 30
    rows = await system.checks()
    while any(r.replied_at is None for r in rows) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        rows = await system.checks()
    keys = [(r.chat_id, r.message_id) for r in rows]
    assert not duplicates(keys)
    assert set(keys) == {(str(p.chat_id), str(p.message_id)) for p in posts}
    assert all(r.finished and r.replied_at is not None for r in rows)
    if all_done:
        assert all(r.status == "done" for r in rows), [(r.id, r.reason) for r in rows]
    return list(answers.values())


async def test_a_worker_killed_mid_job_loses_nothing(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_url: str
) -> None:
    # arq hands a dead worker's job to another once its marker expires: job timeout + 10 s.
    system = make_system(tmp_path, fake, redis_server.url, pg_url, FAKEWATCH_JOB_TIMEOUT_S=8)
    try:
        first = system.worker("worker-1")
        await first.wait_log("worker ready")
        bot = system.telegram_bot()
        await bot.wait_log("is up")
        posts = burst(system, 16)
        deadline = time.monotonic() + 120
        while not [r for r in await system.checks() if r.status == "running"]:
            assert time.monotonic() < deadline, "no job ever seen running"
            await asyncio.sleep(0.01)
        first.kill()
        killed = time.monotonic()
        second = system.worker("worker-2")
        await second.wait_log("worker ready")
        waited = await system.wait_answered(posts, timeout=300)
        await assert_one_reply_and_one_verdict_each(system, posts)
        rows = await system.checks()
    finally:
        system.stop_all()
    rerun = [r for r in rows if r.attempts > 1]
    assert len(rerun) == 1 and rerun[0].attempts == 2  # the killed job, run once more
    print(
        f"\n[kill -9 worker] {len(posts)} posts; worker killed mid-job; all answered "
        f"{time.monotonic() - killed:.1f}s after the kill ({waited:.1f}s waited); "
        f"{len(rows)} checks, 1 re-run, 0 lost, 0 duplicated"
    )


async def test_redis_restarted_mid_burst_loses_nothing(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_url: str
) -> None:
    system = make_system(tmp_path, fake, redis_server.url, pg_url)
    try:
        worker = system.worker()
        await worker.wait_log("worker ready")
        bot = system.telegram_bot()
        await bot.wait_log("is up")
        posts = burst(system, 12)
        await rows_stored(system, 4)
        down = time.monotonic()
        redis_server.shutdown()  # SHUTDOWN writes the append-only file out, as a restart does
        posts += burst(system, 12, first=100)  # posted while Redis is down
        await asyncio.sleep(3)
        redis_server.start()
        outage = time.monotonic() - down
        posts += burst(system, 6, first=200)
        waited = await system.wait_answered(posts, timeout=300)
        await assert_one_reply_and_one_verdict_each(system, posts)
        rows = await system.checks()
    finally:
        system.stop_all()
    # The worker lost Redis and served on in the same process, model loaded once.
    assert "lost Redis" in worker.text() and "worker ready again" in worker.text()
    assert worker.text().count("worker ready:") == 1
    print(
        f"\n[Redis restart] {len(posts)} posts; Redis down {outage:.1f}s mid-burst (12 posted "
        f"meanwhile); all answered {waited:.1f}s after it came back; {len(rows)} checks, all "
        f"done, {sum(r.attempts for r in rows)} job runs, 0 lost, 0 duplicated"
    )


async def test_postgresql_unreachable_for_seconds_loses_nothing(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, url = pg_proxy
    system = make_system(tmp_path, fake, redis_server.url, url)
    try:
        worker = system.worker()
        await worker.wait_log("worker ready")
        bot = system.telegram_bot()
        await bot.wait_log("is up")
        posts = burst(system, 12)
        await rows_stored(system, 4)
        proxy.cut()  # every connection dropped, new ones refused
        down = time.monotonic()
        posts += burst(system, 12, first=100)
        await asyncio.sleep(5)
        proxy.restore()
        outage = time.monotonic() - down
        posts += burst(system, 6, first=200)
        waited = await system.wait_answered(posts, timeout=300)
        await assert_one_reply_and_one_verdict_each(system, posts)
        rows = await system.checks()
    finally:
        system.stop_all()
    print(
        f"\n[PostgreSQL outage] {len(posts)} posts; the database unreachable {outage:.1f}s "
        f"mid-burst; all answered {waited:.1f}s after it came back; {len(rows)} checks, all "
        f"done, 0 lost, 0 duplicated ({proxy.connections} connections through the proxy)"
    )


async def test_a_bot_killed_with_checks_in_flight_answers_them_after_restart(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_url: str
) -> None:
    system = make_system(tmp_path, fake, redis_server.url, pg_url)
    try:
        bot = system.telegram_bot()
        await bot.wait_log("is up")
        posts = burst(system, 16)
        await rows_stored(system, len(posts))  # all queued; no worker yet: all in flight
        bot.kill()
        worker = system.worker()
        await worker.wait_log("worker ready")
        deadline = time.monotonic() + 300
        while not all(r.finished for r in await system.checks()):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        assert not [a for a in system.answers(posts).values() if a.finals]  # nobody answered
        restarted = time.monotonic()
        size = len(bot.text())
        bot.start()
        await bot.wait_log("is up", after=size)
        waited = await system.wait_answered(posts, timeout=120)
        await assert_one_reply_and_one_verdict_each(system, posts)
        finals = sum(len(a.finals) for a in system.answers(posts).values())
    finally:
        system.stop_all()
    assert finals == len(posts)  # the restarted bot delivered each verdict once
    print(
        f"\n[kill -9 bot] {len(posts)} checks in flight when the bot was killed; the "
        f"restarted bot answered all {waited:.1f}s after it came up "
        f"({time.monotonic() - restarted:.1f}s after the restart); 0 lost, 0 duplicated"
    )


async def test_a_bot_stopped_mid_burst_answers_everything_after_restart(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_url: str
) -> None:
    system = make_system(tmp_path, fake, redis_server.url, pg_url)
    try:
        worker = system.worker()
        await worker.wait_log("worker ready")
        bot = system.telegram_bot()
        await bot.wait_log("is up")
        posts = burst(system, 24)
        await rows_stored(system, 6)
        code = bot.stop()  # SIGTERM: stops waiting, queues what it fetched, exits
        assert code == 0, bot.text()[-3000:]
        posts += burst(system, 8, first=100)  # posted while the bot is down
        size = len(bot.text())
        bot.start()
        await bot.wait_log("is up", after=size)
        waited = await system.wait_answered(posts, timeout=180)
        await assert_one_reply_and_one_verdict_each(system, posts)
    finally:
        system.stop_all()
    print(
        f"\n[bot restart] {len(posts)} posts; the bot stopped mid-burst and restarted; all "
        f"answered {waited:.1f}s after it came back; 0 lost, 0 duplicated"
    )
