"""Notices that a check is finished, from the workers to whoever waits for it.

A worker publishes the check id on the queue's ``done`` channel (Redis pub/sub) once
the outcome is stored. A :class:`DoneNotices` holds one subscription per client
process and wakes the waiters of that check, so a verdict reaches the bot within
milliseconds instead of at the next poll of the store. Pub/sub is not durable: a
notice sent while the subscription is down is lost, so waiters still read the store
now and then; the notice only shortens the wait, the store stays the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# After the subscription breaks (Redis restarting), try again this often.
_RESUBSCRIBE_S = 1.0


def done_channel(queue_name: str) -> str:
    """The pub/sub channel on which workers announce finished checks of this queue."""
    return f"{queue_name}:done"


async def announce(redis: Redis, queue_name: str, check_id: int) -> None:
    """Tell the waiters that ``check_id`` is finished (best effort: they also poll)."""
    try:
        await redis.publish(done_channel(queue_name), str(check_id))
    except (RedisError, OSError) as e:
        log.debug("could not announce check %d: %s", check_id, e)


class DoneNotices:
    """One subscription to the ``done`` channel, fanned out to the waiters of each check."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.redis = redis
        self.channel = done_channel(queue_name)
        self._waiters: dict[int, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def watch(self, check_id: int) -> asyncio.Event:
        """An event set when ``check_id`` is announced; :meth:`unwatch` it when done."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="fakewatch-done-notices")
        event = asyncio.Event()
        self._waiters.setdefault(check_id, set()).add(event)
        return event

    def unwatch(self, check_id: int, event: asyncio.Event) -> None:
        """Forget a waiter."""
        events = self._waiters.get(check_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._waiters[check_id]

    async def close(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                async for message in pubsub.listen():
                    self._wake(message.get("data"))
            except (RedisError, OSError) as e:
                log.debug("finished-check notices interrupted (%s); waiters poll meanwhile", e)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(_RESUBSCRIBE_S)

    def _wake(self, data: object) -> None:
        try:
            check_id = int(data.decode() if isinstance(data, bytes) else str(data))
        except ValueError:
            return
        for event in self._waiters.get(check_id, ()):
            event.set()
