"""The dashboard's Prometheus metrics, read from the shared store and Redis.

Every worker writes its checks to the one store, so the dashboard can report the
whole deployment's figures, however many workers run and wherever:

* ``fakewatch_queue_depth``: jobs waiting in the arq queue (Redis);
* ``fakewatch_checks_open{status}``: checks queued or running (store);
* ``fakewatch_verdicts_total{label}``: finished checks per label (store);
* ``fakewatch_failures_total{reason}``: failed checks per reason code (store);
* ``fakewatch_job_stage_seconds{stage}``: a histogram of each inference stage's time
  (``decode``, ``detect``, ``track``, ``classify``, ``decide``), and
  ``fakewatch_check_latency_seconds``: from a check's creation to its verdict;
* ``fakewatch_signin_failures_total``: wrong names or passwords;
  ``fakewatch_signin_refused_total{reason}``: attempts refused before the password was
  checked (``backoff``, ``locked``, ``busy``); ``fakewatch_signin_locks_total`` and
  ``fakewatch_signin_locked``: addresses locked so far and now (this process's own
  counts: see :mod:`dashboard.throttle`);
* ``fakewatch_uploads_refused_total{reason}``: upload-form files refused (``too_large``,
  ``rate``, ``queue_full``).

The histograms are fed incrementally: each scrape observes the checks finished
since the previous one (the first looks back a day), so they behave as Prometheus
expects of a histogram (cumulative, per dashboard process). Each worker can also
export its own metrics: see :mod:`queue_worker.metrics`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from arq.connections import ArqRedis
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.vocabulary import FINISHED, OPEN, Status
from dashboard.throttle import REASONS, SignInThrottle
from db.columns import utcnow
from db.models import Check

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
BACKFILL = timedelta(days=1)
BATCH = 5000
UPLOAD_REFUSALS = ("too_large", "rate", "queue_full")


@dataclass
class Snapshot:
    """The counts read at the last scrape."""

    queue_depth: int | None = None
    database_up: bool = False
    verdicts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)


class _SnapshotCollector(Collector):
    def __init__(self, owner: DashboardMetrics) -> None:
        self.owner = owner

    def collect(self) -> Iterable[Metric]:
        snap = self.owner.snapshot
        up = GaugeMetricFamily("fakewatch_redis_up", "Whether Redis answered the last scrape")
        up.add_metric([], 0 if snap.queue_depth is None else 1)
        yield up
        db_up = GaugeMetricFamily(
            "fakewatch_database_up", "Whether the store answered the last scrape"
        )
        db_up.add_metric([], 1 if snap.database_up else 0)
        yield db_up
        if snap.queue_depth is not None:
            depth = GaugeMetricFamily("fakewatch_queue_depth", "Jobs waiting in the queue")
            depth.add_metric([], snap.queue_depth)
            yield depth
        open_ = GaugeMetricFamily(
            "fakewatch_checks_open", "Checks not finished yet", labels=["status"]
        )
        for status in OPEN:
            open_.add_metric([status], snap.open.get(status, 0))
        yield open_
        verdicts = CounterMetricFamily(
            "fakewatch_verdicts", "Finished checks per verdict label", labels=["label"]
        )
        for label, n in sorted(snap.verdicts.items()):
            verdicts.add_metric([label], n)
        yield verdicts
        failures = CounterMetricFamily(
            "fakewatch_failures", "Failed checks per reason code", labels=["reason"]
        )
        for reason, n in sorted(snap.failures.items()):
            failures.add_metric([reason], n)
        yield failures


class _SignInCollector(Collector):
    def __init__(self, throttle: SignInThrottle) -> None:
        self.throttle = throttle

    def collect(self) -> Iterable[Metric]:
        stats = self.throttle.stats
        failures = CounterMetricFamily(
            "fakewatch_signin_failures", "Sign-ins refused for a wrong name or password"
        )
        failures.add_metric([], stats.failures)
        yield failures
        refused = CounterMetricFamily(
            "fakewatch_signin_refused",
            "Sign-in attempts refused before their password was checked",
            labels=["reason"],
        )
        for reason in REASONS:
            refused.add_metric([reason], stats.refused.get(reason, 0))
        yield refused
        locks = CounterMetricFamily(
            "fakewatch_signin_locks", "Addresses and devices locked after repeated failures"
        )
        locks.add_metric([], stats.locks)
        yield locks
        locked = GaugeMetricFamily(
            "fakewatch_signin_locked", "Addresses and devices locked out of signing in now"
        )
        locked.add_metric([], self.throttle.locked_now())
        yield locked


class DashboardMetrics:
    """A registry of the dashboard's metrics and the reads that refresh it."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        redis: ArqRedis,
        queue_name: str,
        throttle: SignInThrottle | None = None,
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.queue_name = queue_name
        self.registry = CollectorRegistry()
        self.snapshot = Snapshot()
        self.stage_seconds = Histogram(
            "fakewatch_job_stage_seconds",
            "Time of each inference stage per check",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.check_latency = Histogram(
            "fakewatch_check_latency_seconds",
            "Time from a check's creation to its verdict",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.uploads_refused = Counter(
            "fakewatch_uploads_refused",
            "Files refused by the upload form",
            ["reason"],
            registry=self.registry,
        )
        for reason in UPLOAD_REFUSALS:
            self.uploads_refused.labels(reason=reason)
        self.registry.register(_SnapshotCollector(self))
        if throttle is not None:
            self.registry.register(_SignInCollector(throttle))
        self._since: datetime | None = None
        self._seen_at_since: set[int] = set()
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the counts and observe the checks finished since the last refresh."""
        async with self._lock:
            snap = Snapshot()
            try:
                snap.queue_depth = int(await self.redis.zcard(self.queue_name))
            except (RedisError, OSError) as e:
                log.warning("metrics: Redis does not answer: %s", e)
            try:
                async with self.sessions() as session:
                    await self._read_counts(session, snap)
                    await self._observe_finished(session)
                snap.database_up = True
            except (SQLAlchemyError, OSError) as e:
                log.warning("metrics: the store does not answer: %s", e)
            self.snapshot = snap

    async def render(self) -> bytes:
        """Refresh, then the Prometheus text exposition."""
        await self.refresh()
        return generate_latest(self.registry)

    async def _read_counts(self, session: AsyncSession, snap: Snapshot) -> None:
        rows = await session.execute(
            select(Check.status, Check.label, Check.reason_code, func.count()).group_by(
                Check.status, Check.label, Check.reason_code
            )
        )
        for status, label, reason, n in rows:
            if status in FINISHED:
                key = label or status
                snap.verdicts[key] = snap.verdicts.get(key, 0) + int(n)
                if status == Status.FAILED:
                    code = reason or "unknown"
                    snap.failures[code] = snap.failures.get(code, 0) + int(n)
            else:
                snap.open[status] = snap.open.get(status, 0) + int(n)

    async def _observe_finished(self, session: AsyncSession) -> None:
        since = self._since or (utcnow() - BACKFILL)
        rows = await session.execute(
            select(Check.id, Check.created_at, Check.finished_at, Check.timings)
            .where(Check.finished_at.is_not(None), Check.finished_at >= since)
            .order_by(Check.finished_at, Check.id)
            .limit(BATCH)
        )
        newest, seen = since, set(self._seen_at_since)
        for check_id, created, finished, timings in rows:
            if finished is None or (finished == since and check_id in self._seen_at_since):
                continue
            for stage, seconds in (timings or {}).items():
                if isinstance(seconds, int | float) and seconds >= 0:
                    self.stage_seconds.labels(stage=stage).observe(float(seconds))
            if created is not None:
                self.check_latency.observe(max(0.0, (finished - created).total_seconds()))
            if finished > newest:
                newest, seen = finished, set()
            seen.add(check_id)
        self._since, self._seen_at_since = newest, seen
