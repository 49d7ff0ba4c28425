"""``fakewatch discord``: run the Discord bot (see ``bots.discord.bot`` and the README)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``discord``."""
    p = sub.add_parser(
        "discord",
        help="run the Discord bot",
        description="Run FakeWatch's Discord bot with DISCORD_TOKEN. It queues media for the "
        "worker ('fakewatch worker') through REDIS_URL and reads verdicts from DATABASE_URL. "
        "DISCORD_API_BASE and DISCORD_GATEWAY_URL point it at a Discord-compatible proxy.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run until interrupted."""
    from bots.core.redaction import redact_logs

    redact_logs(settings.require("discord_token"))
    if args.verbose == 0:
        # discord.py's INFO lines (connected, resumed) are the bot's heartbeat.
        logging.getLogger().setLevel(logging.INFO)
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    from bots.discord.bot import serve
    from queue_worker.client import QueueClient

    async with await QueueClient.connect(settings) as queue:
        await serve(settings, queue=queue)
