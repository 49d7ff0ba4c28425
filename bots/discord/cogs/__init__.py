"""The bot's features, one Cog per extension module, each with ``async def setup(bot)``."""

EXTENSIONS = (
    "bots.discord.cogs.auto_checks",
    "bots.discord.cogs.checks",
    "bots.discord.cogs.audit",
    "bots.discord.cogs.server_settings",
    "bots.discord.cogs.verdict",
)
