"""Security over the running system: the bot token in no log line, database row, Redis key or
file; media kept only under a chat's retention setting and gone once it expires (Redis's
append-only file included); no media bytes in the worker's job log; dashboard accounts
checked on every request."""

from __future__ import annotations

import asyncio
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import redis
from sqlalchemy import text, update

from base.settings import load_settings
from db.engine import create_engine, session_factory
from db.models import Check
from tests.bots.telegram_fake import FakeTelegram, command, message
from tests.reliability.conftest import make_system
from tests.reliability.harness import RedisServer, distinct_jpeg
from tests.reliability.system import TOKEN, Post, System, group, member

ADMIN = member(900)


def _redis_dump(server: RedisServer) -> bytes:
    """Every key and value in the test's Redis, as bytes."""
    client = redis.Redis(port=server.port)
    out = []
    try:
        for key in client.scan_iter(count=1000):
            out.append(key)
            kind = client.type(key)
            if kind == b"string":
                out.append(client.get(key) or b"")
            elif kind == b"hash":
                out += [k + v for k, v in client.hgetall(key).items()]
            elif kind == b"zset":
                out += client.zrange(key, 0, -1)
            elif kind == b"list":
                out += client.lrange(key, 0, -1)
            elif kind == b"set":
                out += list(client.smembers(key))
    finally:
        client.close()
    return b"\n".join(out)


def _files_under(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


async def _database_dump(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables = [
                r[0]
                for r in await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ]
            rows = []
            for table in tables:
                rows += [
                    repr(tuple(r)) for r in await conn.execute(text(f'SELECT * FROM "{table}"'))
                ]
            return "\n".join(rows)
    finally:
        await engine.dispose()


async def _answered(system: System, posts: list[Post]) -> None:
    await system.wait_answered(posts, timeout=240)


async def test_the_bot_token_is_never_logged_or_stored(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_url: str
) -> None:
    system = make_system(tmp_path, fake, redis_server.url, pg_url)
    fake.members[(group(0)["id"], ADMIN["id"])] = "administrator"
    secrets = [TOKEN.encode(), quote(TOKEN, safe="").encode(), TOKEN.split(":")[1].encode()]
    try:
        worker = system.worker(verbose=True)
        await worker.wait_log("worker ready")
        bot = system.telegram_bot(verbose=True)  # DEBUG: every request URL is logged
        await bot.wait_log("is up")
        chat, sender = group(0), member(1)
        posts = [
            system.post_photo(distinct_jpeg(1), chat=chat, sender=sender),
            # A video sent as a "PNG" document: the bytes decide, not the declared type.
            system.post_document(
                _tiny_video(tmp_path), chat=chat, sender=sender, name="cat.png", mime="image/png"
            ),
            # Not media at all, named as a video: refused by the worker with its reason.
            system.post_document(
                b"not a video\n" * 50, chat=chat, sender=sender, name="x.mp4", mime="video/mp4"
            ),
        ]
        # A photo whose file Telegram no longer has: the download fails with an error.
        gone = message(
            fake,
            chat=chat,
            sender=sender,
            photo=[
                {"file_id": "AgACAgQAAxkBAAIgone", "file_unique_id": "g", "width": 9, "height": 9}
            ],
        )
        fake.push("message", gone)
        posts.append(Post(chat["id"], gone["message_id"], "photo"))
        await _answered(system, posts)
        fake.push("message", message(fake, chat=chat, sender=ADMIN, **command("/audit 1d 50")))
        csv_file = await fake.wait_for(lambda c: c.method == "sendDocument", timeout=120)
    finally:
        system.stop_all()

    logs = (bot.text() + worker.text()).encode()
    assert b"/file/bot<redacted>/" in logs  # the download URL was logged, with the token cut
    assert b"<redacted>" in logs
    stored = await _database_dump(pg_url)
    places = {
        "logs": logs,
        "database": stored.encode(),
        "redis": _redis_dump(redis_server),
        "redis files": b"".join(_files_under(redis_server.folder).values()),
        "data dir": b"".join(_files_under(tmp_path / "data").values()),
        "audit CSV": csv_file.files["document"],
        "messages": "\n".join(c.describe() for c in fake.calls).encode(),
    }
    for where, data in places.items():
        for secret in secrets:
            assert secret not in data, f"the token is in the {where}"
    # The worker's job log names the check, never the media's bytes.
    assert ":analyze(" in worker.text() and "<media>" in worker.text()
    assert "b'\\xff\\xd8" not in worker.text() and "b'\\x00\\x00" not in worker.text()
    answers = system.answers(posts)
    assert "couldn't download" in (answers[gone["message_id"]].final_text or "")
    assert "Can't check this file" in (answers[posts[2].message_id].final_text or "")


def _tiny_video(tmp_path: Path) -> bytes:
    from bench import samples

    frames = samples.moving_face_frames(6, 128, 96)
    return samples.write_video(tmp_path / "tiny.mp4", frames, fps=6).read_bytes()


async def test_media_is_kept_only_under_retention_and_deleted_when_it_expires(
    tmp_path: Path, fake: FakeTelegram, redis_server: RedisServer, pg_url: str
) -> None:
    system = make_system(tmp_path, fake, redis_server.url, pg_url)
    keeper, other = group(1), group(2)
    fake.members[(keeper["id"], ADMIN["id"])] = "administrator"
    kept_bytes, dropped_bytes = distinct_jpeg(11), distinct_jpeg(12)
    data_dir = tmp_path / "data"
    try:
        worker = system.worker()
        await worker.wait_log("worker ready")
        bot = system.telegram_bot()
        await bot.wait_log("is up")
        fake.push(
            "message", message(fake, chat=keeper, sender=ADMIN, **command("/settings retention 1"))
        )
        await fake.wait_for(
            lambda c: c.method == "sendMessage" and "retention: 1 days" in c.params.get("text", "")
        )
        posts = [
            system.post_photo(kept_bytes, chat=keeper, sender=member(1)),
            system.post_photo(dropped_bytes, chat=other, sender=member(2)),
        ]
        await _answered(system, posts)
        on_disk = b"".join(_files_under(data_dir).values())
        assert kept_bytes in on_disk  # the chat asked to keep its media...
        assert dropped_bytes not in on_disk  # ...the other chat did not
        rows = {r.chat_id: r for r in await system.checks()}
        kept = rows[str(keeper["id"])]
        assert kept.media_path and Path(kept.media_path).read_bytes() == kept_bytes
        assert Path(kept.media_path).stat().st_mode & 0o077 == 0  # private to the service
        assert rows[str(other["id"])].media_path is None
        # Both photos travelled through Redis: its append-only file still holds them.
        redis_files = b"".join(_files_under(redis_server.folder).values())
        assert kept_bytes in redis_files and dropped_bytes in redis_files

        # A day later (moved back in time here), a worker's start-up purge deletes it all.
        worker.stop()
        engine = create_engine(load_settings(database_url=pg_url).database_url or "")
        async with session_factory(engine)() as session:
            await session.execute(
                update(Check).values(media_expires_at=Check.created_at).where(Check.id == kept.id)
            )
            await session.commit()
        await engine.dispose()
        size = len(worker.text())
        worker.start()
        await worker.wait_log("purged 1 expired media files", after=size)
        await worker.wait_log("rewrite its append-only file", after=size)
        deadline = time.monotonic() + 60
        while True:
            redis_files = b"".join(_files_under(redis_server.folder).values())
            if kept_bytes not in redis_files and dropped_bytes not in redis_files:
                break
            assert time.monotonic() < deadline, "Redis's file still holds the media"
            await asyncio.sleep(0.2)
        rows = {r.chat_id: r for r in await system.checks()}
    finally:
        system.stop_all()
    assert not Path(kept.media_path).exists()
    assert rows[str(keeper["id"])].media_path is None
    assert rows[str(keeper["id"])].label == kept.label  # the verdict stays, the media goes
    assert kept_bytes not in b"".join(_files_under(data_dir).values())


def test_a_deleted_dashboard_account_loses_access_at_once(tmp_path: Path, queue_name: str) -> None:
    from dashboard.accounts import create_account
    from dashboard.app import create_app
    from db.schema import upgrade_database
    from tests.services import REDIS_URL

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    url = f"sqlite+aiosqlite:///{tmp_path / 'dash.sqlite3'}"
    upgrade_database(url)
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=url,
        redis_url=REDIS_URL,
        queue_name=queue_name,
        dashboard_secret="secret-" + queue_name,
    )
    asyncio.run(create_account(url, name="eve", password="a long enough password"))
    with TestClient(create_app(settings, migrate=False), base_url="https://testserver") as client:
        form = client.get("/login")
        cookie = form.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
        token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/login",
            data={"name": "eve", "password": "a long enough password", "csrf_token": token},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        assert client.get("/checks").status_code == 200

        async def delete() -> None:
            engine = create_engine(url)
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM users"))
            await engine.dispose()

        asyncio.run(delete())
        after = client.get("/checks", follow_redirects=False)  # the same cookie
        assert after.status_code in (302, 303, 401) and "/login" in after.headers.get(
            "location", "/login"
        )
