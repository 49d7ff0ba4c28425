"""Errors the bot core raises on purpose."""

from __future__ import annotations

from base.errors import FakeWatchError


class BotError(FakeWatchError):
    """Base class of the bots' own errors."""

    code = "bot"


class FetchFailed(BotError):
    """The platform would not hand over the media bytes."""

    code = "fetch_failed"


class QueueUnavailable(BotError):
    """The check could not be submitted (Redis or the database is down).

    Attributes:
        check_id: the check that was stored, as failed, before the queue gave up; the
            chat's answer to it is the answer to that check. ``None`` when none was.
    """

    code = "queue_unavailable"

    def __init__(self, message: str, *, check_id: str | None = None) -> None:
        super().__init__(message)
        self.check_id = check_id


class QueueBusy(QueueUnavailable):
    """Too many checks are waiting for the workers; this one was not queued."""

    code = "queue_busy"


class StoreUnavailable(BotError):
    """The database could not be reached, even after waiting a little."""

    code = "store_unavailable"


class BadArguments(BotError):
    """A command's arguments could not be understood; the message says how to write them."""

    code = "bad_arguments"


class UnknownCheck(BotError):
    """No check with that id in this chat (it may exist elsewhere: that is not told)."""

    code = "unknown_check"
