"""Trouble worth waiting out: Redis or the database restarting, a connection cut.

Producers (bots, the dashboard, ``fakewatch submit``) retry such errors for a few
seconds before telling anyone, so a Redis restart or a database failover in the
middle of a raid costs latency, not checks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long producers keep trying before they give up and say the service is down.
RETRY_WITHIN_S = 20.0
_FIRST_DELAY_S = 0.1
_MAX_DELAY_S = 2.0

_TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,  # refused, reset, broken pipe: asyncpg raises these unwrapped
    TimeoutError,
)


# SQLSTATEs of a database going away or not up yet: class 08 (connection exception),
# 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up).
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` means a service was briefly unreachable (so a retry may succeed).

    The driver's own error counts, wherever it sits under SQLAlchemy's wrapping: a
    connection the server closed while it was being opened reaches us as a plain
    ``DBAPIError`` whose cause says so.
    """
    return any(_transient_itself(e) for e in _chain(error))


def _transient_itself(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT):
        return True
    # A query on a connection the server dropped: SQLAlchemy marks it invalidated.
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATES)


def _chain(error: BaseException, depth: int = 8) -> list[BaseException]:
    """``error``, the driver error it wraps and the errors it was raised from."""
    seen: list[BaseException] = []
    queue: list[BaseException | None] = [error]
    while queue and len(seen) < depth:
        e = queue.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        orig = getattr(e, "orig", None)
        queue += [orig if isinstance(orig, BaseException) else None, e.__cause__]
    return seen


async def retrying(
    operation: Callable[[], Awaitable[T]], *, within: float = RETRY_WITHIN_S, what: str
) -> T:
    """Run ``operation``, again after a growing pause while it fails transiently.

    Args:
        operation: makes a fresh attempt each call (a new session, a new command).
        within: give up (re-raise the last error) once this many seconds have passed.
        what: what is being done, for the log.

    Raises:
        Exception: the last error, when it is not transient or time is up.
    """
    deadline = time.monotonic() + within
    delay = _FIRST_DELAY_S
    attempt = 1
    while True:
        try:
            return await operation()
        except Exception as e:
            left = deadline - time.monotonic()
            if not is_transient(e) or left <= 0:
                raise
            if attempt == 1:
                log.warning("%s failed (%s); retrying for up to %gs", what, e, within)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, _MAX_DELAY_S)
            attempt += 1
