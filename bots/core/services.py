"""The core's ports implemented with the real queue client and database.

:class:`Services` is the one object a bot gets from :meth:`Services.connect`: it
submits and waits through :class:`queue_worker.client.QueueClient` and reads and
writes chat settings, delivery marks, reviews and the audit log with the
:mod:`db` functions, over the client's session factory. A check id is the store's
``int`` throughout; what the client returns is handed on as it is.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from base.errors import QueueUnavailable
from base.settings import Settings
from base.vocabulary import FakeAction, RequestKind, Status
from bots.core.errors import BadArguments, StoreUnavailable, UnknownCheck
from bots.core.media import InboundMedia, Request
from bots.core.ports import (
    Admission,
    AuditEntry,
    AuditQuery,
    ChatPolicy,
    PendingReply,
    StoredCheck,
)
from db.audit import AuditFilter, count_by_label, query_checks
from db.chat_settings import get_chat_settings, update_chat_settings
from db.checks import find_auto_check, get_check, mark_replied, unreplied_checks
from db.columns import utcnow
from db.errors import CheckNotFound, InvalidValue
from db.export import export_checks
from db.models import ChatSettings
from db.reviews import add_review, latest_decisions
from queue_worker.client import QueueClient
from queue_worker.contracts import CheckResult, MediaContext
from queue_worker.errors import CheckTimeout
from queue_worker.ratelimit import Rate, TokenBuckets
from queue_worker.transient import retrying

log = logging.getLogger(__name__)

# The CSV of an audit holds every matching check up to this many.
CSV_MAX_ROWS = 10_000
# Telegram keeps an unconfirmed update for a day: a message handed out again is this young.
REDELIVERY_WINDOW = timedelta(days=1)
# After a "queue full" notice, the same chat is not told again for this long.
BUSY_NOTICE_S = 60.0


def policy_of(row: ChatSettings) -> ChatPolicy:
    """The core's view of a chat settings row."""
    return ChatPolicy(
        auto_check=row.auto_check,
        fake_threshold=row.fake_threshold,
        real_threshold=row.real_threshold,
        action=FakeAction(row.action),
        mod_channel_id=row.mod_channel_id,
        retention_days=row.retention_days,
    )


def audit_filter(*, platform: str, chat_id: str, query: AuditQuery) -> AuditFilter:
    """The store's filter for an audit query in one chat.

    ``failed`` means the status (its labels are ``unsupported`` and ``error``). The
    author is matched by user id, or without one by the ``@username`` stored with each
    check; never by display name, which anyone can change to imitate someone else.
    """
    username = None if query.author else query.author_username
    failed = query.label == Status.FAILED
    return AuditFilter(
        platform=platform,
        chat=chat_id,
        author_id=query.author,
        author_username=username.lstrip("@") if username else None,
        label=None if failed else query.label,
        status=Status.FAILED if failed else None,
        since=query.since,
    )


class Services:
    """Queue, chat store and moderation store for a bot, over one :class:`QueueClient`."""

    def __init__(self, client: QueueClient) -> None:
        self.client = client
        self.sessions = client.sessions
        settings = client.settings
        self.buckets = TokenBuckets(client.redis, prefix=client.queue_name)
        self.user_rate = Rate.per_minute_with_burst(settings.user_checks_per_minute)
        self.chat_rate = Rate.per_minute_with_burst(settings.chat_checks_per_minute)

    @classmethod
    async def connect(cls, settings: Settings, *, migrate: bool = True) -> Services:
        """Connect to Redis and the database (with ``migrate``, upgrading its schema first)."""
        return cls(await QueueClient.connect(settings, migrate=migrate))

    async def close(self) -> None:
        """Close the Redis pool and the database engine."""
        await self.client.close()

    # --- CheckQueue -----------------------------------------------------------

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

    # --- Gate -----------------------------------------------------------------

    async def admit(self, *, platform: str, chat_id: str, user_id: str | None) -> Admission:
        """Whether a check may start: the queue has room, the user and the chat have allowance.

        When Redis cannot be asked, the check goes ahead: submitting it will tell.
        """
        try:
            limit = self.client.max_queue_depth
            if limit and await self.client.queue_depth() >= limit:
                told = await self.buckets.first(f"busy:{platform}:{chat_id}", BUSY_NOTICE_S)
                return Admission(
                    allowed=False, scope="queue", retry_after_s=BUSY_NOTICE_S, notify=told
                )
            decision = await self.buckets.take(
                [
                    self.buckets.bucket("user", f"{platform}:{user_id}", self.user_rate)
                    if user_id
                    else None,
                    self.buckets.bucket("chat", f"{platform}:{chat_id}", self.chat_rate),
                ]
            )
        except (QueueUnavailable, RedisError, OSError):
            log.warning("cannot read the abuse limits; letting the check through", exc_info=True)
            return Admission()
        if decision.allowed:
            return Admission()
        return Admission(
            allowed=False,
            scope=decision.scope,
            retry_after_s=decision.retry_after_s,
            notify=decision.notify,
            per_minute=decision.rate.per_minute if decision.rate else None,
        )

    # --- ChatStore ------------------------------------------------------------

    async def policy(self, *, platform: str, chat_id: str) -> ChatPolicy:
        """The chat's settings (defaults when never configured).

        Raises:
            StoreUnavailable: the database stayed unreachable for the retry period.
        """

        async def read() -> ChatPolicy:
            async with self.sessions() as session:
                row = await get_chat_settings(session, platform=platform, chat_id=chat_id)
                return policy_of(row)

        try:
            return await retrying(read, what="reading chat settings")
        except (SQLAlchemyError, OSError) as e:
            raise StoreUnavailable(f"cannot read the settings of chat {chat_id}: {e}") from e

    async def mark_replied(self, *, check_id: int) -> None:
        """Record that the verdict reached the chat (waiting out a database restart)."""

        async def mark() -> None:
            async with self.sessions() as session:
                await mark_replied(session, check_id=check_id)

        await retrying(mark, what=f"marking check {check_id} replied")

    async def pending(self, *, platform: str) -> Sequence[PendingReply]:
        """Finished checks of this platform whose verdict was not delivered."""
        async with self.sessions() as session:
            rows = await unreplied_checks(session, platform=platform)
        return [
            PendingReply(
                check_id=row.id,
                chat_id=row.chat_id or "",
                reply_to=row.reply_to or {},
                finished=row.finished,
            )
            for row in rows
            if row.reply_to
        ]

    async def stored_check(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> StoredCheck | None:
        """The automatic check already stored for this message in the last day, if any."""

        async def find() -> StoredCheck | None:
            async with self.sessions() as session:
                row = await find_auto_check(
                    session,
                    platform=platform,
                    chat_id=chat_id,
                    message_id=message_id,
                    since=utcnow() - REDELIVERY_WINDOW,
                )
            if row is None:
                return None
            return StoredCheck(
                check_id=row.id,
                reply_to=row.reply_to or {},
                replied=row.replied_at is not None,
                finished=row.finished,
            )

        try:
            return await retrying(find, what="looking for a stored check")
        except (SQLAlchemyError, OSError) as e:
            raise StoreUnavailable(f"cannot look up message {message_id}: {e}") from e

    def _status_key(self, platform: str, chat_id: str, message_id: str) -> str:
        return f"{self.client.queue_name}:status:{platform}:{chat_id}:{message_id}"

    async def remember_status(
        self, *, platform: str, chat_id: str, message_id: str, status: Mapping[str, Any]
    ) -> None:
        """Keep the "analysing…" message's id in Redis for a day (best effort)."""
        key = self._status_key(platform, chat_id, message_id)
        ttl_ms = int(REDELIVERY_WINDOW.total_seconds() * 1000)
        try:
            await self.client.redis.set(key, json.dumps(dict(status)), px=ttl_ms)
        except (RedisError, OSError) as e:
            log.warning("could not remember the status message of %s: %s", message_id, e)

    async def posted_status(
        self, *, platform: str, chat_id: str, message_id: str
    ) -> Mapping[str, Any] | None:
        """The "analysing…" message posted for this message before a restart, if any."""
        try:
            raw = await self.client.redis.get(self._status_key(platform, chat_id, message_id))
        except (RedisError, OSError) as e:
            log.warning("could not look up the status message of %s: %s", message_id, e)
            return None
        if raw is None:
            return None
        status = json.loads(raw)
        return status if isinstance(status, dict) else None

    # --- ModerationStore ------------------------------------------------------

    async def audit(
        self, *, platform: str, chat_id: str, query: AuditQuery
    ) -> tuple[list[AuditEntry], dict[str, int]]:
        """The chat's latest checks matching ``query`` and the counts per label."""
        filters = audit_filter(platform=platform, chat_id=chat_id, query=query)
        async with self.sessions() as session:
            page = await query_checks(session, filters=filters, limit=query.limit)
            counts = await count_by_label(session, filters=filters)
            reviews = await latest_decisions(session, check_ids=[c.id for c in page.checks])
        entries = [
            AuditEntry(
                check_id=c.id,
                created_at=c.created_at,
                author_name=c.author_name,
                author_id=c.author_id,
                media_kind=c.media_kind,
                status=c.status,
                label=c.label,
                fake_probability=c.fake_probability,
                review=reviews.get(c.id),
            )
            for c in page.checks
        ]
        return entries, counts

    async def audit_csv(self, *, platform: str, chat_id: str, query: AuditQuery) -> bytes:
        """Every check matching ``query`` (not just ``query.limit``), as CSV."""
        filters = audit_filter(platform=platform, chat_id=chat_id, query=query)
        out = io.StringIO()
        async with self.sessions() as session:
            await export_checks(session, out=out, fmt="csv", filters=filters, limit=CSV_MAX_ROWS)
        return out.getvalue().encode("utf-8")

    async def author_id(self, *, platform: str, chat_id: str, username: str) -> str | None:
        """The author id of the chat's latest check posted under ``@username``."""
        filters = AuditFilter(platform=platform, chat=chat_id, author_username=username)
        async with self.sessions() as session:
            page = await query_checks(session, filters=filters, limit=1)
        return page.checks[0].author_id if page.checks else None

    async def update_policy(
        self, *, platform: str, chat_id: str, changes: Mapping[str, Any], updated_by: str
    ) -> ChatPolicy:
        """Change the chat's settings. Raises ``BadArguments`` for values the store refuses."""
        async with self.sessions() as session:
            try:
                row = await update_chat_settings(
                    session, platform=platform, chat_id=chat_id, updated_by=updated_by, **changes
                )
            except InvalidValue as e:
                raise BadArguments(str(e)) from e
            return policy_of(row)

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
        """Store an override of a check of this chat. Raises ``UnknownCheck`` otherwise."""
        async with self.sessions() as session:
            check = await get_check(session, check_id=check_id)
            if check is None or check.platform != platform or check.chat_id != chat_id:
                raise UnknownCheck(f"no check {check_id} in this chat")
            await add_review(
                session,
                check_id=check.id,
                moderator_id=moderator_id,
                moderator_name=moderator_name,
                decision=decision,
                note=note,
            )
