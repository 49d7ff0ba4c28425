"""Checks on demand: ``/check`` with an attachment, and the "Check for deepfake" message menu.

Anyone may ask. Answers are ephemeral: only the asker sees them, so asking about a
suspicious post does not advertise it. The context menu checks every attachment of any
message, the bot's Message Content intent or not (Discord always includes the target
message in the interaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from base.vocabulary import RequestKind
from bots.core.media import Request
from bots.discord.media import inbound_media, message_media
from bots.discord.replies import InteractionConversation, send_ephemeral

if TYPE_CHECKING:
    from bots.discord.bot import FakeWatchBot

MENU_NAME = "Check for deepfake"
NOTHING_TO_CHECK = "🚫 That message has no attachment to check. FakeWatch checks images and videos."


class OnDemandChecks(commands.Cog):
    """``/check`` and the message context menu."""

    def __init__(self, bot: FakeWatchBot) -> None:
        self.bot = bot
        # discord.py cannot declare context menus inside a Cog: add one by hand.
        self.menu = app_commands.ContextMenu(name=MENU_NAME, callback=self.check_message)
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Take the context menu away with the Cog."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(
        name="check", description="Check an image or video for face manipulation (only you see it)"
    )
    @app_commands.describe(
        media="The image or video to check",
        explain="Also show where on the face the model sees blending (the manipulation map)",
    )
    async def check(
        self, interaction: discord.Interaction, media: discord.Attachment, explain: bool = False
    ) -> None:
        """Check the attached file (with ``explain``, show the manipulation map too)."""
        item = inbound_media(
            media,
            guild=interaction.guild,
            channel=interaction.channel,
            channel_id=interaction.channel_id or 0,
            message_id=interaction.id,
            author=interaction.user,
        )
        await self.bot.flow.run(
            item,
            request=Request(
                kind=RequestKind.COMMAND, requested_by=str(interaction.user.id), explain=explain
            ),
            conversation=InteractionConversation(self.bot, interaction),
        )

    async def check_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """Check every attachment of the chosen message."""
        items = message_media(message)
        if not items:
            await send_ephemeral(interaction, NOTHING_TO_CHECK)
            return
        conversation = InteractionConversation(self.bot, interaction)
        request = Request(kind=RequestKind.COMMAND, requested_by=str(interaction.user.id))
        for item in items:
            await self.bot.flow.run(item, request=request, conversation=conversation)


async def setup(bot: FakeWatchBot) -> None:
    """Load the Cog."""
    await bot.add_cog(OnDemandChecks(bot))
