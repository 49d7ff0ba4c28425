"""Which database a process uses, and how operators may write its URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import load_settings
from db.engine import async_url, database_url, sqlite_file
from db.errors import StoreError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/fw", "postgresql+asyncpg://u:p@h:5432/fw"),
        ("postgres://u@h/fw", "postgresql+asyncpg://u@h/fw"),
        ("postgresql+asyncpg://h/fw", "postgresql+asyncpg://h/fw"),
        ("sqlite:////var/lib/fw.db", "sqlite+aiosqlite:////var/lib/fw.db"),
        ("sqlite+aiosqlite:///rel.db", "sqlite+aiosqlite:///rel.db"),
    ],
)
def test_async_url_picks_the_async_driver(given: str, expected: str) -> None:
    assert async_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://h/db", "not a url", "redis://h:6379/0"])
def test_async_url_refuses_other_databases(bad: str) -> None:
    with pytest.raises(StoreError):
        async_url(bad)


def test_database_url_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=None)
    url = database_url(settings)
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'fakewatch.sqlite3'}"
    assert sqlite_file(url) == tmp_path / "fakewatch.sqlite3"


def test_database_url_from_the_setting(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="postgresql://db/fw")
    assert database_url(settings) == "postgresql+asyncpg://db/fw"
    assert sqlite_file(database_url(settings)) is None
