"""What producers and the worker agree on: job names and payloads of primitives.

Bots import this module and :mod:`queue_worker.client`, never the worker or
``inference``: jobs are enqueued by name. Nothing heavy is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from base.scores import Details
from base.vocabulary import FINISHED, Label, RequestKind, Status

# The job that analyses one media item: ``analyze(ctx, check_id: int, media: bytes)``.
ANALYZE = "analyze"


def job_id(queue_name: str, check_job_id: str) -> str:
    """The arq job id of a check: the check's stored job id under the queue's name."""
    return f"{queue_name}:{check_job_id}"


@dataclass(frozen=True)
class MediaContext:
    """Where a media item comes from and how its check was asked for.

    Ids are text (Telegram ids are 64-bit, Discord ids are snowflakes); a Discord
    channel is ``"<guild id>:<channel id>"``. ``reply_to`` is what the bot needs to
    answer after a restart: e.g. ``{"chat_id": ..., "message_id": ..., "status_message_id": ...}``.
    """

    platform: str  # discord | telegram | web | cli
    chat_id: str | None = None
    chat_title: str | None = None
    message_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    request_kind: RequestKind = RequestKind.AUTO
    requested_by: str | None = None
    media_kind: str | None = None  # image | video | animation, as the platform says
    file_name: str | None = None
    mime_type: str | None = None
    reply_to: dict[str, str | int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MediaContext:
        """The inverse of :meth:`to_dict`; unknown keys are ignored."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class CheckResult:
    """A check as the bots and the command line see it: the one record the store's
    answer travels in, from :func:`queue_worker.records.check_result` to a chat.

    ``label`` is set once the check is finished: ``fake``, ``real``,
    ``inconclusive``, ``no_face`` when ``done``; ``unsupported`` or ``error`` when
    ``failed``, with ``reason`` (plain words to show) and ``reason_code`` (stable, to
    match on). ``deduplicated`` says the verdict was reused from identical bytes.
    ``media_kind`` is what the worker decoded (``image`` or ``video``); ``details`` the
    verdict's per-face and per-frame scores and manipulation map, from which the bots
    draw the pictures of a reply.
    """

    check_id: int
    status: Status
    label: Label | None = None
    fake_probability: float | None = None
    faces: int | None = None
    frames: int | None = None
    model: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    deduplicated: bool = False
    created_at: str | None = None  # ISO 8601, UTC
    finished_at: str | None = None
    media_kind: str | None = None
    details: Details = field(default_factory=Details)

    @property
    def finished(self) -> bool:
        """Whether the check is done or failed."""
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the ``analyze`` job returns to arq)."""
        data = asdict(self)
        data["details"] = self.details.to_json()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """The inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["status"] = Status(known["status"])
        known["label"] = Label(known["label"]) if known.get("label") is not None else None
        known["timings"] = dict(known.get("timings") or {})
        known["details"] = Details.from_json(known.get("details"))
        return cls(**known)
