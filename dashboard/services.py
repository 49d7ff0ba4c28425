"""What the pages share: settings, the store, the queue client, templates and metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from arq.connections import ArqRedis
from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dashboard.metrics import DashboardMetrics
from dashboard.view import register_filters
from db.engine import create_engine, database_url, session_factory
from db.schema import upgrade_database_async
from fakewatch.settings import Settings
from queue_worker.broker import redis_url
from queue_worker.client import QueueClient

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class Services:
    """What every request may need: settings, the store, the queue, templates, metrics."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: QueueClient
    templates: Jinja2Templates
    metrics: DashboardMetrics


def services(request: Request) -> Services:
    """The app's :class:`Services` (a FastAPI dependency)."""
    found: Services = request.app.state.services
    return found


async def open_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Connect to the store (migrated first) and to Redis (lazily: a Redis outage only
    fails uploads and ``/healthz``, never the pages that read the store)."""
    url = database_url(settings)
    if migrate:
        await upgrade_database_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    redis = ArqRedis.from_url(
        await asyncio.to_thread(redis_url, settings),
        socket_timeout=5,
        socket_connect_timeout=3,
    )
    queue = QueueClient(settings=settings, redis=redis, engine=engine, sessions=sessions)
    templates = Jinja2Templates(directory=str(TEMPLATES))
    register_filters(templates.env)
    metrics = DashboardMetrics(sessions=sessions, redis=redis, queue_name=settings.queue_name)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        queue=queue,
        templates=templates,
        metrics=metrics,
    )
