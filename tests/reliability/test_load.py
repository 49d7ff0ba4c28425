"""Load: a burst of media posts through the fake Telegram and the fake Discord at once, into
the real bots, Redis, two workers and PostgreSQL, every process a real ``fakewatch`` child.

Every post must get exactly one reply and one stored verdict (none lost, none duplicated,
none reused: every image differs), every process's resident memory stays under its
bound, and the time to drain the burst is printed (run with ``-s``).
``FAKEWATCH_LOAD_POSTS`` sets the posts per platform (500).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import pytest
from arq.connections import RedisSettings, create_pool

from bench import samples
from tests.bots import discord_payloads as dp
from tests.bots.discord_fake import FakeDiscord
from tests.bots.telegram_fake import FakeTelegram, message, video
from tests.reliability.conftest import make_system
from tests.reliability.harness import RedisServer, distinct_jpeg
from tests.reliability.system import Post, discord_replies, duplicates, group, member

pytestmark = pytest.mark.slow

POSTS = int(os.environ.get("FAKEWATCH_LOAD_POSTS", "500"))
CHATS = 20
USERS = 100
# Resident memory bounds, MiB: generous for the machine, tight enough to catch a leak
# that grows with the number of posts.
BOUNDS_MB = {"telegram": 400, "discord": 400, "worker-1": 1500, "worker-2": 1500, "redis": 300}
VERDICT = re.compile(r"check \d+")


def _video(path: Path, n: int) -> bytes:
    frames = samples.moving_face_frames(8, 128, 96)
    for i, f in enumerate(frames):
        f[: 4 + n % 8, : 8 + (n * 7 + i) % 100, 1] = (n * 29) % 256  # unlike any other clip
    return samples.write_video(path, frames, fps=8).read_bytes()


async def _discord_burst(discord: FakeDiscord, n: int) -> list[str]:
    """``n`` image posts from 50 people over the fake guild's three channels."""
    for k in range(50):
        user = dp.user(dp.snowflake(), f"poster{k}")
        discord.users[f"poster{k}"] = user
        discord.members[f"poster{k}"] = dp.member(user, roles=[])
    channels = list(discord.channels)
    ids = []
    for k in range(n):
        channel = channels[k % len(channels)]
        data = distinct_jpeg(100_000 + k)
        attachment = discord.upload(data, f"photo{k}.jpg", "image/jpeg", channel=channel)
        posted = await discord.post_message(
            author=f"poster{k % 50}", channel=channel, attachments=[attachment]
        )
        ids.append(str(posted["id"]))
    return ids


async def test_a_burst_on_both_platforms_each_post_one_reply_and_one_verdict(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_url: str
) -> None:
    system = make_system(tmp_path, fake, redis_server.url, pg_url, FAKEWATCH_JOB_TIMEOUT_S=120)
    system.sampler.watch("redis", lambda: redis_server.pid)
    videos = {n: _video(tmp_path / f"v{n}.mp4", n) for n in range(0, POSTS, 25)}
    async with FakeDiscord() as discord:
        try:
            workers = [system.worker("worker-1"), system.worker("worker-2")]
            for w in workers:
                await w.wait_log("worker ready")
            telegram = system.telegram_bot("telegram")
            # The fake guild has three channels: its per-chat limit would skip most of a
            # burst this size, and the limits have tests of their own.
            discord_bot = system.discord_bot(
                discord, FAKEWATCH_CHAT_CHECKS_PER_MINUTE=0, FAKEWATCH_USER_CHECKS_PER_MINUTE=0
            )
            await telegram.wait_log("is up")
            await discord_bot.wait_log("is up")
            system.sampler.start()
            load_before = os.getloadavg()

            start = time.monotonic()
            posts: list[Post] = []
            for n in range(POSTS):
                chat, sender = group(n % CHATS), member(n % USERS)
                if n in videos:
                    msg = message(fake, chat=chat, sender=sender, video=video(fake, videos[n]))
                    fake.push("message", msg)
                    posts.append(Post(chat["id"], msg["message_id"], "video"))
                else:
                    posts.append(system.post_photo(distinct_jpeg(n), chat=chat, sender=sender))
            discord_ids = await _discord_burst(discord, POSTS)
            pushed_s = time.monotonic() - start
            await system.wait_answered(posts, timeout=2400)
            telegram_s = time.monotonic() - start
            deadline = time.monotonic() + 2400
            while True:
                replies = discord_replies(discord, set(discord_ids))
                if all(replies.values()):
                    break
                assert time.monotonic() < deadline, "Discord posts unanswered"
                await asyncio.sleep(0.25)
            drained_s = time.monotonic() - start
            load_after = os.getloadavg()

            answers = system.answers(posts)
            rows = await system.checks()
            redis = await create_pool(RedisSettings.from_dsn(redis_server.url))
            try:
                queued = await redis.zcard(system.queue)
            finally:
                await redis.aclose()
        finally:
            system.stop_all()

    # Telegram: one reply per post, edited once into its verdict.
    assert all(len(a.replies) == 1 for a in answers.values())
    assert all(len(a.finals) == 1 and VERDICT.search(a.finals[0]) for a in answers.values()), [
        (k, a.finals) for k, a in answers.items() if len(a.finals) != 1
    ]
    # Discord: one verdict reply per post.
    assert all(len(r) == 1 and VERDICT.search(r[0]) for r in replies.values()), [
        (k, r) for k, r in replies.items() if len(r) != 1
    ]
    # One stored verdict per post: no post lost, none stored twice, nothing reused.
    assert len(rows) == 2 * POSTS
    keys = [(r.platform, r.message_id) for r in rows]
    assert not duplicates(keys)
    assert {m for p, m in keys if p == "telegram"} == {str(p.message_id) for p in posts}
    assert {m for p, m in keys if p == "discord"} == set(discord_ids)
    assert all(r.status == "done" and r.deduplicated_from is None for r in rows)
    assert sum(r.media_kind == "video" for r in rows) == len(videos)
    assert queued == 0
    # Memory stayed bounded in every process.
    peaks = {name: system.sampler.peak(name) for name in BOUNDS_MB}
    assert all(0 < peaks[n] < bound for n, bound in BOUNDS_MB.items()), peaks

    runs = sum(r.attempts for r in rows)
    latency = sorted((r.finished_at - r.created_at).total_seconds() for r in rows)  # type: ignore[operator]
    by_worker = {w.name: w.text().count(":analyze(") for w in workers}
    print(
        f"\n[load] {POSTS} Telegram posts ({len(videos)} videos) in {CHATS} chats from "
        f"{USERS} users and {POSTS} Discord posts in 3 channels from 50 users, pushed in "
        f"{pushed_s:.1f}s; Telegram all answered {telegram_s:.1f}s after the first post, "
        f"both {drained_s:.1f}s = {2 * POSTS / drained_s:.2f} posts/s; {len(rows)} checks, "
        f"{runs} job runs, 0 lost, 0 duplicated; queue-to-verdict latency median "
        f"{latency[len(latency) // 2]:.1f}s, max {latency[-1]:.1f}s\n"
        f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        f"({os.cpu_count()} CPUs); jobs per worker {by_worker}\n"
        f"  resident memory:\n{system.sampler.summary()}"
    )
