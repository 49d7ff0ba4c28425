"""``/audit``: recent checks in this channel or the whole server, for moderators.

Declared with the Manage Messages default permission, so Discord offers it to moderators
only, and checked again when it runs. The answer is ephemeral, with the matching checks as
a CSV file.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bots.core import formatting
from bots.core.arguments import AUDIT_LABELS, MAX_AUDIT_COUNT, parse_period
from bots.core.errors import BadArguments
from bots.core.permissions import Action, refusal
from bots.core.ports import AuditQuery
from bots.discord.media import PLATFORM, chat_id_of
from bots.discord.replies import LIMIT, send_ephemeral
from bots.discord.roles import may

if TYPE_CHECKING:
    from bots.discord.bot import FakeWatchBot

SCOPES = [
    app_commands.Choice(name="this channel", value="channel"),
    app_commands.Choice(name="the whole server", value="server"),
]


def scope_chat_id(interaction: discord.Interaction, scope: str) -> str:
    """The store's chat id for the server (matching all its channels) or this channel."""
    if scope == "server" and interaction.guild_id is not None:
        return str(interaction.guild_id)
    return chat_id_of(guild_id=interaction.guild_id, channel_id=interaction.channel_id or 0)


class Audit(commands.Cog):
    """The moderators' audit log."""

    def __init__(self, bot: FakeWatchBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="audit", description="Recent FakeWatch checks here, with a CSV file (moderators)"
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.describe(
        label="Only checks with this verdict",
        user="Only media posted by this member",
        period="How far back: 30m, 24h, 7d, 2w",
        count=f"How many checks, newest first (1-{MAX_AUDIT_COUNT})",
        scope="This channel (default) or the whole server",
    )
    @app_commands.choices(
        label=[app_commands.Choice(name=label, value=label) for label in AUDIT_LABELS],
        scope=SCOPES,
    )
    async def audit(
        self,
        interaction: discord.Interaction,
        label: str | None = None,
        user: discord.User | None = None,
        period: str | None = None,
        count: app_commands.Range[int, 1, MAX_AUDIT_COUNT] = 10,
        scope: str = "channel",
    ) -> None:
        """Answer with the matching checks and a CSV of them."""
        if not may(interaction, Action.AUDIT):
            await send_ephemeral(interaction, refusal(Action.AUDIT))
            return
        try:
            since = parse_period(period) if period else None
        except BadArguments as e:
            await send_ephemeral(interaction, str(e))
            return
        query = AuditQuery(
            label=label, author=str(user.id) if user else None, since=since, limit=count
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        chat_id = scope_chat_id(interaction, scope)
        moderation = self.bot.moderation
        entries, counts = await moderation.audit(platform=PLATFORM, chat_id=chat_id, query=query)
        data = await moderation.audit_csv(platform=PLATFORM, chat_id=chat_id, query=query)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        text = formatting.audit_text(entries, query=query, counts=counts, limit=LIMIT)
        csv = discord.File(io.BytesIO(data), filename=f"fakewatch-audit-{stamp}.csv")
        await interaction.followup.send(text, file=csv, ephemeral=True)


async def setup(bot: FakeWatchBot) -> None:
    """Load the Cog."""
    await bot.add_cog(Audit(bot))
