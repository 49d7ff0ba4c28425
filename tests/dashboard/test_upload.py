"""The upload form queues a ``web`` check through the real queue client and Redis."""

from __future__ import annotations

import asyncio

import redis

from base.settings import Settings
from bench import samples
from db.checks import get_check
from db.engine import create_engine, session_factory
from db.models import Check
from tests.dashboard.conftest import TestClient, csrf_of
from tests.services import REDIS_URL


def _stored(settings: Settings, check_id: int) -> Check | None:
    async def read() -> Check | None:
        engine = create_engine(str(settings.database_url))
        async with session_factory(engine)() as session:
            check = await get_check(session, check_id=check_id)
        await engine.dispose()
        return check

    return asyncio.run(read())


def _queued(settings: Settings) -> int:
    r = redis.Redis.from_url(REDIS_URL)
    try:
        return int(r.zcard(settings.queue_name))
    finally:
        r.close()


def test_upload_queues_a_web_check(signed_in: TestClient, settings: Settings) -> None:
    token = csrf_of(signed_in.get("/upload").text)
    photo = samples.encode_image(samples.astronaut(), "PNG")
    response = signed_in.post(
        "/upload",
        data={"csrf_token": token},
        files={"file": ("astronaut.png", photo, "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    check_id = int(response.headers["location"].rsplit("/", 1)[1])
    check = _stored(settings, check_id)
    assert check is not None
    assert (check.platform, check.request_kind, check.status) == ("web", "upload", "queued")
    assert (check.file_name, check.mime_type, check.media_kind) == (
        "astronaut.png",
        "image/png",
        "image",
    )
    assert check.byte_size == len(photo)
    assert check.author_name == "mod"
    assert _queued(settings) == 1
    page = signed_in.get(response.headers["location"])
    assert 'http-equiv="refresh"' in page.text


def test_upload_over_the_limit_is_refused_unqueued(
    signed_in: TestClient, settings: Settings
) -> None:
    token = csrf_of(signed_in.get("/upload").text)
    response = signed_in.post(
        "/upload",
        data={"csrf_token": token},
        files={"file": ("big.mp4", b"\0" * (settings.max_media_bytes + 1), "video/mp4")},
        follow_redirects=False,
    )
    assert response.status_code == 413
    assert "larger than the limit" in response.text
    assert _queued(settings) == 0


def test_empty_upload_and_missing_token_are_refused(
    signed_in: TestClient, settings: Settings
) -> None:
    token = csrf_of(signed_in.get("/upload").text)
    empty = signed_in.post(
        "/upload",
        data={"csrf_token": token},
        files={"file": ("empty.png", b"", "image/png")},
        follow_redirects=False,
    )
    assert empty.status_code == 400
    no_token = signed_in.post(
        "/upload", files={"file": ("a.png", b"\x89PNG", "image/png")}, follow_redirects=False
    )
    assert no_token.status_code == 403
    assert _queued(settings) == 0
