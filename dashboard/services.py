"""What the pages share: settings, the store, the queue client, templates, metrics and
the sign-in throttle."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from arq.connections import ArqRedis
from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from base.settings import Settings
from dashboard.devices import DeviceCookies
from dashboard.metrics import DashboardMetrics
from dashboard.sessions import dashboard_secret
from dashboard.throttle import Policy, SignInThrottle
from dashboard.view import register_filters
from db.engine import database_url
from db.store import Store
from queue_worker.admission import Rate, TokenBuckets
from queue_worker.broker import redis_url
from queue_worker.client import QueueClient

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class Services:
    """What every request may need: settings, the store, the queue, templates, metrics,
    the sign-in throttle and known devices, and the uploads' rate (shared with the bots)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: QueueClient
    templates: Jinja2Templates
    metrics: DashboardMetrics
    throttle: SignInThrottle
    devices: DeviceCookies
    buckets: TokenBuckets
    upload_rate: Rate | None


def services(request: Request) -> Services:
    """The app's :class:`Services` (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found


async def open_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Connect to the store (migrated first) and to Redis (lazily: a Redis outage only
    fails uploads and ``/healthz``, never the pages that read the store)."""
    store = await Store.open(database_url(settings), migrate=migrate)
    engine, sessions = store.engine, store.sessions
    redis = ArqRedis.from_url(
        await asyncio.to_thread(redis_url, settings),
        socket_timeout=5,
        socket_connect_timeout=3,
    )
    queue = QueueClient(settings=settings, redis=redis, store=store)
    templates = Jinja2Templates(directory=str(TEMPLATES))
    register_filters(templates.env)
    throttle = SignInThrottle(Policy.from_settings(settings))
    metrics = DashboardMetrics(
        sessions=sessions, redis=redis, queue_name=settings.queue_name, throttle=throttle
    )
    secret = await asyncio.to_thread(dashboard_secret, settings)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        queue=queue,
        templates=templates,
        metrics=metrics,
        throttle=throttle,
        devices=DeviceCookies(secret),
        buckets=TokenBuckets(redis, prefix=settings.queue_name),
        upload_rate=Rate.per_minute_with_burst(settings.user_checks_per_minute),
    )
