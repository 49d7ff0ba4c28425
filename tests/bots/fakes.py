"""Plain stand-ins for the queue, the store and a platform conversation, for core unit tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from base.errors import QueueUnavailable
from base.vocabulary import Label, Status
from bots.core.flow import Mode, Reply
from bots.core.media import InboundMedia, Request
from bots.core.ports import ChatPolicy, PendingReply, StoredCheck
from queue_worker.contracts import CheckResult


@dataclass(frozen=True)
class Outcome(CheckResult):
    """A finished check: the queue's own ``CheckResult``, with a plain real verdict's defaults."""

    check_id: int = 0
    status: Status = Status.DONE
    label: Label | None = Label.REAL
    fake_probability: float | None = 0.1
    faces: int | None = 1
    frames: int | None = 16
    model: str | None = "test-model"


@dataclass
class FakeQueue:
    """Records submissions; ``results`` says what each check ends as (``None``: never finishes)."""

    results: dict[int, CheckResult | None] = field(default_factory=dict)
    next_outcome: Outcome | None = None
    submitted: list[tuple[bytes, InboundMedia, Request, Mapping[str, Any] | None]] = field(
        default_factory=list
    )
    requeued: list[tuple[int, bytes]] = field(default_factory=list)
    down: bool = False
    # Redis went away between storing the check and queueing it: stored as failed.
    down_after_storing: bool = False

    async def submit(
        self,
        data: bytes,
        *,
        media: InboundMedia,
        request: Request,
        reply_to: Mapping[str, Any] | None,
    ) -> int:
        if self.down:
            raise QueueUnavailable("redis is down")
        check_id = len(self.submitted) + 1
        self.submitted.append((data, media, request, reply_to))
        if self.down_after_storing:
            self.results[check_id] = Outcome(
                check_id=check_id,
                status="failed",
                label=None,
                reason="the queue could not be reached; please try again",
                reason_code="queue_unavailable",
            )
            raise QueueUnavailable("redis went away", check_id=check_id)
        if self.next_outcome is not None:
            self.results[check_id] = replace(self.next_outcome, check_id=check_id)
        else:
            self.results.setdefault(check_id, None)
        return check_id

    async def requeue(self, check_id: int, data: bytes) -> bool:
        if self.down:
            raise QueueUnavailable("redis is down")
        self.requeued.append((check_id, data))
        return True

    async def wait(self, check_id: int, *, timeout: float) -> CheckResult | None:
        return self.results.get(check_id)

    async def get(self, check_id: int) -> CheckResult | None:
        return self.results.get(check_id)


@dataclass
class FakeStore:
    """Chat policies and delivery bookkeeping in dicts."""

    policies: dict[str, ChatPolicy] = field(default_factory=dict)
    replied: list[int] = field(default_factory=list)
    pending_replies: list[PendingReply] = field(default_factory=list)
    # Automatic checks already stored, by (chat id, message id).
    stored: dict[tuple[str, str], StoredCheck] = field(default_factory=dict)
    # "Analysing…" messages posted, by (chat id, message id).
    statuses: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)

    async def policy(self, *, platform: str, chat_id: str) -> ChatPolicy:
        return self.policies.get(chat_id, ChatPolicy())

    async def mark_replied(self, *, check_id: int) -> None:
        self.replied.append(check_id)
        self.pending_replies = [p for p in self.pending_replies if p.check_id != check_id]

    async def pending(self, *, platform: str) -> Sequence[PendingReply]:
        return list(self.pending_replies)

    async def stored_check(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> StoredCheck | None:
        return self.stored.get((chat_id, message_id))

    async def remember_status(
        self, *, platform: str, chat_id: str, message_id: str, status: Mapping[str, Any]
    ) -> None:
        self.statuses[(chat_id, message_id)] = status

    async def posted_status(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> Mapping[str, Any] | None:
        return self.statuses.get((chat_id, message_id))


@dataclass
class FakeConversation:
    """Records what the flow asked the platform to post."""

    events: list[tuple[str, Any]] = field(default_factory=list)
    fail_delivery: Exception | None = None

    async def refuse(self, text: str) -> None:
        self.events.append(("refuse", text))

    async def working(self, *, mode: Mode) -> Mapping[str, Any]:
        self.events.append(("working", mode))
        return {"status_message_id": "900"} if mode == "reply" else {}

    async def deliver(self, reply: Reply) -> None:
        if self.fail_delivery is not None:
            raise self.fail_delivery
        self.events.append(("deliver", reply))


def media(
    *,
    size: int | None = 1000,
    mime_type: str | None = "image/jpeg",
    kind: str = "photo",
    data: bytes = b"\xff\xd8 jpeg bytes",
    chat_id: str = "-100",
    fetched: list[int] | None = None,
) -> InboundMedia:
    """An inbound media item whose ``fetch`` counts its calls in ``fetched``."""
    calls = fetched if fetched is not None else []

    async def fetch() -> bytes:
        calls.append(1)
        return data

    return InboundMedia(
        platform="telegram",
        chat_id=chat_id,
        chat_title="Test group",
        message_id="42",
        author_id="7",
        author_name="Alice",
        kind=kind,
        file_name=None,
        mime_type=mime_type,
        size=size,
        fetch=fetch,
    )
