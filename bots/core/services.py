"""What a bot runs on: the core's four ports over one queue client.

:class:`BotServices` is the one object a bot gets from :meth:`BotServices.connect`.
It holds an adapter per port (:mod:`bots.core.adapters`): ``queue`` submits and waits
through :class:`queue_worker.client.QueueClient`, ``chats`` and ``moderation`` read and
write the store over the client's session factory, ``gate`` applies the abuse limits
in Redis. A check id is the store's ``int`` throughout.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.settings import Settings
from bots.core.adapters.chats import ChatAdapter
from bots.core.adapters.limits import LimitsAdapter
from bots.core.adapters.moderation import ModerationAdapter
from bots.core.adapters.queue import QueueAdapter
from queue_worker.client import QueueClient


class BotServices:
    """Queue, chat store, moderation store and abuse limits for a bot (a ``Backend``).

    Args:
        client: The queue client; its Redis and, unless ``sessions`` is given, its
            session factory serve every port.
        sessions: The store's sessions, where the bot has its own.
    """

    def __init__(
        self, client: QueueClient, *, sessions: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        self.client = client
        self.sessions = sessions or client.sessions
        self.queue = QueueAdapter(client)
        self.chats = ChatAdapter(self.sessions, redis=client.redis, prefix=client.queue_name)
        self.moderation: ModerationAdapter = ModerationAdapter(self.sessions)
        self.gate = LimitsAdapter(client)

    @classmethod
    async def connect(cls, settings: Settings, *, migrate: bool = True) -> BotServices:
        """Connect to Redis and the database (with ``migrate``, upgrading its schema first)."""
        return cls(await QueueClient.connect(settings, migrate=migrate))

    async def close(self) -> None:
        """Close the Redis pool and the database engine."""
        await self.client.close()
