"""The check flow every platform runs for a media item.

``chat settings -> size and type, before downloading -> fetch -> submit -> wait
-> format -> deliver -> mark replied``. The platform supplies a
:class:`Conversation` (how to refuse, show progress and deliver in its chat);
the flow decides everything else, so Telegram and Discord behave alike.

A verdict counts as delivered only once the platform accepted the message: a
check whose delivery failed, or that outlived the bot's wait (or the bot), stays
pending in the store and :mod:`bots.core.recovery` answers it later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from base.errors import QueueFull, QueueUnavailable
from base.vocabulary import FakeAction, Label, RequestKind, Status
from bots.core import formatting
from bots.core.errors import FetchFailed, StoreUnavailable
from bots.core.media import InboundMedia, Request
from bots.core.ports import ChatPolicy, ChatStore, CheckQueue, Gate, StoredCheck
from queue_worker.contracts import CheckResult

log = logging.getLogger(__name__)

Mode = Literal["reply", "react"]
_REMEMBERED = 10_000


@dataclass(frozen=True, kw_only=True)
class Screening:
    """Whether to check a media item, decided before anything is downloaded.

    Attributes:
        check: Go ahead.
        refusal: What to tell the chat when not checking it; ``None`` when the item is
            skipped silently (automatic checks off, or not an image or video).
        reason: A short code for logs and tests: ``ok``, ``auto_off``, ``not_media``,
            ``unsupported_type``, ``too_large``, ``too_large_for_platform``.
    """

    check: bool
    refusal: str | None = None
    reason: str = "ok"


@dataclass(frozen=True, kw_only=True)
class Reply:
    """What the platform should post about a check.

    Attributes:
        text: The message (the verdict, a failure, or "still working").
        reply_to: Where it goes: what the platform's ``working`` returned, plus the
            flow's keys ``chat_id``, ``message_id``, ``mode``, ``request``,
            ``author_name``, ``author_username`` (what ``/audit @name`` matches),
            ``chat_title``, ``explain`` (the map was asked for). Stored with the check,
            so a restarted bot can still answer in the right place.
        check_id: The check, when one was queued.
        outcome: The finished check, when there is one.
        label: The check's label as stored (decided once, by the worker; never here).
        final: ``False`` for the "still working" note; the verdict follows later.
        action: The chat's action to carry out (only for fake verdicts of automatic
            checks): ``reply``, ``react`` or ``delete_and_report``.
        removal: For ``delete_and_report``: the text posted in the chat after deleting
            (the platform reports to the moderators with ``formatting.report_text``).
        mod_channel_id: Where the moderators' report goes; ``None``: no report, the
            removal note in the chat says how to override.
    """

    text: str
    reply_to: Mapping[str, Any]
    check_id: int | None = None
    outcome: CheckResult | None = None
    label: Label | None = None
    final: bool = True
    action: FakeAction | None = None
    removal: str | None = None
    mod_channel_id: str | None = None

    @property
    def mode(self) -> Mode:
        """``react`` when the chat wants quiet emoji answers, else ``reply``."""
        return "react" if self.reply_to.get("mode") == "react" else "reply"


class Deliverer(Protocol):
    """Posts a :class:`Reply` in its chat. Raises ``Undeliverable`` when the chat is gone."""

    async def deliver(self, reply: Reply) -> None:
        """Post (or edit into place) the reply."""
        ...


class Conversation(Deliverer, Protocol):
    """One message's conversation with the bot, as the platform runs it."""

    async def refuse(self, text: str) -> None:
        """Answer the message without checking it (too large, wrong type)."""
        ...

    async def working(self, *, mode: Mode) -> Mapping[str, Any]:
        """Show that a check is running; return where the verdict should go.

        ``mode`` is ``react`` for a quiet emoji, ``reply`` for an "analysing…" reply
        that the verdict edits. The returned keys are stored with the check.
        """
        ...


@dataclass(kw_only=True)
class CheckFlow:
    """Runs checks for one platform.

    Attributes:
        platform: ``telegram`` or ``discord``.
        queue: Submits media and waits for verdicts.
        store: Chat settings and delivery bookkeeping.
        max_bytes: The largest file FakeWatch checks (the queue's cap).
        platform_max_bytes: The largest file the platform lets a bot download;
            ``None`` when it sets no limit of its own.
        too_large_hint: Added to the platform-limit explanation (what the user can do).
        wait_timeout: How long to wait for a verdict before saying it will come later.
        limit: The platform's message length.
        gate: The abuse limits (per-user and per-chat rates, queue depth); ``None``: none.
        recognise_resent: The platform may hand a message out again after a restart
            (Telegram's unconfirmed updates): an automatic check already stored for the
            message is answered instead of made twice. Not for Discord, whose messages
            come once and may carry several attachments.
    """

    platform: str
    queue: CheckQueue
    store: ChatStore
    max_bytes: int
    platform_max_bytes: int | None = None
    too_large_hint: str | None = None
    wait_timeout: float = 300.0
    limit: int = 4096
    gate: Gate | None = None
    recognise_resent: bool = False
    in_flight: set[int] = field(default_factory=set)
    # Checks this process answered lately: a recovery sweep that listed one as pending
    # just before it was answered must not answer it twice.
    answered: dict[int, None] = field(default_factory=dict)

    _closing: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def close(self) -> None:
        """Stop waiting for verdicts: the bot is shutting down, recovery answers them later."""
        self._closing.set()

    def was_answered(self, check_id: int) -> bool:
        """Whether this process is answering, or lately answered, the check."""
        return check_id in self.in_flight or check_id in self.answered

    def remember(self, check_id: int) -> None:
        """Note that the check was answered by this process."""
        self.answered[check_id] = None
        while len(self.answered) > _REMEMBERED:
            del self.answered[next(iter(self.answered))]

    def screen(self, media: InboundMedia, *, request: Request, policy: ChatPolicy) -> Screening:
        """Decide from what the platform declared, without downloading anything."""
        command = not request.automatic
        if not command and not policy.auto_check:
            return Screening(check=False, reason="auto_off")
        if media.category is None:
            if not command:
                return Screening(check=False, reason="not_media")
            text = formatting.unsupported_type_text(media, limit=self.limit)
            return Screening(check=False, refusal=text, reason="unsupported_type")
        size = media.size
        cap = self.platform_max_bytes
        if size is not None and cap is not None and size > cap and cap < self.max_bytes:
            hint = self.too_large_hint
            text = formatting.too_large_text(
                size, cap, platform_limit=True, hint=hint, limit=self.limit
            )
            return Screening(check=False, refusal=text, reason="too_large_for_platform")
        if size is not None and size > self.max_bytes:
            text = formatting.too_large_text(
                size, self.max_bytes, platform_limit=False, limit=self.limit
            )
            return Screening(check=False, refusal=text, reason="too_large")
        return Screening(check=True)

    def reply_for(
        self, outcome: CheckResult, *, policy: ChatPolicy, reply_to: Mapping[str, Any]
    ) -> Reply:
        """The reply to a finished check under the chat's settings (its stored label)."""
        label = outcome.label
        text = formatting.verdict_text(outcome, limit=self.limit)
        action: FakeAction | None = None
        removal = None
        auto = reply_to.get("request") == RequestKind.AUTO
        if label == Label.FAKE and auto and outcome.status == Status.DONE:
            action = policy.action
            if action == FakeAction.DELETE_AND_REPORT:
                author, reported = reply_to.get("author_name"), policy.mod_channel_id is not None
                removal = formatting.removal_text(
                    outcome, author=author, reported=reported, limit=self.limit
                )
        return Reply(
            text=text,
            reply_to=reply_to,
            check_id=outcome.check_id,
            outcome=outcome,
            label=label,
            action=action,
            removal=removal,
            mod_channel_id=policy.mod_channel_id,
        )

    async def run(
        self,
        media: InboundMedia,
        *,
        request: Request,
        conversation: Conversation,
        queued: Callable[[], None] | None = None,
        interrupted: Callable[[], None] | None = None,
        resent: bool | None = None,
    ) -> Reply | None:
        """Check one media item and answer in its chat.

        Args:
            resent: The message may have been seen before a restart (default: the
                platform's ``recognise_resent``): a check already stored for it is
                answered, not made twice.
            queued: Called once the check is stored (or found stored): from then on
                nothing can lose it, while its verdict may still take minutes.
            interrupted: Called when the bot stopping cut the check short before it was
                stored (its download failed): the platform should hand the message out
                again after the restart; nothing is said in the chat.

        Returns:
            The reply posted, or ``None`` when the item was skipped or refused.
        """
        try:
            policy = await self.store.policy(platform=self.platform, chat_id=media.chat_id)
            again = request.automatic and (self.recognise_resent if resent is None else resent)
            stored = await self._stored(media) if again else None
        except StoreUnavailable:
            # Without the chat's settings an automatic check might break its wishes
            # (automatic checks off): skip it; a command gets told to try again.
            log.exception("no chat settings for %s/%s", media.chat_id, media.message_id)
            if not request.automatic:
                await conversation.refuse(formatting.unavailable_text(limit=self.limit))
            return None
        if stored is not None:
            # Handed out again after a restart: answer the check already made, once.
            if not stored.finished:
                await self._requeue(media, stored)
            if queued is not None:
                queued()
            if stored.replied or self.was_answered(stored.check_id):
                return None  # (the recovery sweep may be answering it right now)
            return await self.answer(
                stored.check_id, policy=policy, reply_to=stored.reply_to, deliverer=conversation
            )
        screening = self.screen(media, request=request, policy=policy)
        if not screening.check:
            log.info("not checking %s/%s: %s", media.chat_id, media.message_id, screening.reason)
            if screening.refusal:
                await conversation.refuse(screening.refusal)
            return None
        if not await self._admitted(media, request=request, conversation=conversation):
            return None
        mode: Mode = "react" if request.automatic and policy.action == FakeAction.REACT else "reply"
        reply_to = {
            **(await self._working(media, resent=again, conversation=conversation, mode=mode)),
            "chat_id": media.chat_id,
            "message_id": media.message_id,
            "mode": mode,
            "request": request.kind,
            "author_name": media.author_name,
            "author_username": media.author_username,
            "chat_title": media.chat_title,
            **({"explain": True} if request.explain else {}),
        }
        check_id = await self._submit(
            media, request=request, reply_to=reply_to, conv=conversation, interrupted=interrupted
        )
        if check_id is None:
            return None
        if queued is not None:
            queued()
        return await self.answer(check_id, policy=policy, reply_to=reply_to, deliverer=conversation)

    async def _stored(self, media: InboundMedia) -> StoredCheck | None:
        """The automatic check already stored for this message."""
        return await self.store.stored_check(
            platform=self.platform, chat_id=media.chat_id, message_id=media.message_id
        )

    async def _working(
        self, media: InboundMedia, *, resent: bool, conversation: Conversation, mode: Mode
    ) -> Mapping[str, Any]:
        """Show that the check is under way, once per message even across a restart.

        Where the platform hands a message out again, the "analysing…" message is
        remembered: a bot killed after posting it and before storing the check reuses it
        after the restart instead of leaving it behind and posting a second one.
        """
        where = {
            "platform": self.platform,
            "chat_id": media.chat_id,
            "message_id": media.message_id,
        }
        if resent:
            posted = await self.store.posted_status(**where)
            if posted is not None:
                return posted
        status = await conversation.working(mode=mode)
        if resent:
            await self.store.remember_status(**where, status=status)
        return status

    async def _requeue(self, media: InboundMedia, stored: StoredCheck) -> None:
        """Queue a stored check's job again in case the bot died before it queued it.

        Without this the check would wait for the worker's lost-job sweep and end
        ``job_lost``; with it, it is judged as if nothing had happened. Where it cannot
        be done (the file is gone, Redis is down), the sweep is still there.
        """
        try:
            data = await media.fetch()
            if await self.queue.requeue(stored.check_id, data):
                log.info("check %d: queued again after a restart", stored.check_id)
        except (FetchFailed, QueueUnavailable) as e:
            log.warning("check %d: could not queue it again: %s", stored.check_id, e)

    async def _admitted(
        self, media: InboundMedia, *, request: Request, conversation: Conversation
    ) -> bool:
        """Whether the abuse limits let this check start (telling the chat once when not)."""
        if self.gate is None:
            return True
        asker = media.author_id if request.automatic else request.requested_by
        if asker == media.chat_id:
            asker = None  # a chat posting as itself (a channel): the chat's rate is its own
        admission = await self.gate.admit(
            platform=self.platform, chat_id=media.chat_id, user_id=asker
        )
        if admission.allowed:
            return True
        log.info(
            "not checking %s/%s: the %s limit", media.chat_id, media.message_id, admission.scope
        )
        if admission.notify:
            await conversation.refuse(formatting.limited_text(admission, limit=self.limit))
        return False

    async def _submit(
        self,
        media: InboundMedia,
        *,
        request: Request,
        reply_to: Mapping[str, Any],
        conv: Conversation,
        interrupted: Callable[[], None] | None = None,
    ) -> int | None:
        try:
            data = await media.fetch()
        except FetchFailed:
            if self._closing.is_set() and interrupted is not None:
                # Stopping closed the download: not the file's fault. Left unconfirmed,
                # the message comes again after the restart and is checked then.
                log.info("stopping: %s/%s left for the restart", media.chat_id, media.message_id)
                interrupted()
                return None
            log.warning("could not fetch %s/%s", media.chat_id, media.message_id, exc_info=True)
            await conv.deliver(
                Reply(text=formatting.fetch_failed_text(limit=self.limit), reply_to=reply_to)
            )
            return None
        if not data:
            text = formatting.clip("🚫 Can't check this file: it is empty.", self.limit)
            await conv.deliver(Reply(text=text, reply_to=reply_to))
            return None
        if len(data) > self.max_bytes:
            # The platform under-declared the size (or declared none).
            text = formatting.too_large_text(
                len(data), self.max_bytes, platform_limit=False, limit=self.limit
            )
            await conv.deliver(Reply(text=text, reply_to=reply_to))
            return None
        try:
            return await self.queue.submit(data, media=media, request=request, reply_to=reply_to)
        except QueueFull:
            log.warning("queue full: not checking %s/%s", media.chat_id, media.message_id)
            await conv.deliver(
                Reply(text=formatting.busy_text(limit=self.limit), reply_to=reply_to)
            )
            return None
        except QueueUnavailable as e:
            log.exception("could not queue %s/%s", media.chat_id, media.message_id)
            await conv.deliver(
                Reply(text=formatting.unavailable_text(limit=self.limit), reply_to=reply_to)
            )
            if e.check_id is not None:
                # The check was stored as failed: this was its answer, not one to sweep up.
                self.remember(e.check_id)
                await self.store.mark_replied(check_id=e.check_id)
            return None

    async def answer(
        self,
        check_id: int,
        *,
        policy: ChatPolicy,
        reply_to: Mapping[str, Any],
        deliverer: Deliverer,
    ) -> Reply:
        """Wait for a queued check and deliver its verdict (or a "still working" note)."""
        self.in_flight.add(check_id)
        try:
            waiting = asyncio.ensure_future(self.queue.wait(check_id, timeout=self.wait_timeout))
            closing = asyncio.ensure_future(self._closing.wait())
            await asyncio.wait((waiting, closing), return_when=asyncio.FIRST_COMPLETED)
            closing.cancel()
            if not waiting.done():
                # Shutting down: the check stays pending and the next start answers it.
                waiting.cancel()
                return Reply(text="", reply_to=reply_to, check_id=check_id, final=False)
            outcome = waiting.result()
            if outcome is None:
                text = formatting.pending_text(check_id, limit=self.limit)
                note = Reply(text=text, reply_to=reply_to, check_id=check_id, final=False)
                await deliverer.deliver(note)
                return note
            reply = self.reply_for(outcome, policy=policy, reply_to=reply_to)
            await deliverer.deliver(reply)
            self.remember(check_id)
            await self.store.mark_replied(check_id=check_id)
            return reply
        finally:
            self.in_flight.discard(check_id)
