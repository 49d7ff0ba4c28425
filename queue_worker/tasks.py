"""The jobs: ``analyze`` one media item, and the worker's housekeeping.

``analyze`` ends every check it is given in exactly one stored outcome:

* the same bytes already judged by the same model: the verdict is reused
  (no inference), the new row still records who posted it where;
* otherwise inference runs in the worker's thread pool (off the event loop), under
  a per-(model, sha256) Redis lock so two jobs with the same bytes run it once;
* media that cannot be judged is stored ``failed`` with the reason; transient
  trouble (database or Redis unreachable, an inference error) is retried with
  backoff and stored ``failed`` once the tries are used up;
* a job that runs again after a crash finds its check ``running`` and finishes
  it, or finds it finished and returns what is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from arq import Retry
from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.errors import FakeWatchError
from base.settings import Settings
from base.vocabulary import JUDGED, Label, ReasonCode, Status, Thresholds, decide_label
from db.chat_settings import default_chat_settings, get_chat_settings
from db.checks import (
    find_done_by_hash,
    get_check,
    mark_failed,
    mark_running,
    open_checks,
    store_verdict,
)
from db.columns import utcnow
from db.models import ChatSettings, Check
from db.store import Store
from db.verdicts import VerdictRecord
from inference.hashes import perceptual_hash
from queue_worker.contracts import CheckResult, job_id
from queue_worker.notices import announce
from queue_worker.records import check_result
from queue_worker.retention import compact_redis, keep_media_file, purge_expired_media
from queue_worker.transient import retrying
from queue_worker.verdicts import reused_verdict, verdict_record

if TYPE_CHECKING:
    from inference.pipeline import Pipeline

log = logging.getLogger(__name__)

# A check still open this long after it was made, with no job in Redis, was lost (its
# producer died between storing it and queueing its job, or Redis lost its data). Longer
# than a producer waits out an outage before it queues the job (transient.RETRY_WITHIN_S).
LOST_AFTER = timedelta(minutes=1)
_LOCK_POLL_S = 0.1
# How long a job waits out the store or Redis being unreachable before it counts a try.
OUTAGE_WAIT_S = 20.0
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


class InferenceFailed(FakeWatchError):
    """The model raised on this item (out of memory, a driver error): worth another try."""

    code = ReasonCode.INFERENCE_ERROR


class LockBusy(FakeWatchError):
    """Another job held the same bytes' lock for the whole time this job could wait."""

    code = ReasonCode.LOCK_BUSY


# Worth retrying: the next try may well succeed.
TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    InferenceFailed,
    LockBusy,
)


@dataclass
class WorkerState:
    """What ``on_startup`` builds once and every job shares."""

    settings: Settings
    store: Store
    pipeline: Pipeline
    executor: ThreadPoolExecutor
    redis: ArqRedis
    #: How long a job waits out the store or Redis being unreachable before it counts a try.
    outage_wait_s: float = OUTAGE_WAIT_S

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The store's sessions."""
        return self.store.sessions

    @property
    def model_id(self) -> str:
        """The loaded weights' id: what dedup keys on."""
        return self.pipeline.model_id

    def model_thresholds(self, kind: str | None) -> Thresholds:
        """The thresholds of the weights that judge ``kind`` (photos may have their own)."""
        return self.pipeline.manifest_for("image" if kind == "image" else "video").thresholds


def backoff(job_try: int) -> float:
    """Seconds before try ``job_try + 1``: 1, 4, 16... capped at a minute."""
    return float(min(60, 4 ** (job_try - 1)))


def chat_thresholds(model: Thresholds, chat: ChatSettings) -> Thresholds:
    """The chat's thresholds as they are now (the model's where the chat has none)."""
    return model.overridden(fake=chat.fake_threshold, real=chat.real_threshold)


def chat_label(state: WorkerState, chat: ChatSettings, verdict: VerdictRecord) -> Label:
    """The label the check is stored with, under the chat's thresholds: a judged face's
    label is decided again from its fake probability (on the scale of the weights that
    judged its kind), other labels stay."""
    if verdict.label not in JUDGED:
        return verdict.label
    thresholds = chat_thresholds(state.model_thresholds(verdict.media_kind), chat)
    return decide_label(verdict.fake_probability, thresholds)


async def chat_settings_of(session: AsyncSession, check: Check) -> ChatSettings:
    """The settings of the check's chat as they are now (defaults for a check of no chat)."""
    if not check.chat_id:
        return default_chat_settings(platform=check.platform, chat_id="")
    return await get_chat_settings(session, platform=check.platform, chat_id=check.chat_id)


def _analyze_sync(pipeline: Pipeline, media: bytes) -> VerdictRecord:
    verdict = pipeline.analyze(media)
    phash = perceptual_hash(media) if verdict.media_kind == "image" else None
    return verdict_record(verdict, phash=phash)


class Analysis:
    """One run of the ``analyze`` job for one check."""

    def __init__(self, state: WorkerState, *, check_id: int, media: bytes, job_try: int) -> None:
        self.state = state
        self.check_id = check_id
        self.media = media
        self.job_try = job_try
        self.deadline = time.monotonic() + self._budget()

    def _budget(self) -> float:
        # Leave arq's job timeout a margin to store the outcome of an inference timeout.
        timeout = self.state.settings.job_timeout_s
        return max(0.5, timeout - min(5.0, timeout * 0.2))

    async def run(self) -> CheckResult | None:
        """Finish the check; ``None`` if it no longer exists."""
        settings = self.state.settings
        async with self.state.sessions() as session:
            check = await get_check(session, check_id=self.check_id)
            if check is None:
                log.warning("check %d is not in the store; job dropped", self.check_id)
                return None
            if check.finished:
                return check_result(check)  # a re-run after a crash: the outcome stands
            check = await mark_running(session, check_id=self.check_id)
            chat = await chat_settings_of(session, check)
        if len(self.media) > settings.max_media_bytes:
            return await self._fail(
                check,
                f"the file has {len(self.media):,} bytes; the limit is "
                f"{settings.max_media_bytes:,}",
                ReasonCode.TOO_MANY_BYTES,
                label=Label.UNSUPPORTED,
            )
        if hashlib.sha256(self.media).hexdigest() != check.sha256:
            return await self._fail(
                check, "the media changed in the queue", ReasonCode.MEDIA_MISMATCH
            )
        done = await self._judge(check)
        if chat.retention_days > 0 and done.status == Status.DONE:
            async with self.state.sessions() as session:
                await keep_media_file(
                    session,
                    data_dir=settings.data_dir,
                    check=check,
                    media=self.media,
                    days=chat.retention_days,
                )
        return done

    async def _judge(self, check: Check) -> CheckResult:
        reused = await self._reuse(check)
        if reused is not None:
            return reused
        key = f"{self.state.settings.queue_name}:lock:{self.state.model_id}:{check.sha256}"
        await self._lock(key, check)
        try:
            # The job that held the lock may have judged these bytes meanwhile.
            reused = await self._reuse(check)
            if reused is not None:
                return reused
            return await self._infer(check)
        finally:
            await self.state.redis.eval(_RELEASE, 1, key, check.job_id)  # type: ignore[misc]

    async def _lock(self, key: str, check: Check) -> None:
        """Own the bytes' lock, or raise once the time is up (a reused verdict also ends it)."""
        ttl_ms = int((self.state.settings.job_timeout_s + 5) * 1000)
        redis = self.state.redis
        while True:
            if await redis.set(key, check.job_id, nx=True, px=ttl_ms):
                return
            holder = await redis.get(key)
            if holder is not None and holder.decode() == check.job_id:
                # Our own lock from an attempt that died: take it over.
                await redis.pexpire(key, ttl_ms)
                return
            if time.monotonic() > self.deadline:
                raise LockBusy(f"another job kept the lock on {check.sha256[:12]}")
            await asyncio.sleep(_LOCK_POLL_S)
            async with self.state.sessions() as session:
                found = await find_done_by_hash(
                    session, sha256=check.sha256, model_id=self.state.model_id
                )
            if found is not None:
                return  # the caller's re-check reuses it; the lock is not needed

    async def _label(self, session: AsyncSession, check: Check, verdict: VerdictRecord) -> Label:
        """The one decision of the check's label, made in the session that stores it: under
        the chat's thresholds at this moment (a change while the model ran counts). Nothing
        later decides again: the bots, the audit log and the dashboard show what is stored."""
        return chat_label(self.state, await chat_settings_of(session, check), verdict)

    async def _reuse(self, check: Check) -> CheckResult | None:
        async with self.state.sessions() as session:
            original = await find_done_by_hash(
                session, sha256=check.sha256, model_id=self.state.model_id
            )
            if original is None or original.id == check.id:
                return None
            verdict = reused_verdict(original)
            stored = await store_verdict(
                session,
                check_id=check.id,
                verdict=verdict,
                label=await self._label(session, check, verdict),
                deduplicated_from=original.id,
            )
        log.info("check %d reuses the verdict of check %d", check.id, original.id)
        return check_result(stored)

    async def _infer(self, check: Check) -> CheckResult:
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(
            self.state.executor, _analyze_sync, self.state.pipeline, self.media
        )
        try:
            verdict = await asyncio.wait_for(
                work, timeout=max(0.1, self.deadline - time.monotonic())
            )
        except TimeoutError:
            limit = self.state.settings.job_timeout_s
            return await self._fail(
                check, f"the analysis took longer than {limit:g}s", ReasonCode.ANALYSIS_TIMEOUT
            )
        if verdict.label == Label.ERROR:
            raise InferenceFailed(verdict.reason or "inference failed")
        if verdict.label == Label.UNSUPPORTED:
            return await self._fail(
                check,
                verdict.reason or "this file cannot be judged",
                verdict.reason_code or ReasonCode.UNSUPPORTED,
                label=Label.UNSUPPORTED,
                verdict=verdict,
            )
        async with self.state.sessions() as session:
            stored = await store_verdict(
                session,
                check_id=check.id,
                verdict=verdict,
                label=await self._label(session, check, verdict),
            )
        return check_result(stored)

    async def _fail(
        self,
        check: Check,
        reason: str,
        code: str,
        *,
        label: Label = Label.ERROR,
        verdict: VerdictRecord | None = None,
    ) -> CheckResult:
        async with self.state.sessions() as session:
            stored = await mark_failed(
                session,
                check_id=check.id,
                reason=reason,
                reason_code=code,
                label=label,
                model_id=self.state.model_id,
                timings=verdict.timings if verdict else None,
                media_kind=verdict.media_kind if verdict else None,
            )
        log.info("check %d failed: %s (%s)", check.id, reason, code)
        return check_result(stored)


async def analyze(ctx: dict[str, Any], check_id: int, media: bytes) -> dict[str, Any] | None:
    """The ``analyze`` job: judge one stored check's media; returns the ``CheckResult`` dict."""
    state: WorkerState = ctx["state"]
    job_try = int(ctx.get("job_try", 1))
    try:
        # A database or Redis restart in the middle of a job is waited out within this
        # try (the job is idempotent), so a few seconds' outage costs no try at all.
        result = await retrying(
            lambda: Analysis(state, check_id=check_id, media=media, job_try=job_try).run(),
            within=state.outage_wait_s,
            what=f"check {check_id}",
        )
    except TRANSIENT as e:
        if job_try < state.settings.job_tries:
            delay = backoff(job_try)
            log.warning("check %d, try %d: %s; retrying in %gs", check_id, job_try, e, delay)
            raise Retry(defer=delay) from e
        log.error("check %d: giving up after %d tries: %s", check_id, job_try, e)
        result = await _store_failure(state, check_id, f"gave up after {job_try} tries: {e}", e)
    except Exception as e:
        # A bug, not the media's fault: record it so the check does not hang, then let arq log it.
        await _store_failure(state, check_id, "internal error while analysing", e)
        await announce(state.redis, state.settings.queue_name, check_id)
        raise
    await announce(state.redis, state.settings.queue_name, check_id)
    return result.to_dict() if result is not None else None


async def _store_failure(
    state: WorkerState, check_id: int, reason: str, error: BaseException
) -> CheckResult | None:
    code = error.code if isinstance(error, FakeWatchError) else ReasonCode.INTERNAL_ERROR

    async def store() -> CheckResult | None:
        async with state.sessions() as session:
            if await get_check(session, check_id=check_id) is None:
                return None
            stored = await mark_failed(
                session,
                check_id=check_id,
                reason=reason,
                reason_code=code,
                model_id=state.model_id,
            )
        return check_result(stored)

    return await retrying(store, within=state.outage_wait_s, what=f"failing check {check_id}")


async def purge_media(ctx: dict[str, Any]) -> int:
    """Cron job: delete kept media past its retention, and old job payloads from Redis's disk."""
    state: WorkerState = ctx["state"]
    removed = await purge_expired_media(state.sessions)
    await compact_redis(state.redis)
    return removed


async def fail_lost_checks(ctx: dict[str, Any]) -> int:
    """Cron job: fail checks whose job is gone from Redis (flushed, expired, or given up by arq).

    Their media travelled in the job, so nothing can judge them any more; failing them
    lets the bots tell the user to send the file again instead of waiting forever.
    """
    state: WorkerState = ctx["state"]
    failed = 0
    async with state.sessions() as session:
        for check in await open_checks(session, created_before=utcnow() - LOST_AFTER):
            key = job_key_prefix + job_id(state.settings.queue_name, check.job_id)
            if await state.redis.exists(key):
                continue
            await mark_failed(
                session,
                check_id=check.id,
                reason="the job was lost before it finished; please send the file again",
                reason_code=ReasonCode.JOB_LOST,
                model_id=check.model_id,
            )
            await announce(state.redis, state.settings.queue_name, check.id)
            failed += 1
    if failed:
        log.warning("failed %d checks whose jobs were lost", failed)
    return failed
