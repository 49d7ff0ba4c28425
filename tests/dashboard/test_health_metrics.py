"""``/healthz`` and ``/metrics``: reachable without signing in, and truthful."""

from __future__ import annotations

import socket

import pytest
import redis

from base.settings import Settings
from tests.dashboard.conftest import TestClient
from tests.dashboard.factories import TIMINGS, make_checks
from tests.services import REDIS_URL


def _metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " ") or (line.startswith(name) and line[len(name)] == " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_healthz_answers_without_signing_in(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_is_503_when_redis_is_down(settings: Settings) -> None:
    from dashboard.app import create_app

    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})
    with TestClient(create_app(down, migrate=False)) as c:
        response = c.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "down"}


def test_healthz_is_503_when_the_database_is_down(settings: Settings) -> None:
    from dashboard.app import create_app

    down = settings.model_copy(
        update={"database_url": f"postgresql://postgres@127.0.0.1:{_closed_port()}/none"}
    )
    with TestClient(create_app(down, migrate=False)) as c:
        response = c.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"database": "down", "redis": "ok"}
        metrics = c.get("/metrics").text
    assert _metric(metrics, "fakewatch_database_up") == 0


def test_metrics(client: TestClient, settings: Settings) -> None:
    make_checks(
        str(settings.database_url),
        {"label": "fake", "p": 0.9},
        {"label": "fake", "p": 0.8},
        {"label": "real", "p": 0.1},
        {"label": "unsupported", "status": "failed"},
        {"status": "queued"},
    )
    r = redis.Redis.from_url(REDIS_URL)
    try:
        r.zadd(settings.queue_name, {"job-a": 1, "job-b": 2})
        text = client.get("/metrics").text
    finally:
        r.delete(settings.queue_name)
        r.close()
    assert _metric(text, "fakewatch_queue_depth") == 2
    assert _metric(text, 'fakewatch_verdicts_total{label="fake"}') == 2
    assert _metric(text, 'fakewatch_verdicts_total{label="real"}') == 1
    assert _metric(text, 'fakewatch_verdicts_total{label="unsupported"}') == 1
    assert _metric(text, 'fakewatch_failures_total{reason="corrupt_media"}') == 1
    assert _metric(text, 'fakewatch_checks_open{status="queued"}') == 1
    assert _metric(text, "fakewatch_redis_up") == 1
    # Three verdicts carry stage timings: each stage's histogram has three samples.
    for stage, seconds in TIMINGS.items():
        assert _metric(text, f'fakewatch_job_stage_seconds_count{{stage="{stage}"}}') == 3
        total = _metric(text, f'fakewatch_job_stage_seconds_sum{{stage="{stage}"}}')
        assert total == pytest.approx(3 * seconds)
    assert _metric(text, "fakewatch_check_latency_seconds_count") == 4  # failed ones too

    # The next scrape observes only what finished since: nothing new, same counts.
    again = client.get("/metrics").text
    assert _metric(again, 'fakewatch_job_stage_seconds_count{stage="detect"}') == 3
    make_checks(str(settings.database_url), {"label": "real", "p": 0.2})
    third = client.get("/metrics").text
    assert _metric(third, 'fakewatch_job_stage_seconds_count{stage="detect"}') == 4
