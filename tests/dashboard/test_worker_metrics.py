"""``queue_worker.metrics``: what a worker exports, through a real HTTP exporter."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import pytest
import redis
from prometheus_client import CollectorRegistry

from base.settings import load_settings
from queue_worker import metrics
from tests.services import REDIS_URL


def _value(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_instrumented_jobs_are_counted() -> None:
    async def job(ctx: dict[str, Any], label: str) -> dict[str, Any]:
        if label == "boom":
            raise RuntimeError("the GPU fell over")
        status = "failed" if label == "unsupported" else "done"
        return {
            "status": status,
            "label": label,
            "reason_code": "corrupt_media",
            "timings": {"decode": 0.5, "classify": 2.0},
        }

    wrapped = metrics.instrument(job)
    before = metrics.VERDICTS.labels(label="fake")._value.get()
    failed_before = metrics.FAILURES.labels(reason="corrupt_media")._value.get()
    raised_before = metrics.FAILURES.labels(reason="RuntimeError")._value.get()
    asyncio.run(wrapped({}, "fake"))
    asyncio.run(wrapped({}, "unsupported"))
    with pytest.raises(RuntimeError):
        asyncio.run(wrapped({}, "boom"))
    assert metrics.VERDICTS.labels(label="fake")._value.get() == before + 1
    assert metrics.FAILURES.labels(reason="corrupt_media")._value.get() == failed_before + 1
    assert metrics.FAILURES.labels(reason="RuntimeError")._value.get() == raised_before + 1
    assert metrics.IN_PROGRESS._value.get() == 0


def test_exporter_serves_queue_depth(queue_name: str) -> None:
    settings = load_settings(redis_url=REDIS_URL, queue_name=queue_name)
    registry = CollectorRegistry()
    assert metrics.start_exporter(settings.model_copy(update={"metrics_port": None})) is None
    port = metrics.start_exporter(settings, port=0, addr="127.0.0.1", registry=registry)
    assert port
    r = redis.Redis.from_url(REDIS_URL)
    try:
        r.zadd(queue_name, {"a": 1, "b": 2, "c": 3})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        r.delete(queue_name)
        r.close()
    assert _value(text, "fakewatch_queue_depth") == 3
