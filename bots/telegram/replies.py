"""Posting in Telegram chats: progress, verdicts, deletions and reports.

:class:`TelegramReplies` delivers a :class:`bots.core.flow.Reply` with only the
ids stored in ``reply_to``, so the same code answers live checks and the checks a
restarted bot recovers. A verdict with a picture (:mod:`bots.core.pictures`: the
per-frame timeline of a fake or inconclusive video, the manipulation map on request)
is a photo with the verdict as its caption. :class:`MessageConversation` adds what
needs the incoming message: the "analysing…" reply, the 👀 reaction and refusals.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram.constants import ReactionEmoji
from telegram.error import BadRequest, Forbidden, TelegramError

from base.vocabulary import FakeAction, Label
from bots.core import formatting
from bots.core.flow import Mode, Reply
from bots.core.pictures import Picture, reply_picture
from bots.core.recovery import Undeliverable

log = logging.getLogger(__name__)

# Quiet mode answers with an emoji on the original message instead of text.
REACTIONS: dict[str, ReactionEmoji] = {
    Label.FAKE: ReactionEmoji.THUMBS_DOWN,
    Label.REAL: ReactionEmoji.THUMBS_UP,
    Label.INCONCLUSIVE: ReactionEmoji.THINKING_FACE,
}
WORKING_REACTION = ReactionEmoji.EYES
# A photo's caption holds at most this many characters; a longer verdict goes as text.
CAPTION_LIMIT = 1024


def _gone(e: TelegramError) -> bool:
    """Whether the error means the chat can no longer be answered at all."""
    text = str(e).lower()
    return isinstance(e, Forbidden) or "chat not found" in text


class TelegramReplies:
    """Delivers replies in Telegram chats from their stored ``reply_to`` ids."""

    def __init__(self, bot: Bot, *, limit: int = formatting.LIMITS["telegram"]) -> None:
        self.bot = bot
        self.limit = limit

    async def deliver(self, reply: Reply) -> None:
        """Post the reply: edit the status message, react, or delete and report."""
        try:
            if reply.mode == "react":
                await self._react(reply)
            elif reply.action == FakeAction.DELETE_AND_REPORT and reply.final:
                await self._delete_and_report(reply)
            else:
                await self._post(reply.reply_to, reply.text, picture=reply_picture(reply))
        except TelegramError as e:
            if _gone(e):
                raise Undeliverable(f"cannot answer in chat {reply.reply_to.get('chat_id')}") from e
            raise

    async def _react(self, reply: Reply) -> None:
        if not reply.final:
            return  # the 👀 stays until the verdict arrives
        emoji = REACTIONS.get(reply.label or "")
        await self.react(reply.reply_to, emoji)

    async def react(self, reply_to: Mapping[str, Any], emoji: str | None) -> None:
        """Set (or with ``None`` clear) the bot's reaction on the original message."""
        try:
            await self.bot.set_message_reaction(
                chat_id=reply_to["chat_id"],
                message_id=int(reply_to["message_id"]),
                reaction=[emoji] if emoji else [],  # an empty list removes ours
            )
        except BadRequest as e:
            # Reactions can be switched off in a chat; the check itself still counts.
            log.warning("could not react in chat %s: %s", reply_to["chat_id"], e)

    async def _post(
        self, reply_to: Mapping[str, Any], text: str, *, picture: Picture | None = None
    ) -> None:
        if (
            picture is not None
            and len(text) <= CAPTION_LIMIT
            and await self._post_photo(reply_to, text, picture)
        ):
            return
        status = reply_to.get("status_message_id")
        if status is not None:
            try:
                await self.bot.edit_message_text(
                    text=text, chat_id=reply_to["chat_id"], message_id=int(status)
                )
                return
            except BadRequest as e:
                if "not modified" in str(e).lower():
                    return
                # Someone deleted the "analysing…" message: post the verdict anew.
                log.info("could not edit the status message: %s", e)
        await self.bot.send_message(
            chat_id=reply_to["chat_id"],
            text=text,
            reply_parameters=ReplyParameters(
                message_id=int(reply_to["message_id"]), allow_sending_without_reply=True
            ),
        )

    async def _post_photo(self, reply_to: Mapping[str, Any], text: str, picture: Picture) -> bool:
        """The verdict as a photo with the text as its caption, replacing "analysing…".

        A text message cannot be edited into a photo: the photo is sent as a reply to
        the media and the "analysing…" message deleted, so the chat still gets one
        message. Returns ``False`` (nothing sent) when Telegram refused the photo: the
        caller sends the text instead, so the verdict is never lost for its picture.
        """
        chat_id = reply_to["chat_id"]
        try:
            await self.bot.send_photo(
                chat_id=chat_id,
                photo=InputFile(picture.data, filename=picture.name),
                caption=text,
                reply_parameters=ReplyParameters(
                    message_id=int(reply_to["message_id"]), allow_sending_without_reply=True
                ),
            )
        except TelegramError as e:
            if _gone(e):
                raise
            log.warning("could not send the picture in chat %s (%s); sending text", chat_id, e)
            return False
        status = reply_to.get("status_message_id")
        if status is not None:
            try:
                await self.bot.delete_message(chat_id=chat_id, message_id=int(status))
            except TelegramError as e:
                # Left as "analysing…" it would mislead: say the verdict in it too.
                log.info("could not delete the status message: %s", e)
                with contextlib.suppress(TelegramError):
                    await self.bot.edit_message_text(
                        text=text, chat_id=chat_id, message_id=int(status)
                    )
        return True

    async def _delete_and_report(self, reply: Reply) -> None:
        where = reply.reply_to
        try:
            deleted = await self.bot.delete_message(
                chat_id=where["chat_id"], message_id=int(where["message_id"])
            )
        except BadRequest as e:
            log.warning("could not delete a likely fake in chat %s: %s", where["chat_id"], e)
            deleted = False
        if deleted:
            await self._post(where, reply.removal or reply.text)
        else:
            await self._post(
                where,
                formatting.clip(
                    f"{reply.text}\n(I could not delete it: "
                    "I need the 'Delete messages' admin right.)",
                    self.limit,
                ),
            )
        if reply.mod_channel_id and reply.outcome is not None:
            report = formatting.report_text(
                reply.outcome,
                chat=where.get("chat_title"),
                author=where.get("author_name"),
                deleted=bool(deleted),
                limit=self.limit,
            )
            try:
                await self.bot.send_message(chat_id=reply.mod_channel_id, text=report)
            except TelegramError as e:
                log.warning("could not report to the moderators' chat: %s", e)


class MessageConversation(TelegramReplies):
    """The conversation about one media message (and the command that asked, if any)."""

    def __init__(self, target: Message, *, asker: Message | None = None) -> None:
        super().__init__(target.get_bot())
        self.target = target
        self.asker = asker or target

    async def refuse(self, text: str) -> None:
        """Answer the asker (the command, or the media message itself)."""
        await self.asker.reply_text(text, do_quote=True)

    async def working(self, *, mode: Mode) -> Mapping[str, Any]:
        """Show progress: a 👀 reaction in quiet mode, else an "analysing…" reply to edit later."""
        if mode == "react":
            await self.react(
                {"chat_id": self.target.chat_id, "message_id": self.target.message_id},
                WORKING_REACTION,
            )
            return {}
        status = await self.target.reply_text(formatting.WORKING, do_quote=True)
        return {"status_message_id": status.message_id}
