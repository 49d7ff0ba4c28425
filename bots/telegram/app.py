"""FakeWatch's Telegram bot: builds the python-telegram-bot ``Application`` and runs it.

Run it with ``fakewatch telegram`` (long polling) or ``fakewatch telegram
--webhook-url https://host/path`` (webhook). ``TELEGRAM_TOKEN`` comes from
BotFather; ``TELEGRAM_API_BASE`` points at a local Bot API server (which lifts the
20 MB download limit): the bot derives ``<root>/bot<token>/<method>`` and
``<root>/file/bot<token>/<path>`` from it.

Channel posts are handled like messages: in a channel where the bot is an
administrator, posted media is checked and commands are obeyed. Edited messages and
edited channel posts are not checked again.

Lifecycle: ``post_init`` connects to the queue and the store and starts the
recovery sweep (answering checks finished while the bot was down); stopping
first stops waiting for verdicts (they stay pending for the next start), then
closes the connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    MessageHandler,
    filters,
)

from base.errors import ConfigurationError
from base.settings import Settings
from bots.core import formatting
from bots.core.errors import BotError
from bots.core.flow import CheckFlow
from bots.core.ports import Backend
from bots.core.recovery import Recovery
from bots.core.redaction import redact_logs
from bots.telegram import handlers
from bots.telegram.intake import Intake
from bots.telegram.media import BOT_API_DOWNLOAD_LIMIT, PLATFORM
from bots.telegram.replies import TelegramReplies
from bots.telegram.state import KEY, BotState, app_state
from bots.telegram.webhook import Webhook, WebhookServer

log = logging.getLogger(__name__)

# Where the application keeps its intake (bot_data), from build to run.
INTAKE = "fakewatch.intake"

BackendFactory = Callable[[Settings], Awaitable[Backend]]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# How long a handler waits for a verdict before saying it will come later.
WAIT_TIMEOUT_S = 300.0
RECOVERY_INTERVAL_S = 30.0
# How long stopping waits for a recovery sweep under way to finish.
STOP_GRACE_S = 10.0
# Updates are handled concurrently: one slow video must not hold up the chat.
CONCURRENT_UPDATES = 32
TOO_LARGE_HINT = "Send a shorter or more compressed version and I'll check that."

MEDIA = (
    filters.PHOTO | filters.VIDEO | filters.ANIMATION | filters.VIDEO_NOTE | filters.Document.ALL
)
CHECK_CAPTION = filters.CaptionRegex(r"^/check(@\w+)?(\s|$)")


def api_urls(root: str) -> tuple[str, str]:
    """The ``base_url`` and ``base_file_url`` for a Bot API server root (token appended by PTB)."""
    root = root.rstrip("/")
    return f"{root}/bot", f"{root}/file/bot"


async def connect_backend(settings: Settings) -> Backend:
    """The real queue and store (imported here: the CLI's help need not load them)."""
    from bots.core.services import BotServices

    backend: Backend = await BotServices.connect(settings)
    return backend


def add_handlers(app: AnyApplication) -> None:
    """Register every handler; the first that matches an update handles it."""
    # Commands as PTB takes them (new and edited messages), and posted in channels.
    commands = filters.UpdateType.MESSAGES | filters.UpdateType.CHANNEL_POST
    app.add_handler(CommandHandler("check", handlers.check_command, filters=commands))
    app.add_handler(CommandHandler("audit", handlers.audit_command, filters=commands))
    app.add_handler(CommandHandler("settings", handlers.settings_command, filters=commands))
    app.add_handler(CommandHandler("verdict", handlers.verdict_command, filters=commands))
    app.add_handler(CommandHandler(["start", "help"], handlers.help_command, filters=commands))
    # Media only when first posted: an edit (a new caption) is not a new post to check.
    posts = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    app.add_handler(MessageHandler(posts & MEDIA & CHECK_CAPTION, handlers.check_command))
    app.add_handler(MessageHandler(posts & MEDIA, handlers.media_message))
    app.add_error_handler(handlers.error_handler)


def build_application(
    settings: Settings, *, backend_factory: BackendFactory = connect_backend
) -> AnyApplication:
    """The bot's ``Application``, configured from the settings; nothing is connected yet."""
    token = settings.require("telegram_token").strip()
    if not token:
        raise ConfigurationError("TELEGRAM_TOKEN is empty")
    redact_logs(token)  # before PTB logs its URLs, which contain the token
    local_server = settings.telegram_local_server
    if local_server is None:
        local_server = settings.telegram_api_base is not None

    async def post_init(app: AnyApplication) -> None:
        backend = await backend_factory(settings)
        flow = CheckFlow(
            platform=PLATFORM,
            queue=backend.queue,
            store=backend.chats,
            max_bytes=settings.max_media_bytes,
            # A local Bot API server has no 20 MB limit.
            platform_max_bytes=None if local_server else BOT_API_DOWNLOAD_LIMIT,
            too_large_hint=TOO_LARGE_HINT,
            wait_timeout=WAIT_TIMEOUT_S,
            limit=formatting.LIMITS["telegram"],
            gate=backend.gate,
            recognise_resent=True,  # an unconfirmed update comes again after a restart
        )
        state = BotState(backend=backend, flow=flow, intake=app.bot_data.get(INTAKE))
        app.bot_data[KEY] = state
        state.recovery = Recovery(flow=flow, deliverer=TelegramReplies(app.bot))
        state.recovery_task = asyncio.create_task(state.recovery.run(RECOVERY_INTERVAL_S))
        log.info("FakeWatch Telegram bot @%s is up", app.bot.username)

    async def post_stop(app: AnyApplication) -> None:
        state = app_state(app)
        if state.recovery is not None and state.recovery_task is not None:
            state.recovery.stop()
            try:
                await asyncio.wait_for(state.recovery_task, STOP_GRACE_S)
            except TimeoutError:
                log.warning("the recovery sweep did not finish in %gs", STOP_GRACE_S)

    async def post_shutdown(app: AnyApplication) -> None:
        if KEY in app.bot_data:
            await app_state(app).backend.close()

    intake = Intake()
    builder = (
        ApplicationBuilder()
        .token(token)
        # Concurrent, and each update settled for the intake once handled.
        .concurrent_updates(intake.processor(CONCURRENT_UPDATES))
        # Stopping cancels the long poll and at once calls getUpdates again to confirm the
        # last updates; the cancelled request's connection may not be back in the pool
        # yet, and with one connection that call would time out and the updates come twice.
        .get_updates_connection_pool_size(2)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if settings.telegram_api_base:
        base_url, base_file_url = api_urls(settings.telegram_api_base)
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    app = builder.build()
    app.bot_data[INTAKE] = intake
    add_handlers(app)
    return app


@contextlib.asynccontextmanager
async def running(app: AnyApplication, *, webhook: Webhook | None = None) -> AsyncIterator[None]:
    """Run the bot inside the ``async with`` block, in the order ``run_polling`` uses.

    Waiting handlers are released before the application stops, so stopping is
    quick and their checks are answered on the next start.
    """
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        # Polling or webhook, an update is confirmed to Telegram only once it is safe.
        intake: Intake = app.bot_data[INTAKE]
        server = WebhookServer(intake, webhook) if webhook is not None else None
        await app.start()
        if server is None:
            await intake.start(app)
        else:
            await server.start(app)
        try:
            yield
        finally:
            if KEY in app.bot_data:
                app_state(app).flow.close()
            # Handlers stop waiting for verdicts; what was taken in gets queued, then
            # confirmed, so a restart neither loses nor repeats it.
            if server is None:
                await intake.stop(STOP_GRACE_S)
            else:
                await server.stop(STOP_GRACE_S)
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def serve(settings: Settings, *, webhook: Webhook | None = None) -> None:
    """Run the bot until SIGINT or SIGTERM."""
    app = build_application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(app, webhook=webhook):
            await stop.wait()
    except InvalidToken as e:
        raise ConfigurationError("Telegram refused TELEGRAM_TOKEN (check it with BotFather)") from e
    except NetworkError as e:
        where = settings.telegram_api_base or "api.telegram.org"
        raise BotError(f"cannot reach the Telegram Bot API at {where}: {e}") from e
    log.info("FakeWatch Telegram bot stopped")
