"""The arq worker: ``WorkerSettings`` and the process around it (``fakewatch worker``).

``on_startup`` builds everything expensive once: the store (migrated to the newest
schema), the inference pipeline (weights from ``FAKEWATCH_WEIGHTS``; ``random``
gives small untrained weights for tests) and a thread pool that keeps inference
off the event loop. Jobs are bounded by ``FAKEWATCH_JOB_TIMEOUT_S`` and tried
``FAKEWATCH_JOB_TRIES`` times.

arq polls Redis for new jobs every 0.05 s (its default is 0.5 s): a verdict
should not wait half a second for a job that is already queued, and an idle
``ZRANGEBYSCORE`` per worker twenty times a second costs Redis nothing.

A worker killed mid-job (``kill -9``, a lost machine) leaves its job in the queue
with an in-progress marker that expires ``job timeout + 10 s`` later; any worker
then runs the job again, and the check row (``running``) is finished by that run.

Redis going away (a restart, a failover) stops arq's worker loop. ``run_worker``
then waits for Redis and starts the loop again with the model, the store and the
threads it already has; the jobs it could not mark finished (their verdicts are
stored) have their in-progress markers cleared, so they are settled at once
instead of after the job timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar, cast

from arq import cron, func
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker, create_worker
from redis.exceptions import RedisError

from base.settings import Settings, load_settings
from db.engine import database_url
from db.store import Store
from queue_worker.broker import redis_settings
from queue_worker.contracts import ANALYZE
from queue_worker.metrics import instrument, start_exporter
from queue_worker.tasks import WorkerState, analyze, fail_lost_checks, purge_media

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class JobArgsFilter(logging.Filter):
    """Keeps media out of arq's job log.

    arq logs every job's arguments (``analyze(12, b'\\xff\\xd8...')``): the first bytes
    of someone's photo have no place in a log file. The check id stays.
    """

    STARTED = "%6.2fs → %s(%s)%s"

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the "job started" record's argument text; never drops a record."""
        if record.msg == self.STARTED and isinstance(record.args, tuple) and len(record.args) == 4:
            elapsed, ref, arguments, extra = record.args
            check = str(arguments).split(",", 1)[0]
            record.args = (elapsed, ref, f"{check}, <media>", extra)
        return True


_JOB_ARGS_FILTER = JobArgsFilter()


def quiet_job_arguments() -> None:
    """Install :class:`JobArgsFilter` on arq's worker logger (once per process)."""
    logger = logging.getLogger("arq.worker")
    if _JOB_ARGS_FILTER not in logger.filters:
        logger.addFilter(_JOB_ARGS_FILTER)


POLL_DELAY_S = 0.05
# Pauses before starting the worker loop again after losing Redis: 1, 2, 4... 30 s.
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 30.0
# On SIGTERM/SIGINT a worker stops taking jobs and gives the running ones this long.
SHUTDOWN_GRACE_S = 10


async def startup(ctx: dict[str, Any]) -> None:
    """Open the store, load the model once, make the inference threads.

    After a lost Redis (``ctx["cache"]`` holds the state of the loop that stopped)
    the same state serves on, over the new connection. When Redis came back before the
    old loop closed, arq ran :func:`shutdown` on it: its inference threads are gone, so
    the state gets new ones (the store's engine reconnects by itself).
    """
    quiet_job_arguments()
    cache: dict[str, Any] = ctx.setdefault("cache", {})
    previous: WorkerState | None = cache.get("state")
    if previous is not None:
        if cache.pop("shut_down", False):
            previous.executor = _inference_threads(previous.settings)
        previous.redis = ctx["redis"]
        ctx["state"] = previous
        await _release_unfinished(ctx["redis"], cache)
        log.info("worker ready again: queue %s", previous.settings.queue_name)
        return
    settings: Settings = ctx.get("settings") or load_settings()
    store = await Store.open(database_url(settings))
    executor = _inference_threads(settings)
    from inference.pipeline import build_pipeline  # torch: only once the worker starts

    loop = asyncio.get_running_loop()
    pipeline = await loop.run_in_executor(executor, build_pipeline, settings)
    if not pipeline.weights.trained:
        log.warning("weights %s are UNTRAINED: the verdicts mean nothing", pipeline.model_id)
    redis: ArqRedis = ctx["redis"]
    ctx["state"] = WorkerState(
        settings=settings,
        store=store,
        pipeline=pipeline,
        executor=executor,
        redis=redis,
    )
    cache["state"] = ctx["state"]
    start_exporter(settings)  # /metrics when FAKEWATCH_METRICS_PORT is set
    log.info(
        "worker ready: model %s on %s, queue %s, %d job(s) at a time",
        pipeline.weights.describe(),
        pipeline.device,
        settings.queue_name,
        settings.worker_jobs,
    )


async def job_started(ctx: dict[str, Any]) -> None:
    """Note a job as this process's until arq has marked it finished."""
    ctx.setdefault("cache", {}).setdefault("unfinished", set()).add(ctx["job_id"])


async def job_settled(ctx: dict[str, Any]) -> None:
    """arq marked the job finished (or put it back) in Redis: it is no longer ours."""
    ctx.setdefault("cache", {}).setdefault("unfinished", set()).discard(ctx["job_id"])


async def _release_unfinished(redis: ArqRedis, cache: dict[str, Any]) -> None:
    # Jobs this process ran when Redis went away: nothing runs them any more, so their
    # markers need not hold other workers off until the job timeout.
    unfinished: set[str] = cache.setdefault("unfinished", set())
    if unfinished:
        await redis.delete(*(in_progress_key_prefix + job_id for job_id in unfinished))
        log.info("released %d job(s) interrupted by the lost Redis", len(unfinished))
        unfinished.clear()


def _inference_threads(settings: Settings) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=settings.worker_jobs, thread_name_prefix="fakewatch-inference"
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close what ``startup`` opened (a loop started again after it makes new threads)."""
    state: WorkerState | None = ctx.get("state")
    if state is None:
        return
    state.executor.shutdown(wait=False, cancel_futures=True)
    await state.store.close()
    ctx.setdefault("cache", {})["shut_down"] = True


def housekeeping_jobs(queue_name: str) -> list[CronJob]:
    """The housekeeping jobs, named after the queue.

    arq derives a cron run's job id from its name alone, so two queues sharing one
    Redis would otherwise claim each other's runs.
    """
    return [
        cron(purge_media, name=f"cron:{queue_name}:purge_media", minute={7}, run_at_startup=True),
        # Every minute: a lost check's user is told to send the file again soon after.
        cron(
            fail_lost_checks,
            name=f"cron:{queue_name}:fail_lost_checks",
            minute=None,
            second=30,
            run_at_startup=True,
        ),
    ]


class WorkerSettings:
    """arq worker configuration; per-process values come from :func:`worker_options`.

    ``arq queue_worker.worker.WorkerSettings`` also works (settings from the
    environment, Redis at localhost); ``fakewatch worker`` is the supported way.
    """

    functions: ClassVar[list[Function | WorkerCoroutine]] = [
        # The wrapper keeps analyze's signature; arq's protocol type cannot see through it.
        func(cast(WorkerCoroutine, instrument(analyze)), name=ANALYZE)
    ]
    cron_jobs: ClassVar[list[CronJob]] = housekeeping_jobs("fakewatch:queue")
    on_startup = startup
    on_shutdown = shutdown
    on_job_start = job_started
    after_job_end = job_settled
    poll_delay = POLL_DELAY_S
    job_completion_wait = SHUTDOWN_GRACE_S
    max_jobs = 1
    max_tries = 3
    job_timeout = 300
    keep_result = 0  # results live in the store, not in Redis
    health_check_interval = 30


def worker_options(
    settings: Settings, *, burst: bool = False, cache: dict[str, Any] | None = None
) -> dict[str, Any]:
    """arq ``Worker`` arguments from the settings (Redis, queue, limits, the settings object).

    Args:
        cache: what outlives one worker loop of the process (the model, the store).
    """
    return {
        "redis_settings": redis_settings(settings),
        "queue_name": settings.queue_name,
        "cron_jobs": housekeeping_jobs(settings.queue_name),
        "max_jobs": settings.worker_jobs,
        "max_tries": settings.job_tries,
        "job_timeout": settings.job_timeout_s,
        "burst": burst,
        "ctx": {"settings": settings, "cache": {} if cache is None else cache},
    }


def make_worker(
    settings: Settings, *, burst: bool = False, cache: dict[str, Any] | None = None
) -> Worker:
    """An arq worker for this process (not started)."""
    base = {k: v for k, v in vars(WorkerSettings).items() if not k.startswith("_")}
    return create_worker(base, **worker_options(settings, burst=burst, cache=cache))


def run_worker(settings: Settings, *, burst: bool = False) -> int:
    """Run a worker until SIGINT/SIGTERM (or, with ``burst``, until the queue is empty).

    A lost Redis does not end it: it waits, then serves on (see the module's notes).

    Returns:
        How many jobs failed (arq's count: jobs that raised).
    """
    cache: dict[str, Any] = {}
    failed = 0
    delay = RECONNECT_FIRST_S
    while True:
        worker = make_worker(settings, burst=burst, cache=cache)
        started = time.monotonic()
        try:
            worker.run()
        except (RedisError, OSError) as e:
            failed += worker.jobs_failed
            if time.monotonic() - started > RECONNECT_MAX_S:
                delay = RECONNECT_FIRST_S  # it had been up a while: a fresh outage
            log.error("lost Redis (%s); starting the worker again in %gs", e, delay)
            time.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)
            continue
        return failed + worker.jobs_failed
