"""What the bot core needs from the queue and the store, as protocols.

The core is written against these, so it is tested with plain objects and does
not care how checks are queued or stored. :mod:`bots.core.adapters` implements
them with the real queue client and database, one module per port. A check is its
store id (an ``int``) everywhere here; a finished one is the queue's own record,
:class:`queue_worker.contracts.CheckResult`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from base.vocabulary import FakeAction
from bots.core.media import InboundMedia, Request
from queue_worker.contracts import CheckResult


@dataclass(frozen=True, kw_only=True)
class ChatPolicy:
    """A chat's settings, as the flow uses them.

    Attributes:
        auto_check: Check every image and video posted (commands work regardless).
        fake_threshold: A fake probability at or above this is ``fake``; ``None``: the model's.
        real_threshold: At or below this is ``real``; ``None``: the model's.
        action: What happens on a fake verdict of an automatic check: ``reply`` with
            the verdict, ``react`` quietly with an emoji, or ``delete_and_report``
            (delete the message and tell the moderators).
        mod_channel_id: Where ``delete_and_report`` reports; ``None``: the chat itself.
        retention_days: How long checks of this chat are kept.
    """

    auto_check: bool = True
    fake_threshold: float | None = None
    real_threshold: float | None = None
    action: FakeAction = FakeAction.REPLY
    mod_channel_id: str | None = None
    retention_days: int | None = None


class CheckQueue(Protocol):
    """Submits media for checking and waits for the outcome."""

    async def submit(
        self,
        data: bytes,
        *,
        media: InboundMedia,
        request: Request,
        reply_to: Mapping[str, Any] | None,
    ) -> int:
        """Queue the bytes; returns the check id. Raises ``QueueUnavailable``."""
        ...

    async def requeue(self, check_id: int, data: bytes) -> bool:
        """Queue a stored, unfinished check's job again if it is missing (its producer
        died before queueing it); whether it was. Raises ``QueueUnavailable``."""
        ...

    async def wait(self, check_id: int, *, timeout: float) -> CheckResult | None:
        """The finished check, or ``None`` when it is not done within ``timeout`` seconds."""
        ...

    async def get(self, check_id: int) -> CheckResult | None:
        """The check as it is now, or ``None`` for an unknown id."""
        ...


@dataclass(frozen=True, kw_only=True)
class PendingReply:
    """A check whose verdict has not been delivered to the chat yet."""

    check_id: int
    chat_id: str
    reply_to: Mapping[str, Any]
    finished: bool


@dataclass(frozen=True, kw_only=True)
class StoredCheck:
    """A check already stored for a message (the platform handed the message out again)."""

    check_id: int
    reply_to: Mapping[str, Any]
    replied: bool
    finished: bool


class ChatStore(Protocol):
    """Chat settings and the delivery bookkeeping that makes restarts lose nothing."""

    async def policy(self, *, platform: str, chat_id: str) -> ChatPolicy:
        """The chat's settings (defaults for a chat never configured)."""
        ...

    async def mark_replied(self, *, check_id: int) -> None:
        """Record that the verdict reached the chat."""
        ...

    async def pending(self, *, platform: str) -> Sequence[PendingReply]:
        """Checks of this platform whose verdict has not been delivered."""
        ...

    async def stored_check(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> StoredCheck | None:
        """The automatic check already stored for this message, if any (of the last day)."""
        ...

    async def remember_status(
        self, *, platform: str, chat_id: str, message_id: str, status: Mapping[str, Any]
    ) -> None:
        """Keep, for a day, what was posted to show a message's check is under way."""
        ...

    async def posted_status(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> Mapping[str, Any] | None:
        """What :meth:`remember_status` kept for this message, if anything."""
        ...


@dataclass(frozen=True, kw_only=True)
class AuditQuery:
    """Filters of an audit request, shared by ``/audit`` on every platform.

    Attributes:
        label: Only checks with this verdict label.
        author: Only media posted by this user id (the platform's; never a display
            name, which anyone can change to imitate someone else).
        author_username: The ``@username`` (without the ``@``) the author was asked
            for by. With ``author`` set, it is what that id was resolved from, only
            for the answer's wording; alone, checks stored with that username match.
        since: Only checks created after this time.
        limit: How many of the most recent checks.
    """

    label: str | None = None
    author: str | None = None
    author_username: str | None = None
    since: datetime | None = None
    limit: int = 10


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One row of an audit answer."""

    check_id: int
    created_at: datetime
    author_name: str | None
    author_id: str | None
    media_kind: str | None
    status: str
    label: str | None
    fake_probability: float | None
    review: str | None = None  # the latest moderator decision, if any


class ModerationStore(Protocol):
    """What the moderators' commands read and write."""

    async def audit(
        self, *, platform: str, chat_id: str, query: AuditQuery
    ) -> tuple[list[AuditEntry], dict[str, int]]:
        """The chat's most recent checks matching ``query``, newest first, and counts per label."""
        ...

    async def audit_csv(self, *, platform: str, chat_id: str, query: AuditQuery) -> bytes:
        """The same checks as a CSV file (UTF-8)."""
        ...

    async def author_id(self, *, platform: str, chat_id: str, username: str) -> str | None:
        """The user id that most recently posted a checked message in the chat under
        ``@username`` (as the platform reported it with the message), if any."""
        ...

    async def update_policy(
        self, *, platform: str, chat_id: str, changes: Mapping[str, Any], updated_by: str
    ) -> ChatPolicy:
        """Apply ``changes`` (``ChatPolicy`` field names) and return the new settings."""
        ...

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
        """Store a moderator's override. Raises ``UnknownCheck`` for a check of another chat."""
        ...


@dataclass(frozen=True, kw_only=True)
class Admission:
    """Whether a check may start now, under the abuse limits.

    Attributes:
        allowed: Go ahead.
        scope: What refused it: ``user`` or ``chat`` (their checks a minute), ``queue``
            (too many checks waiting for the workers).
        retry_after_s: When asking again should work.
        notify: Say so in the chat. Only the first refusal in a while is answered, so
            a flood gets one polite notice instead of one per post.
        per_minute: The refusing rate (``None`` for the queue).
    """

    allowed: bool = True
    scope: str | None = None
    retry_after_s: float = 0.0
    notify: bool = False
    per_minute: float | None = None


class Gate(Protocol):
    """Decides whether a check may start: per-user and per-chat rates, the queue's depth."""

    async def admit(self, *, platform: str, chat_id: str, user_id: str | None) -> Admission:
        """Take one check from the user's and the chat's allowance, or say why not."""
        ...


class Backend(Protocol):
    """Everything a bot needs from the service: one object per port, closed on shutdown."""

    @property
    def queue(self) -> CheckQueue:
        """Submits media and waits for verdicts."""
        ...

    @property
    def chats(self) -> ChatStore:
        """Chat settings and delivery bookkeeping."""
        ...

    @property
    def moderation(self) -> ModerationStore:
        """What the moderators' commands read and write."""
        ...

    @property
    def gate(self) -> Gate:
        """The abuse limits."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
