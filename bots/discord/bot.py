"""FakeWatch's Discord bot: a ``commands.Bot`` that owns its queue client and database.

Run it with ``fakewatch discord``. ``DISCORD_TOKEN`` is the bot token from the Developer
Portal; ``DISCORD_API_BASE`` and ``DISCORD_GATEWAY_URL`` point it at a Discord-compatible
HTTP proxy and gateway instead of Discord (the tests point them at a fake Discord).

Lifecycle: ``setup_hook`` (after login, before the gateway) loads one extension per feature
(:mod:`bots.discord.cogs`), syncs the application commands and starts the recovery sweep that
answers checks finished while the bot was down. ``close`` stops waiting for verdicts first
(they stay pending and the next start answers them), then disconnects.

Automatic checks need the privileged Message Content intent: without it Discord hides the
attachments of other people's messages from the bot. :func:`serve` asks for it; when the
application does not have it enabled, the bot logs how to enable it and runs without it
(``/check`` and the context menu still work).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from base.settings import Settings
from bots.core.flow import CheckFlow
from bots.core.ports import ChatStore, ModerationStore
from bots.core.recovery import Recovery
from bots.discord.backend import DiscordServices
from bots.discord.cogs import EXTENSIONS
from bots.discord.endpoints import use_endpoints
from bots.discord.media import PLATFORM
from bots.discord.replies import LIMIT, DiscordReplies, send_ephemeral
from queue_worker.client import QueueClient

log = logging.getLogger(__name__)

# How long a check waits for its verdict before saying it will come later. Interaction
# answers must come within Discord's 15 minutes; this leaves room.
WAIT_TIMEOUT_S = 300.0
RECOVERY_INTERVAL_S = 30.0
# How long closing waits for a recovery sweep under way to finish.
STOP_GRACE_S = 10.0

MESSAGE_CONTENT_WARNING = (
    "The Message Content intent is not enabled for this application, so Discord hides the "
    "attachments of other people's messages from the bot: automatic checks will not see "
    "them (/check and the 'Check for deepfake' menu still work). Enable it in the Developer "
    "Portal: Applications > your app > Bot > Privileged Gateway Intents > Message Content "
    "Intent, then restart the bot."
)

FAILED = "❗ Something went wrong on FakeWatch's side; the moderators' logs have the details."


def default_intents() -> discord.Intents:
    """Guilds and messages, with message content (privileged) to see attachments."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


class FakeWatchBot(commands.Bot):
    """The bot. It receives its dependencies and closes none of them (their owner does).

    Args:
        queue: Submits media and waits for verdicts.
        sessions: The store's session factory (chat settings, reviews, audit).
        settings: Limits and the Discord endpoints.
        wait_timeout: How long to wait for a verdict before promising it for later.
        recovery_interval: Seconds between sweeps for unanswered checks.
        options: Passed to ``commands.Bot`` (``intents``, ``guild_ready_timeout``...).
    """

    def __init__(
        self,
        *,
        queue: QueueClient,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        wait_timeout: float = WAIT_TIMEOUT_S,
        recovery_interval: float = RECOVERY_INTERVAL_S,
        **options: Any,
    ) -> None:
        # FakeWatch never joins voice channels: no need to warn that voice libraries are missing.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        options.setdefault("intents", default_intents())
        options.setdefault("help_command", None)
        # No prefix commands: everything is an application command.
        super().__init__(command_prefix=commands.when_mentioned, **options)
        self.settings = settings
        self.backend = DiscordServices(queue, sessions=sessions)
        self.flow = CheckFlow(
            platform=PLATFORM,
            queue=self.backend.queue,
            store=self.backend.chats,
            max_bytes=settings.max_media_bytes,
            platform_max_bytes=None,  # bots may download any attachment Discord accepted
            wait_timeout=wait_timeout,
            limit=LIMIT,
            gate=self.backend.gate,  # per-user and per-chat rates, the queue's depth
        )
        self.replies = DiscordReplies(self)
        self.recovery_interval = recovery_interval
        self.recovery = Recovery(flow=self.flow, deliverer=self.replies)
        self._recovery: asyncio.Task[None] | None = None

    @property
    def store(self) -> ChatStore:
        """Chat settings (``policy``) and delivery bookkeeping."""
        return self.backend.chats

    @property
    def moderation(self) -> ModerationStore:
        """Audit, settings changes and reviews."""
        return self.backend.moderation

    async def login(self, token: str) -> None:
        """Point discord.py at the configured endpoints, then log in."""
        use_endpoints(
            api_base=self.settings.discord_api_base, gateway=self.settings.discord_gateway_url
        )
        await super().login(token)

    async def setup_hook(self) -> None:
        """Load the features, sync the commands, start answering missed checks."""
        flags = self.application_flags
        if self.intents.message_content and not (
            flags.gateway_message_content or flags.gateway_message_content_limited
        ):
            log.warning(MESSAGE_CONTENT_WARNING)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))
        self._recovery = asyncio.create_task(self.recovery.run(self.recovery_interval))

    async def on_ready(self) -> None:
        """Log who we are and where."""
        log.info("FakeWatch Discord bot %s is up in %d servers", self.user, len(self.guilds))
        if not self.intents.message_content:
            log.warning(MESSAGE_CONTENT_WARNING)

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Log the failure with its traceback, then tell the user something went wrong."""
        name = interaction.command.qualified_name if interaction.command else "?"
        log.error("command /%s failed", name, exc_info=error)
        with contextlib.suppress(discord.HTTPException):
            await send_ephemeral(interaction, FAILED)

    async def close(self) -> None:
        """Stop waiting for verdicts and sweeping, then disconnect."""
        self.flow.close()
        if self._recovery is not None:
            # A sweep under way finishes, so a verdict it delivered is also marked replied
            # (else the next start would post it again); the connection is still open here.
            self.recovery.stop()
            try:
                await asyncio.wait_for(self._recovery, STOP_GRACE_S)
            except TimeoutError:
                log.warning("the recovery sweep did not finish in %gs", STOP_GRACE_S)
            self._recovery = None
        await super().close()


def _close_on_signals(loop: asyncio.AbstractEventLoop, bot: FakeWatchBot) -> None:
    closing: list[asyncio.Task[None]] = []  # a reference keeps the task alive

    def close() -> None:
        closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, close)


async def serve(settings: Settings, *, queue: QueueClient, handle_signals: bool = True) -> None:
    """Run the bot until it is closed, without Message Content if Discord refuses it.

    Args:
        handle_signals: close the bot on SIGINT and SIGTERM (the command line's way to stop).
    """
    token = settings.require("discord_token")
    intents = default_intents()
    loop = asyncio.get_running_loop()
    try:
        while True:
            bot = FakeWatchBot(
                queue=queue, sessions=queue.sessions, settings=settings, intents=intents
            )
            if handle_signals:
                _close_on_signals(loop, bot)
            try:
                async with bot:
                    await bot.start(token)
                return
            except discord.PrivilegedIntentsRequired:
                if not intents.message_content:
                    raise
                log.warning("Discord refused the Message Content intent; going on without it.")
                intents.message_content = False
    finally:
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
