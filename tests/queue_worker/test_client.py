"""The producer side on real Redis and a real store: submit, the job in Redis, wait, errors."""

from __future__ import annotations

import asyncio
import hashlib
import pickle
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
from arq.connections import ArqRedis
from arq.constants import job_key_prefix

from base.errors import EmptyMedia, MediaTooLarge, QueueFull, QueueUnavailable
from base.settings import Settings
from base.vocabulary import Label
from db.checks import get_check, require_check, store_verdict
from db.errors import CheckNotFound, InvalidValue
from db.verdicts import VerdictRecord
from queue_worker.client import QueueClient
from queue_worker.contracts import ANALYZE, MediaContext, job_id
from queue_worker.errors import CheckTimeout
from tests.queue_worker.media import face_jpeg
from tests.reliability.harness import TcpProxy
from tests.services import REDIS_URL

CTX = MediaContext(
    platform="telegram",
    chat_id="-100",
    chat_title="Group",
    message_id="5",
    author_id="42",
    author_name="Ann",
    request_kind="auto",
    media_kind="image",
    mime_type="image/jpeg",
    reply_to={"chat_id": -100, "message_id": 5},
)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[QueueClient]:
    c = await QueueClient.connect(settings)
    yield c
    await c.close()


async def test_submit_stores_a_queued_check_and_one_job(
    client: QueueClient, arq_redis: ArqRedis
) -> None:
    media = face_jpeg(20)
    check_id = await client.submit(media, CTX)
    async with client.sessions() as s:
        check = await require_check(s, check_id=check_id)
    assert (check.status, check.platform, check.chat_id, check.author_name) == (
        "queued",
        "telegram",
        "-100",
        "Ann",
    )
    assert check.sha256 == hashlib.sha256(media).hexdigest() and check.byte_size == len(media)
    assert check.reply_to == {"chat_id": -100, "message_id": 5}

    jid = job_id(client.queue_name, check.job_id)
    queued = await arq_redis.queued_jobs(queue_name=client.queue_name)
    assert [(j.job_id, j.function, j.args) for j in queued] == [(jid, ANALYZE, (check_id, media))]
    # The job id is fixed by the row: enqueueing it again is refused.
    assert await arq_redis.enqueue_job(ANALYZE, check_id, media, _job_id=jid) is None
    assert len(await arq_redis.queued_jobs(queue_name=client.queue_name)) == 1
    raw = await arq_redis.get(job_key_prefix + jid)
    assert raw is not None and pickle.loads(raw)["a"] == (check_id, media)

    result = await client.get(check_id)
    assert (result.check_id, result.status, result.label) == (check_id, "queued", None)


async def test_media_limits(settings: Settings) -> None:
    small = settings.model_copy(update={"max_media_bytes": 100})
    async with await QueueClient.connect(small) as client:
        with pytest.raises(MediaTooLarge):
            await client.submit(b"x" * 101, CTX)
        with pytest.raises(EmptyMedia):
            await client.submit(b"", CTX)
        assert await client.redis.zcard(settings.queue_name) == 0
        async with client.sessions() as s:
            with pytest.raises(CheckNotFound):
                await require_check(s, check_id=1)  # nothing was stored


async def test_wait_returns_the_stored_verdict(client: QueueClient) -> None:
    check_id = await client.submit(face_jpeg(21), CTX)

    async def finish_later() -> None:
        await asyncio.sleep(0.3)
        async with client.sessions() as s:
            await store_verdict(
                s,
                check_id=check_id,
                verdict=VerdictRecord(
                    label=Label.REAL,
                    fake_probability=0.1,
                    faces=1,
                    frames=1,
                    model="m@1",
                    timings={"decode": 0.01},
                ),
            )

    result, _ = await asyncio.gather(client.wait(check_id, timeout=30), finish_later())
    assert (result.status, result.label, result.model) == ("done", "real", "m@1")
    assert result.timings == {"decode": 0.01} and result.finished_at is not None


async def test_wait_times_out(client: QueueClient) -> None:
    check_id = await client.submit(face_jpeg(22), CTX)
    with pytest.raises(CheckTimeout) as e:
        await client.wait(check_id, timeout=0.2)
    assert e.value.check_id == check_id and e.value.code == "check_timeout"
    with pytest.raises(CheckNotFound):
        await client.get(987654)


async def test_redis_down_at_submit_fails_the_check(client: QueueClient) -> None:
    # Without a depth limit nothing asks Redis before the row is stored.
    client.max_queue_depth = 0
    client.retry_within_s = 0.5
    working = client.redis
    client.redis = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    try:
        with pytest.raises(QueueUnavailable):
            await client.submit(face_jpeg(23), CTX)
    finally:
        await client.redis.aclose()
        client.redis = working
    async with client.sessions() as s:
        check = await require_check(s, check_id=1)
    assert (check.status, check.reason_code) == ("failed", "queue_unavailable")


@pytest.mark.parametrize(
    "command",
    [
        # arq lets redis-py's WatchError out (it was once read as a failure: no retry)
        "EXISTS",
        # arq reads the WatchError as "the job exists" (it was once read as queued)
        "EXEC",
    ],
)
async def test_a_connection_lost_inside_the_enqueue_transaction_is_waited_out(
    client: QueueClient, arq_redis: ArqRedis, command: str
) -> None:
    url = urlparse(REDIS_URL)
    relay = TcpProxy((url.hostname or "127.0.0.1", url.port or 6379))
    relay.start()
    working = client.redis
    client.redis = ArqRedis(host="127.0.0.1", port=relay.port, db=int(url.path[1:] or 0))
    try:
        await client.redis.ping()
        relay.cut_when_sent(f"\r\n{command}\r\n".encode())
        check_id = await client.submit(face_jpeg(25), CTX)
        assert relay.cuts == 1
    finally:
        await client.redis.aclose()
        client.redis = working
        relay.close()
    async with client.sessions() as s:
        check = await require_check(s, check_id=check_id)
    assert check.status == "queued"
    queued = await arq_redis.queued_jobs(queue_name=client.queue_name)
    assert [j.job_id for j in queued] == [job_id(client.queue_name, check.job_id)]


async def test_redis_down_before_anything_is_stored_stores_nothing(client: QueueClient) -> None:
    client.retry_within_s = 0.5
    working = client.redis
    client.redis = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    try:
        with pytest.raises(QueueUnavailable):
            await client.submit(face_jpeg(24), CTX)  # the queue depth could not be read
    finally:
        await client.redis.aclose()
        client.redis = working
    async with client.sessions() as s:
        assert await get_check(s, check_id=1) is None


async def test_a_full_queue_refuses_new_checks_and_stores_nothing(client: QueueClient) -> None:
    client.max_queue_depth = 2
    ids = [await client.submit(face_jpeg(30 + n), CTX) for n in range(2)]
    assert await client.queue_depth() == 2
    with pytest.raises(QueueFull) as refused:
        await client.submit(face_jpeg(32), CTX)
    assert isinstance(refused.value, QueueUnavailable)  # callers that know only that still cope
    assert (refused.value.code, refused.value.depth, refused.value.limit) == ("queue_full", 2, 2)
    async with client.sessions() as s:
        assert await get_check(s, check_id=max(ids) + 1) is None


async def test_requeue_queues_a_missing_job_once_and_leaves_existing_ones_alone(
    client: QueueClient, arq_redis: ArqRedis
) -> None:
    media = face_jpeg(21)
    check_id = await client.submit(media, CTX)
    assert await client.requeue(check_id, media) is False  # its job is there: refused
    # The producer died between storing the check and queueing its job: no job in Redis.
    async with client.sessions() as s:
        check = await require_check(s, check_id=check_id)
    jid = job_id(client.queue_name, check.job_id)
    await arq_redis.delete(job_key_prefix + jid)
    await arq_redis.zrem(client.queue_name, jid)
    assert await client.requeue(check_id, media) is True
    queued = await arq_redis.queued_jobs(queue_name=client.queue_name)
    assert [(j.job_id, j.args) for j in queued] == [(jid, (check_id, media))]
    assert await client.requeue(check_id, media) is False  # and only once
    with pytest.raises(InvalidValue):
        await client.requeue(check_id, face_jpeg(22))  # not this check's bytes
    async with client.sessions() as s:
        await store_verdict(
            s, check_id=check_id, verdict=VerdictRecord(label=Label.REAL, model="m")
        )
    await arq_redis.delete(job_key_prefix + jid)
    await arq_redis.zrem(client.queue_name, jid)
    assert await client.requeue(check_id, media) is False  # finished: nothing to do
    with pytest.raises(CheckNotFound):
        await client.requeue(10**9, media)
