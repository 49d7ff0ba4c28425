"""``db.store``: the one way a process opens the store."""

from __future__ import annotations

from pathlib import Path

from db.checks import create_check, get_check
from db.schema import current_revision, head_revision
from db.store import Store, open_store


async def test_open_migrates_first_and_close_lets_go(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    store = await Store.open(url)
    assert await current_revision(store.engine.url.render_as_string(hide_password=False)) == (
        head_revision()
    )
    async with store.sessions() as session:
        check = await create_check(session, platform="cli", sha256="0" * 64, byte_size=1)
    async with store.sessions() as session:  # objects stay readable after commit
        assert (await get_check(session, check_id=check.id)) is not None
    await store.close()
    assert store.engine.pool.checkedout() == 0


async def test_open_store_for_one_piece_of_work(store_url: str) -> None:
    async with open_store(store_url, migrate=False) as store, store.sessions() as session:
        check = await create_check(session, platform="web", sha256="1" * 64, byte_size=2)
        assert check.id is not None and check.status == "queued"
