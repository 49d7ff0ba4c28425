"""Errors the bot core raises on purpose.

A check that cannot be queued is :class:`base.errors.QueueUnavailable` (and
:class:`base.errors.QueueFull` when the workers are behind), as the queue raised it.
"""

from __future__ import annotations

from base.errors import FakeWatchError


class BotError(FakeWatchError):
    """Base class of the bots' own errors."""

    code = "bot"


class FetchFailed(BotError):
    """The platform would not hand over the media bytes."""

    code = "fetch_failed"


class StoreUnavailable(BotError):
    """The database could not be reached, even after waiting a little."""

    code = "store_unavailable"


class BadArguments(BotError):
    """A command's arguments could not be understood; the message says how to write them."""

    code = "bad_arguments"


class UnknownCheck(BotError):
    """No check with that id in this chat (it may exist elsewhere: that is not told)."""

    code = "unknown_check"
