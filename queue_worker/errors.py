"""Errors of the queue: what a producer waiting for a verdict can run into."""

from __future__ import annotations

from base.errors import FakeWatchError


class QueueError(FakeWatchError):
    """The queue cannot do what was asked."""

    code = "queue"


class QueueUnavailable(QueueError):
    """Redis cannot be reached.

    Attributes:
        check_id: the check stored for the job, now failed; ``None`` when none was stored.
    """

    code = "queue_unavailable"

    def __init__(self, message: str, *, check_id: int | None = None) -> None:
        super().__init__(message)
        self.check_id = check_id


class QueueFull(QueueUnavailable):
    """Too many checks are waiting for the workers: back-pressure (nothing was stored)."""

    code = "queue_full"

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(f"{depth:,} checks are waiting; the limit is {limit:,}")
        self.depth = depth
        self.limit = limit


class CheckTimeout(QueueError):
    """The verdict did not arrive in time; the check may still finish later."""

    code = "check_timeout"

    def __init__(self, check_id: int, timeout: float) -> None:
        super().__init__(f"check {check_id} has no verdict after {timeout:g}s")
        self.check_id = check_id
        self.timeout = timeout


class EmbeddedRedisError(QueueError):
    """The embedded Redis server could not be started."""

    code = "embedded_redis"
