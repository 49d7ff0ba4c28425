"""The bot's services with Discord's notion of a chat: a server and its channels.

Checks are stored per channel (``"<guild id>:<channel id>"``) while a server's moderators
act for the whole server, so ``/verdict`` run in any channel may override a check from
another channel of the same server, never one from another server.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import cast

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.core.adapters.moderation import ModerationAdapter
from bots.core.services import BotServices
from db.checks import get_check
from queue_worker.client import QueueClient

log = logging.getLogger(__name__)


class DiscordModeration(ModerationAdapter):
    """The moderation port where a server's moderators act for all of its channels."""

    async def add_review(
        self,
        *,
        platform: str,
        chat_id: str,
        check_id: int,
        moderator_id: str,
        moderator_name: str | None,
        decision: str,
        note: str | None,
    ) -> None:
        """Store an override of a check of this server (``chat_id``: the guild id) or chat.

        Raises:
            UnknownCheck: no such check in this server.
        """
        async with self.sessions() as session:
            check = await get_check(session, check_id=check_id)
        stored = check.chat_id if check is not None else None
        if stored is not None and stored.startswith(f"{chat_id}:"):
            chat_id = stored  # a channel of this server
        await super().add_review(
            platform=platform,
            chat_id=chat_id,
            check_id=check_id,
            moderator_id=moderator_id,
            moderator_name=moderator_name,
            decision=decision,
            note=note,
        )


class DiscordServices(BotServices):
    """:class:`bots.core.services.BotServices` over the bot's queue client and session
    factory, with Discord's moderation and the channels' handled marks."""

    def __init__(self, client: QueueClient, *, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(client, sessions=sessions)
        self.moderation = DiscordModeration(self.sessions)

    @property
    def _marks_key(self) -> str:
        return f"{self.client.queue_name}:discord:handled"

    async def save_mark(self, channel_id: int, message_id: int) -> None:
        """Record that every message of the channel up to ``message_id`` was handled.

        Best effort: without it, a restart catches up on a little more history.
        """
        try:
            saved = self.client.redis.hset(self._marks_key, str(channel_id), str(message_id))
            await cast(Awaitable[int], saved)
        except (RedisError, OSError) as e:
            log.warning("could not save how far channel %s is handled: %s", channel_id, e)

    async def marks(self) -> dict[int, int]:
        """Per channel, the newest message up to which every message was handled."""
        try:
            raw = await cast(
                Awaitable[dict[bytes, bytes]], self.client.redis.hgetall(self._marks_key)
            )
        except (RedisError, OSError) as e:
            log.warning("could not read how far the channels are handled: %s", e)
            return {}
        return {int(k): int(v) for k, v in raw.items()}
