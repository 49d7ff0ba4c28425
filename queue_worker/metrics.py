"""A worker's own Prometheus metrics, and the HTTP exporter that serves them.

The worker hooks in at two points (see the README's "Metrics" section)::

    # in startup(ctx), once:
    start_exporter(settings)             # serves /metrics on FAKEWATCH_METRICS_PORT if set
    # around the job function:
    functions = [func(instrument(analyze), name=ANALYZE)]

Metrics (in the process's default registry):

* ``fakewatch_worker_stage_seconds{stage}``: each inference stage's time;
* ``fakewatch_worker_job_seconds``: a whole ``analyze`` job, as the worker saw it;
* ``fakewatch_worker_verdicts_total{label}``, ``fakewatch_worker_failures_total{reason}``;
* ``fakewatch_worker_jobs_in_progress``;
* ``fakewatch_queue_depth``: jobs waiting in the queue, read from Redis at each scrape.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ParamSpec

import redis
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from base.settings import Settings
from base.vocabulary import Status
from queue_worker.broker import redis_url

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

STAGE_SECONDS = Histogram(
    "fakewatch_worker_stage_seconds",
    "Time of each inference stage, per job",
    ["stage"],
    buckets=STAGE_BUCKETS,
)
JOB_SECONDS = Histogram(
    "fakewatch_worker_job_seconds", "Time of a whole analyze job", buckets=JOB_BUCKETS
)
VERDICTS = Counter("fakewatch_worker_verdicts", "Jobs finished per label", ["label"])
FAILURES = Counter("fakewatch_worker_failures", "Jobs failed per reason code", ["reason"])
IN_PROGRESS = Gauge("fakewatch_worker_jobs_in_progress", "Jobs being analysed now")


def observe_result(result: Mapping[str, Any] | None, *, seconds: float | None = None) -> None:
    """Count one job's outcome (a ``CheckResult.to_dict()``) and its stage timings."""
    if seconds is not None:
        JOB_SECONDS.observe(seconds)
    if not result:
        return
    label = str(result.get("label") or result.get("status") or "unknown")
    VERDICTS.labels(label=label).inc()
    if result.get("status") == Status.FAILED:
        FAILURES.labels(reason=str(result.get("reason_code") or "unknown")).inc()
    for stage, value in (result.get("timings") or {}).items():
        if isinstance(value, int | float) and value >= 0:
            STAGE_SECONDS.labels(stage=str(stage)).observe(float(value))


def observe_exception(error: BaseException) -> None:
    """Count a job that raised (arq retries or records it)."""
    FAILURES.labels(reason=str(getattr(error, "code", None) or type(error).__name__)).inc()


P = ParamSpec("P")


def instrument(
    job: Callable[P, Awaitable[dict[str, Any] | None]],
) -> Callable[P, Awaitable[dict[str, Any] | None]]:
    """Wrap an arq job function so each run is timed and its outcome counted."""

    @functools.wraps(job)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any] | None:
        start = time.perf_counter()
        IN_PROGRESS.inc()
        try:
            result = await job(*args, **kwargs)
        except BaseException as e:
            observe_exception(e)
            JOB_SECONDS.observe(time.perf_counter() - start)
            raise
        finally:
            IN_PROGRESS.dec()
        observe_result(result, seconds=time.perf_counter() - start)
        return result

    return wrapper


class QueueDepthCollector(Collector):
    """``fakewatch_queue_depth``, read from Redis at scrape time (nothing when it is down)."""

    def __init__(self, url: str, queue_name: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.queue_name = queue_name

    def collect(self) -> Iterable[Metric]:
        try:
            depth = int(self.client.zcard(self.queue_name))  # type: ignore[arg-type]
        except (redis.RedisError, OSError) as e:
            log.debug("queue depth unavailable: %s", e)
            return
        gauge = GaugeMetricFamily("fakewatch_queue_depth", "Jobs waiting in the queue")
        gauge.add_metric([], depth)
        yield gauge


def start_exporter(
    settings: Settings,
    *,
    port: int | None = None,
    addr: str = "0.0.0.0",
    registry: CollectorRegistry = REGISTRY,
) -> int | None:
    """Serve ``/metrics`` over HTTP in a background thread; returns the port (``None``: off).

    Args:
        port: overrides ``FAKEWATCH_METRICS_PORT``; 0 picks a free port.
    """
    chosen = settings.metrics_port if port is None else port
    if chosen is None:
        return None
    registry.register(QueueDepthCollector(redis_url(settings), settings.queue_name))
    server, _thread = start_http_server(chosen, addr=addr, registry=registry)
    bound = int(server.server_address[1])
    log.info("worker metrics on http://%s:%d/metrics", addr, bound)
    return bound
