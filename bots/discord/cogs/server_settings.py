"""``/fakewatch settings``: FakeWatch's settings for the server or one channel, for admins.

A channel's settings override the server's where a channel row exists (see
:mod:`db.chat_settings`). Without options the command shows the settings in force; each
option given changes that one setting. Declared with the Manage Server default permission
and checked again when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from base.vocabulary import ACTIONS
from bots.core import formatting
from bots.core.errors import BadArguments
from bots.core.permissions import Action, refusal
from bots.discord.cogs.audit import scope_chat_id
from bots.discord.media import PLATFORM
from bots.discord.replies import LIMIT, send_ephemeral
from bots.discord.roles import may

if TYPE_CHECKING:
    from bots.discord.bot import FakeWatchBot

USAGE = (
    "Change them with /fakewatch settings and the options scope (server or channel), auto, "
    "fake_threshold, real_threshold, reset_thresholds, action and mod_channel."
)
SCOPES = [
    app_commands.Choice(name="the whole server", value="server"),
    app_commands.Choice(name="this channel (overrides the server)", value="channel"),
]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ServerSettings(
    commands.GroupCog, group_name="fakewatch", group_description="FakeWatch administration"
):
    """The ``/fakewatch`` command group."""

    def __init__(self, bot: FakeWatchBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="settings", description="Show or change FakeWatch's settings")
    @app_commands.describe(
        scope="The whole server (default) or this channel only",
        auto="Check every image and video posted",
        fake_threshold="Fake probability at or above which media is called fake (0-1)",
        real_threshold="Fake probability at or below which media is called real (0-1)",
        reset_thresholds="Go back to the model's own thresholds",
        action="What to do on a fake verdict of an automatic check",
        mod_channel="Where deletions are reported to the moderators",
    )
    @app_commands.choices(
        scope=SCOPES,
        action=[app_commands.Choice(name=a.replace("_", " "), value=a) for a in ACTIONS],
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        scope: str = "server",
        auto: bool | None = None,
        fake_threshold: app_commands.Range[float, 0.0, 1.0] | None = None,
        real_threshold: app_commands.Range[float, 0.0, 1.0] | None = None,
        reset_thresholds: bool = False,
        action: str | None = None,
        mod_channel: discord.TextChannel | None = None,
    ) -> None:
        """Show the settings, after applying the options given."""
        if not may(interaction, Action.SETTINGS):
            await send_ephemeral(interaction, refusal(Action.SETTINGS))
            return
        chat_id = scope_chat_id(interaction, scope)
        changes: dict[str, Any] = {}
        if auto is not None:
            changes["auto_check"] = auto
        if reset_thresholds:
            changes["fake_threshold"] = changes["real_threshold"] = None
        if fake_threshold is not None:
            changes["fake_threshold"] = fake_threshold
        if real_threshold is not None:
            changes["real_threshold"] = real_threshold
        if action is not None:
            changes["action"] = action
        if mod_channel is not None:
            changes["mod_channel_id"] = str(mod_channel.id)
        if changes:
            try:
                policy = await self.bot.moderation.update_policy(
                    platform=PLATFORM,
                    chat_id=chat_id,
                    changes=changes,
                    updated_by=str(interaction.user.id),
                )
            except BadArguments as e:
                await send_ephemeral(interaction, f"❗ {e}")
                return
        else:
            policy = await self.bot.store.policy(platform=PLATFORM, chat_id=chat_id)
        where = "this server" if scope == "server" else "this channel"
        shown = formatting.settings_text(policy, limit=LIMIT - len(USAGE) - 40)
        # The core's last line says how to change settings on text platforms.
        lines = shown.splitlines()[1:-1]
        header = f"⚙️ FakeWatch settings for {where}" + (" (updated)" if changes else "")
        await send_ephemeral(interaction, "\n".join([header, *lines, USAGE]))


async def setup(bot: FakeWatchBot) -> None:
    """Load the Cog."""
    await bot.add_cog(ServerSettings(bot))
