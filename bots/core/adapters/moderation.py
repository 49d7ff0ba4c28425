"""The :class:`~bots.core.ports.ModerationStore` port: audits, settings changes, reviews.

What the moderators' commands read and write, with the :mod:`db` functions, always
within one chat (``chat_id``): an audit, its CSV, a chat's settings, an override.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.vocabulary import Status
from bots.core.adapters.chats import policy_of
from bots.core.errors import BadArguments, UnknownCheck
from bots.core.ports import AuditEntry, AuditQuery, ChatPolicy
from db.audit import AuditFilter, count_by_label, query_checks
from db.chat_settings import update_chat_settings
from db.checks import get_check
from db.errors import InvalidValue
from db.export import export_checks
from db.reviews import add_review, latest_decisions

# The CSV of an audit holds every matching check up to this many.
CSV_MAX_ROWS = 10_000


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


class ModerationAdapter:
    """The moderators' reads and writes, over the store's sessions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

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
