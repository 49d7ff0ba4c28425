"""The :class:`~bots.core.ports.Gate` port: the abuse limits, in Redis.

Per-user and per-chat rates are token buckets shared by every bot process
(:mod:`queue_worker.admission`); the queue's depth is the queue client's.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from base.errors import QueueUnavailable
from bots.core.ports import Admission
from queue_worker.admission import Rate, TokenBuckets
from queue_worker.client import QueueClient

log = logging.getLogger(__name__)

# After a "queue full" notice, the same chat is not told again for this long.
BUSY_NOTICE_S = 60.0


class LimitsAdapter:
    """Admits a check under the configured rates and the queue's maximum depth."""

    def __init__(self, client: QueueClient) -> None:
        self.client = client
        settings = client.settings
        self.buckets = TokenBuckets(client.redis, prefix=client.queue_name)
        self.user_rate = Rate.per_minute_with_burst(settings.user_checks_per_minute)
        self.chat_rate = Rate.per_minute_with_burst(settings.chat_checks_per_minute)

    async def admit(self, *, platform: str, chat_id: str, user_id: str | None) -> Admission:
        """Whether a check may start: the queue has room, the user and the chat have allowance.

        When Redis cannot be asked, the check goes ahead: submitting it will tell.
        """
        try:
            limit = self.client.max_queue_depth
            if limit and await self.client.queue_depth() >= limit:
                told = await self.buckets.first(f"busy:{platform}:{chat_id}", BUSY_NOTICE_S)
                return Admission(
                    allowed=False, scope="queue", retry_after_s=BUSY_NOTICE_S, notify=told
                )
            decision = await self.buckets.take(
                [
                    self.buckets.bucket("user", f"{platform}:{user_id}", self.user_rate)
                    if user_id
                    else None,
                    self.buckets.bucket("chat", f"{platform}:{chat_id}", self.chat_rate),
                ]
            )
        except (QueueUnavailable, RedisError, OSError):
            log.warning("cannot read the abuse limits; letting the check through", exc_info=True)
            return Admission()
        if decision.allowed:
            return Admission()
        return Admission(
            allowed=False,
            scope=decision.scope,
            retry_after_s=decision.retry_after_s,
            notify=decision.notify,
            per_minute=decision.rate.per_minute if decision.rate else None,
        )
