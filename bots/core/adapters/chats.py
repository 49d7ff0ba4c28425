"""The :class:`~bots.core.ports.ChatStore` port: chat settings and delivery bookkeeping.

Settings, stored checks and replied marks are in the database (the :mod:`db`
functions, each call waiting out a short outage); the "analysing…" message of a
message Telegram may hand out again is remembered in Redis for a day.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.vocabulary import FakeAction
from bots.core.errors import StoreUnavailable
from bots.core.ports import ChatPolicy, PendingReply, StoredCheck
from db.chat_settings import get_chat_settings
from db.checks import find_auto_check, mark_replied, unreplied_checks
from db.columns import utcnow
from db.models import ChatSettings
from queue_worker.transient import retrying

log = logging.getLogger(__name__)

# Telegram keeps an unconfirmed update for a day: a message handed out again is this young.
REDELIVERY_WINDOW = timedelta(days=1)


def policy_of(row: ChatSettings) -> ChatPolicy:
    """The core's view of a chat settings row."""
    return ChatPolicy(
        auto_check=row.auto_check,
        fake_threshold=row.fake_threshold,
        real_threshold=row.real_threshold,
        action=FakeAction(row.action),
        mod_channel_id=row.mod_channel_id,
        retention_days=row.retention_days,
    )


class ChatAdapter:
    """A platform's chats in the store, and its status messages in Redis.

    Args:
        sessions: The store's sessions.
        redis: Where status messages are remembered...
        prefix: ...under this key prefix (the queue's name).
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, redis: Redis, prefix: str
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.prefix = prefix

    async def policy(self, *, platform: str, chat_id: str) -> ChatPolicy:
        """The chat's settings (defaults when never configured).

        Raises:
            StoreUnavailable: the database stayed unreachable for the retry period.
        """

        async def read() -> ChatPolicy:
            async with self.sessions() as session:
                row = await get_chat_settings(session, platform=platform, chat_id=chat_id)
                return policy_of(row)

        try:
            return await retrying(read, what="reading chat settings")
        except (SQLAlchemyError, OSError) as e:
            raise StoreUnavailable(f"cannot read the settings of chat {chat_id}: {e}") from e

    async def mark_replied(self, *, check_id: int) -> None:
        """Record that the verdict reached the chat (waiting out a database restart)."""

        async def mark() -> None:
            async with self.sessions() as session:
                await mark_replied(session, check_id=check_id)

        await retrying(mark, what=f"marking check {check_id} replied")

    async def pending(self, *, platform: str) -> Sequence[PendingReply]:
        """Finished checks of this platform whose verdict was not delivered."""
        async with self.sessions() as session:
            rows = await unreplied_checks(session, platform=platform)
        return [
            PendingReply(
                check_id=row.id,
                chat_id=row.chat_id or "",
                reply_to=row.reply_to or {},
                finished=row.finished,
            )
            for row in rows
            if row.reply_to
        ]

    async def stored_check(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> StoredCheck | None:
        """The automatic check already stored for this message in the last day, if any."""

        async def find() -> StoredCheck | None:
            async with self.sessions() as session:
                row = await find_auto_check(
                    session,
                    platform=platform,
                    chat_id=chat_id,
                    message_id=message_id,
                    since=utcnow() - REDELIVERY_WINDOW,
                )
            if row is None:
                return None
            return StoredCheck(
                check_id=row.id,
                reply_to=row.reply_to or {},
                replied=row.replied_at is not None,
                finished=row.finished,
            )

        try:
            return await retrying(find, what="looking for a stored check")
        except (SQLAlchemyError, OSError) as e:
            raise StoreUnavailable(f"cannot look up message {message_id}: {e}") from e

    def _status_key(self, platform: str, chat_id: str, message_id: str) -> str:
        return f"{self.prefix}:status:{platform}:{chat_id}:{message_id}"

    async def remember_status(
        self, *, platform: str, chat_id: str, message_id: str, status: Mapping[str, Any]
    ) -> None:
        """Keep the "analysing…" message's id in Redis for a day (best effort)."""
        key = self._status_key(platform, chat_id, message_id)
        ttl_ms = int(REDELIVERY_WINDOW.total_seconds() * 1000)
        try:
            await self.redis.set(key, json.dumps(dict(status)), px=ttl_ms)
        except (RedisError, OSError) as e:
            log.warning("could not remember the status message of %s: %s", message_id, e)

    async def posted_status(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> Mapping[str, Any] | None:
        """The "analysing…" message posted for this message before a restart, if any."""
        try:
            raw = await self.redis.get(self._status_key(platform, chat_id, message_id))
        except (RedisError, OSError) as e:
            log.warning("could not look up the status message of %s: %s", message_id, e)
            return None
        if raw is None:
            return None
        status = json.loads(raw)
        return status if isinstance(status, dict) else None
