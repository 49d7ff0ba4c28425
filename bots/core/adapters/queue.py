"""The :class:`~bots.core.ports.CheckQueue` port over the queue client.

Submitting stores the check and queues its job (:class:`queue_worker.client.QueueClient`);
the store's and Redis's errors come out as :class:`base.errors.QueueUnavailable`, an
unknown check or a wait that ran out as ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from base.errors import QueueUnavailable
from base.vocabulary import RequestKind
from bots.core.media import InboundMedia, Request
from db.errors import CheckNotFound
from queue_worker.client import QueueClient
from queue_worker.contracts import CheckResult, MediaContext
from queue_worker.errors import CheckTimeout


class QueueAdapter:
    """Submits media and waits for verdicts through one :class:`QueueClient`."""

    def __init__(self, client: QueueClient) -> None:
        self.client = client

    async def submit(
        self,
        data: bytes,
        *,
        media: InboundMedia,
        request: Request,
        reply_to: Mapping[str, Any] | None,
    ) -> int:
        """Store and enqueue a check.

        Raises:
            QueueUnavailable: Redis or the store is down (as the queue client raised it,
                with the id of a check it stored as failed), or ``QueueFull``.
        """
        context = MediaContext(
            platform=media.platform,
            chat_id=media.chat_id,
            chat_title=media.chat_title,
            message_id=media.message_id,
            author_id=media.author_id,
            author_name=media.author_name,
            request_kind=RequestKind(request.kind),
            requested_by=request.requested_by,
            media_kind=media.kind,
            file_name=media.file_name,
            mime_type=media.mime_type,
            reply_to=(
                {k: v for k, v in reply_to.items() if isinstance(v, str | int)}
                if reply_to is not None
                else None
            ),
        )
        try:
            return await self.client.submit(data, context)
        except (SQLAlchemyError, OSError) as e:
            raise QueueUnavailable(f"could not queue the check: {e}") from e

    async def requeue(self, check_id: int, data: bytes) -> bool:
        """Queue a stored check's job again where it is missing; whether it was."""
        try:
            return await self.client.requeue(check_id, data)
        except (SQLAlchemyError, OSError) as e:
            raise QueueUnavailable(f"could not queue check {check_id} again: {e}") from e

    async def wait(self, check_id: int, *, timeout: float) -> CheckResult | None:
        """The finished check, or ``None`` after ``timeout`` seconds."""
        try:
            return await self.client.wait(check_id, timeout)
        except CheckTimeout:
            return None

    async def get(self, check_id: int) -> CheckResult | None:
        """The check as stored now; ``None`` when there is none."""
        try:
            return await self.client.get(check_id)
        except CheckNotFound:
            return None
