"""Dashboard fixtures: a migrated store (SQLite, or PostgreSQL where asked), a test Redis
queue of the test's own, the app behind a TestClient, and a moderator account."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from base.settings import Settings, load_settings
from dashboard.accounts import create_account
from db.engine import create_engine
from db.schema import upgrade_database
from tests.services import REDIS_URL, create_pg_database, drop_pg_database, queue_name  # noqa: F401

with warnings.catch_warnings():
    # Starlette nudges towards httpx2; the TestClient works the same with httpx.
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
MODERATOR = "mod"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_PG_MIGRATED: set[str] = set()


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered page."""
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture(scope="session")
def dashboard_pg_url() -> Iterator[str]:
    """One PostgreSQL database for the dashboard tests of this run (migrated once)."""
    url = create_pg_database()
    yield url
    drop_pg_database(url)


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text("TRUNCATE reviews, checks, chat_settings, users RESTART IDENTITY CASCADE")
        )
    await engine.dispose()


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store; parametrise with ``postgresql`` to run on PostgreSQL too."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'dashboard.sqlite3'}"
        upgrade_database(url)
        return url
    url = request.getfixturevalue("dashboard_pg_url")
    if url not in _PG_MIGRATED:
        upgrade_database(url)
        _PG_MIGRATED.add(url)
    asyncio.run(_truncate(url))
    return str(url)


@pytest.fixture
def settings(tmp_path: Path, store_url: str, queue_name: str) -> Settings:  # noqa: F811
    """Settings on the test store and this test's own queue on the test Redis."""
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=store_url,
        redis_url=REDIS_URL,
        queue_name=queue_name,
        dashboard_secret="test-secret-" + queue_name,
        max_media_bytes=2_000_000,
    )


@pytest.fixture
def moderator(settings: Settings) -> str:
    """A moderator account; returns its name (the password is :data:`PASSWORD`)."""
    asyncio.run(create_account(str(settings.database_url), name=MODERATOR, password=PASSWORD))
    return MODERATOR


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The dashboard behind a TestClient, signed out."""
    from dashboard.app import create_app

    with TestClient(create_app(settings, migrate=False)) as c:
        yield c


def sign_in(client: TestClient, name: str = MODERATOR, password: str = PASSWORD) -> None:
    """Sign in through the form, as a browser would."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/checks"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def signed_in(client: TestClient, moderator: str) -> TestClient:
    """The TestClient, signed in as the moderator."""
    sign_in(client)
    return client
