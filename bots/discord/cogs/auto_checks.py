"""Automatic checks: every image and video attached to a message, when the chat wants it.

Whether a chat wants it (``auto_check``, per server with per-channel overrides) and whether a
file is small enough are decided by the core flow from what Discord declares, before any
download. Discord only shows attachments of other people's messages to bots with the
Message Content intent (see :mod:`bots.discord.bot`).

Discord sends nothing posted while the bot was away. Each time the bot gets a new session
(it starts, or a lost connection could not be resumed) it reads the history of every
channel it has a mark for (:mod:`bots.discord.marks`) and checks what it missed: at most
``CATCH_UP_LIMIT`` messages per channel, none older than ``CATCH_UP_MAX_AGE``. A message
whose check is already stored is answered (its job queued again if it is unfinished: the
bot may have died before queueing it), not checked twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from base.vocabulary import RequestKind
from bots.core.media import Request
from bots.core.ports import StoredCheck
from bots.discord.marks import HandledMarks
from bots.discord.media import PLATFORM, chat_id_of, message_media
from bots.discord.replies import MessageConversation

if TYPE_CHECKING:
    from bots.discord.bot import FakeWatchBot

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = 100
CATCH_UP_MAX_AGE = dt.timedelta(hours=24)


class AutoChecks(commands.Cog):
    """Checks attachments as they are posted, and those posted while the bot was away."""

    def __init__(self, bot: FakeWatchBot) -> None:
        self.bot = bot
        self.marks = HandledMarks()
        self._tasks: set[asyncio.Task[object]] = set()

    async def cog_load(self) -> None:
        """Before the gateway: the saved marks, held until the history is read."""
        self.marks.load(await self.bot.backend.marks())
        self.marks.hold()

    async def cog_unload(self) -> None:
        """Stop catching up (the checks under way are the flow's to finish or leave)."""
        for task in self._tasks:
            task.cancel()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Check each attachment of a new message, one after the other."""
        if message.author.bot or not message.attachments:
            return
        if self.marks.take(message.channel.id, message.id):
            await self._check(message)

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        """Messages may be missed from now on: the marks stay where they are."""
        self.marks.hold()

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        """The session resumed: Discord sends what was missed as events."""
        for channel_id in self.marks.hold():
            await self._release(channel_id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """A new session: catch up on what was posted without the bot."""
        self._spawn(self.catch_up())

    async def catch_up(self) -> int:
        """Check the messages posted since each held channel's mark; returns how many."""
        oldest = discord.utils.time_snowflake(discord.utils.utcnow() - CATCH_UP_MAX_AGE)
        marks = self.marks.marks()
        missed = 0
        for channel_id in self.marks.hold():
            try:
                missed += await self._catch_up_channel(channel_id, max(marks[channel_id], oldest))
            except discord.HTTPException as e:  # gone, or no Read Message History
                log.warning("cannot read the history of channel %s: %s", channel_id, e)
            except Exception:
                # The store or Redis down for longer than the retries: what was missed
                # there stays unchecked; the other channels are still caught up.
                log.exception("catching up on channel %s failed", channel_id)
            await self._release(channel_id)
        if missed:
            log.info("checking %d messages posted while the bot was away", missed)
        return missed

    async def _catch_up_channel(self, channel_id: int, after: int) -> int:
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return 0
        missed = 0
        seen = 0
        async for message in channel.history(
            after=discord.Object(after), limit=CATCH_UP_LIMIT, oldest_first=True
        ):
            seen += 1
            if message.author.bot or not message.attachments:
                continue
            if not self.marks.take(channel_id, message.id):
                continue  # arrived as an event meanwhile
            stored = await self._stored(message)
            if stored is not None and len(message.attachments) > 1:
                self.marks.done(channel_id, message.id)
                continue  # the recovery sweep answers what it stored
            # Not stored: missed. Stored: answered now, its job queued again if it was
            # never queued (the bot may have died in between).
            missed += 1
            self._spawn(self._check(message, resent=stored is not None))
        if seen >= CATCH_UP_LIMIT:
            log.warning(
                "channel %s: more than %d messages were posted while the bot was away; "
                "only the first %d were looked at",
                channel_id,
                CATCH_UP_LIMIT,
                CATCH_UP_LIMIT,
            )
        return missed

    async def _stored(self, message: discord.Message) -> StoredCheck | None:
        guild_id = message.guild.id if message.guild else None
        return await self.bot.store.stored_check(
            platform=PLATFORM,
            chat_id=chat_id_of(guild_id=guild_id, channel_id=message.channel.id),
            message_id=str(message.id),
        )

    async def _check(self, message: discord.Message, *, resent: bool = False) -> None:
        """Check each attachment, one after the other; then move the channel's mark.

        A message the bot's stopping cut short before its check was stored keeps the
        mark below it, so the next start checks it.
        """
        conversation = MessageConversation(self.bot, message)
        cut_short = False

        def interrupted() -> None:
            nonlocal cut_short
            cut_short = True

        try:
            for media in message_media(message):
                await self.bot.flow.run(
                    media,
                    request=Request(kind=RequestKind.AUTO),
                    conversation=conversation,
                    interrupted=interrupted,
                    resent=resent,
                )
        except Exception:
            log.exception("checking message %s failed", message.id)
        if cut_short:
            return
        mark = self.marks.done(message.channel.id, message.id)
        if mark is not None:
            await self.bot.backend.save_mark(message.channel.id, mark)

    async def _release(self, channel_id: int) -> None:
        mark = self.marks.release(channel_id)
        if mark is not None:
            await self.bot.backend.save_mark(channel_id, mark)

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def setup(bot: FakeWatchBot) -> None:
    """Load the Cog."""
    await bot.add_cog(AutoChecks(bot))
