"""``/healthz`` for load balancers and compose, ``/metrics`` for Prometheus.

Neither needs signing in: ``/healthz`` says only whether the store and Redis answer,
and ``/metrics`` gives aggregate counts (no chat, user or file names).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dashboard.services import Services, services

log = logging.getLogger(__name__)
router = APIRouter()
Svc = Annotated[Services, Depends(services)]
PROBE_TIMEOUT_S = 3.0


async def _database_ok(svc: Services) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S), svc.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as e:
        log.warning("health: the database does not answer: %s", e)
        return False
    return True


async def _redis_ok(svc: Services) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            return bool(await svc.queue.redis.ping())
    except (RedisError, OSError, TimeoutError) as e:
        log.warning("health: Redis does not answer: %s", e)
        return False


@router.get("/healthz")
async def healthz(svc: Svc) -> Response:
    """200 when the database and Redis both answer, else 503; says which failed."""
    database, redis = await asyncio.gather(_database_ok(svc), _redis_ok(svc))
    body = {"database": "ok" if database else "down", "redis": "ok" if redis else "down"}
    return JSONResponse(body, status_code=200 if database and redis else 503)


@router.get("/metrics")
async def metrics(svc: Svc) -> Response:
    """The Prometheus text format (queue depth, stage latencies, verdicts, failures)."""
    return Response(await svc.metrics.render(), media_type=CONTENT_TYPE_LATEST)
