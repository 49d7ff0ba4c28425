"""The upload form's limits, against the real dashboard and Redis: a body over the size
limit is refused before it is read, and a moderator uploading too fast is told to wait."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import redis
import uvicorn

from base.settings import Settings
from bench import samples
from tests.dashboard.conftest import TestClient, csrf_of, sign_in
from tests.dashboard.test_signin_limits import _free_port, metric
from tests.services import REDIS_URL


def _queued(settings: Settings) -> int:
    r = redis.Redis.from_url(REDIS_URL)
    try:
        return int(r.zcard(settings.queue_name))
    finally:
        r.close()


def _upload(client: TestClient, name: str, data: bytes) -> httpx.Response:
    token = csrf_of(client.get("/upload").text)
    return client.post(
        "/upload",
        data={"csrf_token": token},
        files={"file": (name, data, "image/png")},
        follow_redirects=False,
    )


@pytest.fixture
def served(settings: Settings, moderator: str) -> Iterator[str]:
    """The dashboard served by uvicorn on a free port; yields its base URL."""
    from dashboard.app import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, migrate=False), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


def test_an_oversized_body_is_refused_before_it_is_sent(served: str, settings: Settings) -> None:
    # Only the headers go out, announcing a body far over the limit: the answer comes
    # without the dashboard waiting for (or reading) any of it.
    host, port = urlsplit(served).hostname, urlsplit(served).port
    assert host and port
    announced = settings.max_media_bytes * 50
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(
            (
                "POST /upload HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {announced}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"bytes." not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert f"larger than the limit of {settings.max_media_bytes:,} bytes".encode() in answer
    figures = httpx.get(f"{served}/metrics").text
    assert metric(figures, 'fakewatch_uploads_refused_total{reason="too_large"}') == 1
    assert _queued(settings) == 0


def test_a_chunked_upload_is_cut_off_at_the_limit(
    signed_in: TestClient, settings: Settings
) -> None:
    token = csrf_of(signed_in.get("/upload").text)
    head = (
        "--x\r\n"
        f'Content-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        "--x\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    chunk = b"\0" * 65536

    def body() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield head
        for _ in range(settings.max_media_bytes // len(chunk) + 4):
            yield chunk
        yield b"\r\n--x--\r\n"

    response = signed_in.post(
        "/upload",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=x"},
        follow_redirects=False,
    )
    assert response.status_code == 413
    assert "larger than the limit" in response.text
    assert _queued(settings) == 0


def test_other_forms_take_only_small_bodies(client: TestClient, moderator: str) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"name": moderator, "password": "x" * 100_000, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 413


def test_uploading_too_fast_is_refused_with_a_wait(settings: Settings, moderator: str) -> None:
    from dashboard.app import create_app

    limited = settings.model_copy(update={"user_checks_per_minute": 2})
    photo = samples.encode_image(samples.astronaut(), "PNG")
    with TestClient(create_app(limited, migrate=False)) as client:
        sign_in(client)
        first = _upload(client, "a.png", photo)
        second = _upload(client, "b.png", photo + b"\0")
        third = _upload(client, "c.png", photo + b"\0\0")
        figures = client.get("/metrics").text
    assert [r.status_code for r in (first, second)] == [303, 303]
    assert third.status_code == 429
    assert 1 <= int(third.headers["retry-after"]) <= 60
    assert "too many files: at most 2 a minute. Try again in" in third.text
    assert _queued(settings) == 2
    assert metric(figures, 'fakewatch_uploads_refused_total{reason="rate"}') == 1
    assert metric(figures, 'fakewatch_uploads_refused_total{reason="too_large"}') == 0
