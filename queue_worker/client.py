"""The producer side: ``submit`` media for a check, ``wait`` for its verdict.

Bots and ``fakewatch submit`` use this; it never imports ``inference``::

    client = await QueueClient.connect(settings)
    check_id = await client.submit(data, MediaContext(platform="telegram", chat_id="42"))
    result = await client.wait(check_id, timeout=120)
    await client.close()

The check row is written first (``queued``), then the job is enqueued under the
row's fixed job id, so it cannot be enqueued twice. Verdicts are read from the
store, which is the source of truth: a verdict survives Redis and worker restarts.

Back-pressure: once ``FAKEWATCH_MAX_QUEUE_DEPTH`` jobs wait, ``submit`` refuses new
ones with :class:`QueueFull` until the workers catch up. Redis or the database
restarting is waited out for a few seconds (:mod:`queue_worker.transient`) before
anything is refused or failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from types import TracebackType

from arq.connections import ArqRedis, create_pool
from arq.constants import job_key_prefix, result_key_prefix
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, WatchError

from base.errors import EmptyMedia, QueueFull, QueueUnavailable, TooManyBytes
from base.settings import Settings
from db.checks import create_check, get_check_by_job_id, mark_failed, require_check
from db.engine import database_url
from db.errors import CheckNotFound, InvalidValue
from db.models import Check
from db.store import Store
from queue_worker.broker import redis_settings
from queue_worker.contracts import ANALYZE, CheckResult, MediaContext, job_id
from queue_worker.errors import CheckTimeout
from queue_worker.notices import DoneNotices
from queue_worker.records import check_result
from queue_worker.transient import RETRY_WITHIN_S, is_transient, retrying

__all__ = ["CheckNotFound", "CheckTimeout", "QueueClient", "QueueFull", "QueueUnavailable"]

log = logging.getLogger(__name__)

# How often ``wait`` looks at the store: quickly at first, then every half second. A
# worker's notice (queue_worker.notices) wakes the waiter as soon as the check is done;
# the polls only cover a notice lost while Redis was restarting.
_POLL_FIRST_S = 0.02
_POLL_MAX_S = 0.5


class QueueClient:
    """Submits checks to the queue and reads their results from the store."""

    def __init__(
        self,
        *,
        settings: Settings,
        redis: ArqRedis,
        store: Store,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.store = store
        #: The store's session factory, for bots to reuse (chat settings, replies, audit).
        self.sessions = store.sessions
        self.queue_name = settings.queue_name
        self.max_media_bytes = settings.max_media_bytes
        self.max_queue_depth = settings.max_queue_depth
        #: How long a restarting Redis or database is waited out before giving up.
        self.retry_within_s = RETRY_WITHIN_S
        self.notices = DoneNotices(redis, settings.queue_name)

    @classmethod
    async def connect(cls, settings: Settings, *, migrate: bool = True) -> QueueClient:
        """Connect to Redis (starting the embedded one if ``REDIS_URL`` is unset) and the store.

        Args:
            migrate: bring the schema to the newest revision first (cheap when it is).

        Raises:
            QueueUnavailable: Redis cannot be reached.
            MigrationError: the schema could not be upgraded.
        """
        url = database_url(settings)
        rs = await asyncio.to_thread(redis_settings, settings)
        try:
            redis = await create_pool(rs, default_queue_name=settings.queue_name)
        except (RedisError, OSError) as e:
            raise QueueUnavailable(f"cannot reach Redis: {e}") from e
        try:
            store = await Store.open(url, migrate=migrate)
        except BaseException:
            await redis.aclose(close_connection_pool=True)
            raise
        return cls(settings=settings, redis=redis, store=store)

    async def close(self) -> None:
        """Close the Redis pool and the database engine."""
        await self.notices.close()
        await self.redis.aclose(close_connection_pool=True)
        await self.store.close()

    async def __aenter__(self) -> QueueClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def queue_depth(self) -> int:
        """How many jobs are queued or running now.

        Raises:
            QueueUnavailable: Redis cannot be reached.
        """
        try:
            return int(
                await retrying(
                    lambda: self.redis.zcard(self.queue_name),
                    within=self.retry_within_s,
                    what="reading the queue depth",
                )
            )
        except (RedisError, OSError) as e:
            raise QueueUnavailable(f"cannot reach Redis: {e}") from e

    async def submit(self, media: bytes, context: MediaContext) -> int:
        """Store a ``queued`` check for ``media`` and enqueue its analysis.

        Returns:
            The check id, to ``wait`` on or to find the verdict later.

        Raises:
            EmptyMedia: no bytes.
            TooManyBytes: more bytes than ``FAKEWATCH_MAX_MEDIA_BYTES`` (nothing stored).
            QueueFull: ``FAKEWATCH_MAX_QUEUE_DEPTH`` jobs are waiting (nothing stored).
            QueueUnavailable: Redis refused the job (the check is stored as failed).
            InvalidValue: an unknown platform or request kind.
        """
        if not media:
            raise EmptyMedia("the file is empty")
        if len(media) > self.max_media_bytes:
            raise TooManyBytes(
                f"the file has {len(media):,} bytes; the limit is {self.max_media_bytes:,}"
            )
        if self.max_queue_depth:
            depth = await self.queue_depth()
            if depth >= self.max_queue_depth:
                raise QueueFull(depth, self.max_queue_depth)
        # The job id is chosen here, so a retry after an answer lost on the way back
        # finds the row the first attempt made instead of making a second one.
        fixed_job_id = uuid.uuid4().hex
        check = await retrying(
            lambda: self._store(media, context, fixed_job_id),
            within=self.retry_within_s,
            what="storing a check",
        )
        try:
            await retrying(
                lambda: self._enqueue(check, media),
                within=self.retry_within_s,
                what="queueing a check",
            )
        except (RedisError, OSError) as e:
            async with self.sessions() as session:
                await mark_failed(
                    session,
                    check_id=check.id,
                    reason="the queue could not be reached; please try again",
                    reason_code=QueueUnavailable.code,
                )
            raise QueueUnavailable(
                f"cannot enqueue check {check.id}: {e}", check_id=check.id
            ) from e
        log.debug("check %d queued (%d bytes)", check.id, len(media))
        return check.id

    async def requeue(self, check_id: int, media: bytes) -> bool:
        """Queue an open check's job again, for a producer that may have died before it did.

        A bot killed between storing a check and queueing its job is handed the message
        again after its restart; this queues the job under the check's own job id. arq
        refuses a job id it already holds (queued, running or finished), and a worker
        finishes an already-finished check by returning its outcome, so calling this for
        a check whose job exists changes nothing.

        Returns:
            Whether a job was queued (``False``: the job existed or the check is finished).

        Raises:
            CheckNotFound: no such check.
            InvalidValue: the bytes are not the check's (their SHA-256 differs).
            QueueUnavailable: Redis cannot be reached.
        """
        async with self.sessions() as session:
            check = await require_check(session, check_id=check_id)
        if check.finished:
            return False
        if hashlib.sha256(media).hexdigest() != check.sha256:
            raise InvalidValue(f"these bytes are not those of check {check_id}")
        try:
            job = await retrying(
                lambda: self._enqueue(check, media),
                within=self.retry_within_s,
                what="queueing a check again",
            )
        except (RedisError, OSError) as e:
            raise QueueUnavailable(f"cannot enqueue check {check.id}: {e}") from e
        if job:
            log.info("check %d: its job was missing and is queued again", check.id)
        return job

    async def _store(self, media: bytes, context: MediaContext, fixed_job_id: str) -> Check:
        async with self.sessions() as session:
            existing = await get_check_by_job_id(session, job_id=fixed_job_id)
            if existing is not None:
                return existing
            return await create_check(
                session,
                job_id=fixed_job_id,
                platform=context.platform,
                request_kind=context.request_kind,
                chat_id=context.chat_id,
                chat_title=context.chat_title,
                message_id=context.message_id,
                author_id=context.author_id,
                author_name=context.author_name,
                requested_by=context.requested_by,
                media_kind=context.media_kind,
                file_name=context.file_name,
                mime_type=context.mime_type,
                reply_to=context.reply_to,
                sha256=hashlib.sha256(media).hexdigest(),
                byte_size=len(media),
            )

    async def _enqueue(self, check: Check, media: bytes) -> bool:
        """Queue the check's job; ``False`` when arq already holds its job id.

        arq enqueues in a transaction that WATCHes the job's key. When the connection
        dies inside it (Redis restarting), redis-py raises ``WatchError``, and arq
        either lets it out or reads it as "the job already exists" and returns
        ``None``. Both are a lost connection, not a conflict: they are raised as a
        connection error, which the caller's retry waits out.

        Raises:
            redis.exceptions.ConnectionError: the connection was lost on the way.
        """
        jid = job_id(self.queue_name, check.job_id)
        try:
            job = await self.redis.enqueue_job(
                ANALYZE, check.id, media, _job_id=jid, _queue_name=self.queue_name
            )
        except WatchError as e:
            raise RedisConnectionError(f"lost the connection while queueing: {e}") from e
        if job is not None:
            return True
        # arq refuses a job id it already holds: a retry after a lost answer is a no-op.
        if await self.redis.exists(job_key_prefix + jid, result_key_prefix + jid):
            return False
        raise RedisConnectionError("lost the connection while queueing: the job is not there")

    async def get(self, check_id: int) -> CheckResult:
        """The check as stored now, finished or not.

        Raises:
            CheckNotFound: no such check.
        """
        async with self.sessions() as session:
            return check_result(await require_check(session, check_id=check_id))

    async def wait(self, check_id: int, timeout: float) -> CheckResult:
        """The check once it is done or failed.

        Raises:
            CheckTimeout: still unfinished after ``timeout`` seconds (it may finish later).
            CheckNotFound: no such check.
        """
        deadline = time.monotonic() + timeout
        delay = _POLL_FIRST_S
        done = self.notices.watch(check_id)
        try:
            while True:
                done.clear()
                try:
                    result = await self.get(check_id)
                except Exception as e:
                    # The store restarting is no reason to give up on a verdict: keep polling.
                    if not is_transient(e) or time.monotonic() > deadline:
                        raise
                    log.debug("check %d: the store is unreachable (%s); still waiting", check_id, e)
                else:
                    if result.finished:
                        return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CheckTimeout(check_id, timeout)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), min(delay, left))
                delay = min(delay * 2, _POLL_MAX_S)
        finally:
            self.notices.unwatch(check_id, done)
