"""``/verdict``: a moderator's override of a check, stored as a review (the audit trail)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from base.vocabulary import Decision
from bots.core.errors import UnknownCheck
from bots.core.permissions import Action, refusal
from bots.discord.media import PLATFORM
from bots.discord.replies import send_ephemeral
from bots.discord.roles import may

if TYPE_CHECKING:
    from bots.discord.bot import FakeWatchBot

DECISIONS = [
    app_commands.Choice(name="fake", value=Decision.FAKE.value),
    app_commands.Choice(name="real", value=Decision.REAL.value),
    app_commands.Choice(name="dismissed (not worth a verdict)", value=Decision.DISMISSED.value),
]


class Verdict(commands.Cog):
    """Moderators' overrides."""

    def __init__(self, bot: FakeWatchBot) -> None:
        self.bot = bot

    @app_commands.command(name="verdict", description="Override a FakeWatch verdict (moderators)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.describe(
        check="The check number shown with the verdict",
        decision="What the media really is",
        note="Why (kept in the audit log)",
    )
    @app_commands.choices(decision=DECISIONS)
    async def verdict(
        self,
        interaction: discord.Interaction,
        check: app_commands.Range[int, 1],
        decision: str,
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """Store the override for a check of this server."""
        if not may(interaction, Action.VERDICT):
            await send_ephemeral(interaction, refusal(Action.VERDICT))
            return
        try:
            await self.bot.moderation.add_review(
                platform=PLATFORM,
                chat_id=str(interaction.guild_id),
                check_id=check,
                moderator_id=str(interaction.user.id),
                moderator_name=interaction.user.display_name,
                decision=decision,
                note=note,
            )
        except UnknownCheck:
            await send_ephemeral(interaction, f"There is no check {check} in this server.")
            return
        await send_ephemeral(
            interaction, f"📝 Recorded: check {check} is {decision}. /audit shows the review."
        )


async def setup(bot: FakeWatchBot) -> None:
    """Load the Cog."""
    await bot.add_cog(Verdict(bot))
