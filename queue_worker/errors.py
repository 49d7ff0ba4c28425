"""Errors of the queue: what a producer waiting for a verdict can run into.

:class:`~base.errors.QueueUnavailable` and :class:`~base.errors.QueueFull`, which the
bots see too, live in :mod:`base.errors`.
"""

from __future__ import annotations

from base.errors import QueueError


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
