"""Sign-in abuse, against the real dashboard: bad passwords are slowed, then refused without
running argon2; the lock ends; another address or a known browser still gets in; ``/metrics``
has the figures.

The throttle's clock is replaced by one the tests advance, so waits of minutes take none.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer

from base.settings import Settings
from dashboard import auth
from dashboard.devices import COOKIE as DEVICE_COOKIE
from tests.dashboard.conftest import MODERATOR, PASSWORD, TestClient, csrf_of

WRONG = "not the password"


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Verifications:
    """Counts the argon2 verifications the sign-in route asks for."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.calls = 0

    async def __call__(self, password_hash: str | None, password: str) -> bool:
        self.calls += 1
        result: bool = await self.real(password_hash, password)
        return result


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Verifications:
    counter = Verifications(auth.verify_password_async)
    monkeypatch.setattr(auth, "verify_password_async", counter)
    return counter


def _clock(app: FastAPI) -> FakeClock:
    clock = FakeClock()
    app.state.services.throttle.clock = clock
    return clock


def attempt(
    client: httpx.Client,
    password: str,
    name: str = MODERATOR,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One sign-in through the form, as a browser does it (the form first, for its token)."""
    token = csrf_of(client.get("/login", headers=headers).text)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/checks"},
        headers=headers,
        follow_redirects=False,
    )


def metric(text: str, sample: str) -> float:
    """The value of one sample line (``name{labels}``) of a Prometheus exposition."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {sample} in /metrics")


def refused(response: httpx.Response) -> int:
    """The ``Retry-After`` of a refusal (asserting it is one, with a clear message)."""
    assert response.status_code == 429, response.text
    assert "Too many sign-in attempts. Try again in" in response.text
    return int(response.headers["retry-after"])


def test_bad_passwords_are_slowed_then_locked_and_the_lock_ends(
    client: TestClient, moderator: str, verifications: Verifications, settings: Settings
) -> None:
    clock = _clock(client.app)  # type: ignore[arg-type]
    # The free failures: answered, each after a real argon2 verification.
    for _ in range(settings.signin_free_failures):
        assert attempt(client, WRONG).status_code == 401
    assert verifications.calls == 5
    # Then each further attempt must wait, twice as long as the one before.
    waits = []
    for _ in range(settings.signin_lock_after - settings.signin_free_failures):
        wait = refused(attempt(client, WRONG))
        waits.append(wait)
        assert refused(attempt(client, PASSWORD)) == wait  # even the right one: unchecked
        clock.advance(wait)
        assert attempt(client, WRONG).status_code == 401
    assert waits == [1, 2, 4, 8, 16]
    assert verifications.calls == 10  # the refused attempts never reached argon2
    # The tenth failure locked this address: refused for the lock's length, checked by nobody.
    response = attempt(client, PASSWORD)
    assert refused(response) == 900
    assert "Try again in 15 minutes." in response.text
    during = client.get("/metrics").text
    assert metric(during, "fakewatch_signin_locked") == 1
    assert metric(during, "fakewatch_signin_locks_total") == 1
    clock.advance(600)
    assert refused(attempt(client, PASSWORD)) == 300
    assert verifications.calls == 10
    assert client.get(
        "/checks", headers={"accept": "text/html"}, follow_redirects=False
    ).is_redirect

    # When the lock is over, the right password works at once.
    clock.advance(300)
    response = attempt(client, PASSWORD)
    assert response.status_code == 303, response.text
    assert client.get("/checks").status_code == 200
    assert verifications.calls == 11

    figures = client.get("/metrics").text
    assert metric(figures, "fakewatch_signin_failures_total") == 10
    assert metric(figures, 'fakewatch_signin_refused_total{reason="backoff"}') == 10
    assert metric(figures, 'fakewatch_signin_refused_total{reason="locked"}') == 2
    assert metric(figures, 'fakewatch_signin_refused_total{reason="busy"}') == 0
    assert metric(figures, "fakewatch_signin_locks_total") == 1
    assert metric(figures, "fakewatch_signin_locked") == 0


def test_unknown_names_are_throttled_alike(
    client: TestClient, moderator: str, verifications: Verifications
) -> None:
    _clock(client.app)  # type: ignore[arg-type]
    answers = [attempt(client, PASSWORD, name="nobody").status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]  # a made-up name learns nothing new
    assert verifications.calls == 5


def test_a_lock_is_logged_without_the_password(
    client: TestClient, moderator: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = _clock(client.app)  # type: ignore[arg-type]
    secret_guess = "hunter2-guess"
    with caplog.at_level("INFO"):
        for _ in range(10):
            attempt(client, secret_guess)
            clock.advance(60)
    locks = [r for r in caplog.records if "sign-in locked" in r.getMessage()]
    assert len(locks) == 1
    assert locks[0].levelname == "WARNING"
    assert "address testclient" in locks[0].getMessage()
    assert "'mod'" in locks[0].getMessage()
    assert all(secret_guess not in r.getMessage() for r in caplog.records)


# --- other addresses, through uvicorn behind a proxy (X-Forwarded-For, as in compose) ------


@pytest.fixture
def proxied(settings: Settings, moderator: str) -> Iterator[tuple[str, FastAPI]]:
    """The dashboard served by uvicorn trusting X-Forwarded-For; yields its URL and app."""
    from dashboard.app import create_app

    app = create_app(settings, migrate=False)
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="*",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=15)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def browser(url: str, address: str) -> httpx.Client:
    """A browser of its own (cookies) at a client address (sent by the proxy)."""
    return httpx.Client(base_url=url, headers={"x-forwarded-for": address}, timeout=60)


def test_a_locked_address_does_not_lock_out_the_moderator_elsewhere(
    proxied: tuple[str, FastAPI], verifications: Verifications
) -> None:
    url, app = proxied
    clock = _clock(app)
    with (
        browser(url, "203.0.113.7") as attacker,
        browser(url, "198.51.100.20") as moderator,
        browser(url, "192.0.2.99") as helper,
    ):
        for _ in range(10):
            assert attempt(attacker, WRONG).status_code == 401
            clock.advance(16)
        assert refused(attempt(attacker, PASSWORD)) > 800  # that address is locked
        # Elsewhere the account is only slowed (never locked): a short wait, then in.
        wait = refused(attempt(moderator, PASSWORD))
        assert wait <= 60
        assert verifications.calls == 10
        clock.advance(wait)
        assert attempt(moderator, PASSWORD).status_code == 303
        assert moderator.cookies.get(DEVICE_COOKIE) is not None
        assert refused(attempt(attacker, PASSWORD)) > 0  # still locked

        # Guesses from yet another address slow the account down again...
        for _ in range(5):
            assert attempt(helper, WRONG).status_code == 401
        assert refused(attempt(helper, WRONG)) >= 1
        # ...but not the browser the moderator signed in with before: it has its own count.
        token = csrf_of(moderator.get("/checks").text)
        moderator.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert attempt(moderator, PASSWORD).status_code == 303
        metrics = moderator.get("/metrics").text
    assert metric(metrics, "fakewatch_signin_locked") == 1
    assert metric(metrics, "fakewatch_signin_failures_total") == 15
    assert verifications.calls == 17


@pytest.mark.parametrize("secret", ["not-the-secret", None])
def test_a_forged_or_another_accounts_device_cookie_earns_nothing(
    proxied: tuple[str, FastAPI], settings: Settings, secret: str | None
) -> None:
    # Signed with another key (forged), or a real cookie of a sign-in to another account.
    url, app = proxied
    _clock(app)
    key = secret or settings.require("dashboard_secret")
    cookie = URLSafeTimedSerializer(key, salt="fakewatch.dashboard.device").dumps(
        {"n": MODERATOR if secret else "someone-else", "d": "a-device"}
    )
    with browser(url, "203.0.113.8") as attacker:
        attacker.cookies.set(DEVICE_COOKIE, cookie, path="/login")
        answers = [attempt(attacker, WRONG).status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]


def test_ipv6_neighbours_share_one_count(
    proxied: tuple[str, FastAPI], verifications: Verifications
) -> None:
    url, app = proxied
    _clock(app)
    answers = []
    for n in range(6):  # six addresses of one /64, as one host may use
        with browser(url, f"2001:db8:1:2::{n + 1:x}") as client:
            answers.append(attempt(client, WRONG, name=f"guess{n}").status_code)
    assert answers == [401] * 5 + [429]
