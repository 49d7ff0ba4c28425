"""Automatic checks: every image and video attached to a message, when the chat wants it.

Whether a chat wants it (``auto_check``, per server with per-channel overrides) and whether a
file is small enough are decided by the core flow from what Discord declares, before any
download. Discord only shows attachments of other people's messages to bots with the
Message Content intent (see :mod:`bots.discord.bot`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bots.core.media import Request
from bots.discord.media import message_media
from bots.discord.replies import MessageConversation

if TYPE_CHECKING:
    from bots.discord.bot import FakeWatchBot


class AutoChecks(commands.Cog):
    """Checks attachments as they are posted."""

    def __init__(self, bot: FakeWatchBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Check each attachment of a new message, one after the other."""
        if message.author.bot or not message.attachments:
            return
        conversation = MessageConversation(self.bot, message)
        for media in message_media(message):
            await self.bot.flow.run(media, request=Request(kind="auto"), conversation=conversation)


async def setup(bot: FakeWatchBot) -> None:
    """Load the Cog."""
    await bot.add_cog(AutoChecks(bot))
