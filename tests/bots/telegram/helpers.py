"""What the Telegram bot tests share: the running bot and finding its answers in the fake."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select

from base.settings import Settings
from bots.core import formatting
from bots.core.services import BotServices
from bots.telegram.app import build_application, running
from db.models import Check
from tests.bots.telegram_fake import Call, FakeTelegram, command, message


@contextlib.asynccontextmanager
async def bot(settings: Settings) -> AsyncIterator[None]:
    """The bot, long-polling the fake server, for the ``async with`` block."""
    async with running(build_application(settings)):
        yield


async def status_of(fake: FakeTelegram, msg: dict[str, Any], start: int = 0) -> Call:
    """The bot's "analysing…" reply to ``msg`` (the first from call ``start`` on)."""
    return await fake.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("text") == formatting.WORKING
            and c.params.get("reply_parameters", {}).get("message_id") == msg["message_id"]
        ),
        start=start,
    )


async def verdict_of(fake: FakeTelegram, msg: dict[str, Any], start: int = 0) -> Call:
    """The verdict about ``msg``: the edit that turned the "analysing…" reply into it, or
    the photo with the verdict as its caption that replaced that reply (a fake or
    inconclusive video's timeline, a map asked for)."""
    status_id = (await status_of(fake, msg, start)).result["message_id"]

    def answers(c: Call) -> bool:
        if c.method == "editMessageText":
            return bool(c.params.get("message_id") == status_id)
        replied_to = (c.params.get("reply_parameters") or {}).get("message_id")
        return c.method == "sendPhoto" and replied_to == msg["message_id"] and c.result != 400

    return await fake.wait_for(answers, start=start)


def words_of(call: Call) -> str:
    """A verdict's text: the message's, or the photo's caption."""
    return str(call.params.get("text") or call.params["caption"])


def check_id_in(call: Call) -> int:
    """The check id a verdict names (``… check 12``)."""
    return int(words_of(call).rsplit("check ", 1)[1].rstrip(")"))


async def stored(settings: Settings, check_id: int) -> Check:
    """The stored check."""
    services = await BotServices.connect(settings, migrate=False)
    try:
        async with services.sessions() as session:
            check = await session.get(Check, check_id)
            assert check is not None
            return check
    finally:
        await services.close()


async def stored_count(settings: Settings, *, at_least: int = 0, timeout: float = 30.0) -> int:
    """How many checks are stored, once at least ``at_least`` are (or ``timeout`` passed)."""
    services = await BotServices.connect(settings, migrate=False)
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            async with services.sessions() as session:
                n = int(await session.scalar(select(func.count()).select_from(Check)) or 0)
            if n >= at_least or asyncio.get_running_loop().time() > deadline:
                return n
            await asyncio.sleep(0.05)
    finally:
        await services.close()


async def ask(
    fake: FakeTelegram, chat: dict[str, object], sender: dict[str, object], text: str
) -> Call:
    """Send a command and return the bot's text answer to it."""
    msg = message(fake, chat=chat, sender=sender, **command(text))
    fake.push("message", msg)
    return await fake.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and (c.params.get("reply_parameters") or {}).get("message_id") == msg["message_id"]
        )
    )


def methods(calls: list[Call]) -> list[str]:
    """The API methods of these calls, in order."""
    return [c.method for c in calls]
