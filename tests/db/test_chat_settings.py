"""Per-chat settings: defaults, partial updates, Discord channel -> guild fallback, validation."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.chat_settings import (
    get_chat_settings,
    list_chat_settings,
    parent_chat_id,
    update_chat_settings,
)
from db.errors import InvalidValue


async def test_an_unknown_chat_gets_defaults_not_stored(session: AsyncSession) -> None:
    s = await get_chat_settings(session, platform="telegram", chat_id="-1001")
    assert (s.auto_check, s.action, s.retention_days) == (True, "reply", 0)
    assert s.fake_threshold is None and s.real_threshold is None and s.mod_channel_id is None
    assert await list_chat_settings(session) == []


async def test_partial_updates_keep_the_rest(session: AsyncSession) -> None:
    await update_chat_settings(
        session, platform="discord", chat_id="10", action="delete_and_report", mod_channel_id="99"
    )
    s = await update_chat_settings(
        session, platform="discord", chat_id="10", fake_threshold=0.8, updated_by="mod#1"
    )
    assert (s.action, s.mod_channel_id, s.fake_threshold, s.updated_by) == (
        "delete_and_report",
        "99",
        0.8,
        "mod#1",
    )
    # None is a value: back to the model's own threshold.
    s = await update_chat_settings(session, platform="discord", chat_id="10", fake_threshold=None)
    assert s.fake_threshold is None and s.action == "delete_and_report"
    assert [(r.platform, r.chat_id) for r in await list_chat_settings(session)] == [
        ("discord", "10")
    ]


async def test_a_channel_falls_back_to_its_guild(session: AsyncSession) -> None:
    await update_chat_settings(session, platform="discord", chat_id="10", retention_days=7)
    await update_chat_settings(session, platform="discord", chat_id="10:20", auto_check=False)
    own = await get_chat_settings(session, platform="discord", chat_id="10:20")
    assert (own.chat_id, own.auto_check, own.retention_days) == ("10:20", False, 0)
    inherited = await get_chat_settings(session, platform="discord", chat_id="10:30")
    assert (inherited.chat_id, inherited.retention_days) == ("10", 7)
    other = await get_chat_settings(session, platform="telegram", chat_id="10")
    assert other.retention_days == 0  # platforms do not mix
    assert parent_chat_id("10:20") == "10" and parent_chat_id("-1001") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"action": "ban"},
        {"fake_threshold": 1.5},
        {"real_threshold": -0.1},
        {"fake_threshold": 0.4, "real_threshold": 0.6},
        {"retention_days": -1},
    ],
)
async def test_invalid_settings_are_refused(
    session: AsyncSession, changes: dict[str, object]
) -> None:
    with pytest.raises(InvalidValue):
        await update_chat_settings(session, platform="telegram", chat_id="1", **changes)  # type: ignore[arg-type]
    assert await list_chat_settings(session) == []
