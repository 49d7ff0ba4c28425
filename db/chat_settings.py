"""Per-chat moderation settings.

A chat is ``(platform, chat_id)``. Telegram chats use the chat id. Discord uses
the guild id for server-wide settings and ``"<guild id>:<channel id>"`` for a
channel's own settings; :func:`get_chat_settings` falls back from a channel to
its guild (the part before the last ``:``) and then to the defaults, so a
channel row only needs to exist where it differs. Unknown chats get a default
``ChatSettings`` that is not stored.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from base.vocabulary import ACTIONS, PLATFORMS
from db.columns import utcnow
from db.errors import InvalidValue
from db.models import ChatSettings


class _Keep:
    """The "leave this setting as it is" marker (``None`` is a real value for thresholds)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()

DEFAULTS: dict[str, Any] = {
    "auto_check": True,
    "fake_threshold": None,
    "real_threshold": None,
    "action": "reply",
    "mod_channel_id": None,
    "retention_days": 0,
}


def default_chat_settings(*, platform: str, chat_id: str) -> ChatSettings:
    """Settings of a chat nobody configured (not added to any session)."""
    return ChatSettings(platform=platform, chat_id=chat_id, updated_at=utcnow(), **DEFAULTS)


def parent_chat_id(chat_id: str) -> str | None:
    """``"guild:channel"`` -> ``"guild"``; ``None`` for a chat without a parent."""
    parent, sep, _ = chat_id.rpartition(":")
    return parent if sep and parent else None


async def get_chat_settings(
    session: AsyncSession, *, platform: str, chat_id: str, inherit: bool = True
) -> ChatSettings:
    """The settings that apply to a chat: its own row, else its parent's, else defaults.

    Args:
        inherit: fall back to the parent chat (a Discord channel's guild).
    """
    ids = [chat_id]
    parent = parent_chat_id(chat_id) if inherit else None
    if parent is not None:
        ids.append(parent)
    rows = {
        row.chat_id: row
        for row in await session.scalars(
            select(ChatSettings)
            .where(ChatSettings.platform == platform, ChatSettings.chat_id.in_(ids))
            .execution_options(populate_existing=True)
        )
    }
    for key in ids:
        if key in rows:
            return rows[key]
    return default_chat_settings(platform=platform, chat_id=chat_id)


def _validate(changes: dict[str, Any]) -> None:
    action = changes.get("action")
    if action is not None and action not in ACTIONS:
        raise InvalidValue(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    for key in ("fake_threshold", "real_threshold"):
        value = changes.get(key)
        if value is not None and not 0.0 <= float(value) <= 1.0:
            raise InvalidValue(f"{key} must be between 0 and 1, got {value}")
    fake, real = changes.get("fake_threshold"), changes.get("real_threshold")
    if fake is not None and real is not None and real > fake:
        raise InvalidValue(f"real_threshold {real} is above fake_threshold {fake}")
    days = changes.get("retention_days")
    if days is not None and int(days) < 0:
        raise InvalidValue(f"retention_days cannot be negative, got {days}")


async def update_chat_settings(
    session: AsyncSession,
    *,
    platform: str,
    chat_id: str,
    auto_check: bool | _Keep = KEEP,
    fake_threshold: float | _Keep | None = KEEP,
    real_threshold: float | _Keep | None = KEEP,
    action: str | _Keep = KEEP,
    mod_channel_id: str | _Keep | None = KEEP,
    retention_days: int | _Keep = KEEP,
    updated_by: str | None = None,
) -> ChatSettings:
    """Change some of a chat's settings (creating its row); arguments left out keep their value.

    A new row starts from the defaults, not from a parent chat's row.

    Raises:
        InvalidValue: an unknown platform or action, a threshold outside [0, 1],
            ``real_threshold > fake_threshold``, negative retention.
    """
    if platform not in PLATFORMS:
        raise InvalidValue(f"unknown platform {platform!r}")
    given = {
        "auto_check": auto_check,
        "fake_threshold": fake_threshold,
        "real_threshold": real_threshold,
        "action": action,
        "mod_channel_id": mod_channel_id,
        "retention_days": retention_days,
    }
    changes = {k: v for k, v in given.items() if not isinstance(v, _Keep)}
    current = await get_chat_settings(session, platform=platform, chat_id=chat_id, inherit=False)
    merged = {k: getattr(current, k) for k in DEFAULTS} | changes
    _validate(merged)
    now = utcnow()
    values = {"platform": platform, "chat_id": chat_id, **merged}
    values |= {"updated_at": now, "updated_by": updated_by}
    # One upsert statement: two moderators saving at once cannot collide on the key.
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(ChatSettings).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "chat_id"],
        set_={k: stmt.excluded[k] for k in [*changes, "updated_at", "updated_by"]},
    )
    await session.execute(stmt)
    await session.commit()
    return await get_chat_settings(session, platform=platform, chat_id=chat_id, inherit=False)


async def list_chat_settings(
    session: AsyncSession, *, platform: str | None = None
) -> list[ChatSettings]:
    """Every stored chat settings row, optionally of one platform."""
    query = select(ChatSettings).order_by(ChatSettings.platform, ChatSettings.chat_id)
    if platform is not None:
        query = query.where(ChatSettings.platform == platform)
    return list(await session.scalars(query))
