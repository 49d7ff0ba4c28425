"""The Telegram application itself: URLs, webhook mode, start-up errors. No worker needed."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from unittest.mock import ANY

import httpx
import pytest

from base.errors import ConfigurationError
from base.settings import Settings
from bench import samples
from bots.telegram.app import api_urls, build_application, running
from bots.telegram.intake import Intake
from bots.telegram.webhook import Webhook, WebhookServer
from tests.bots.telegram.conftest import TOKEN
from tests.bots.telegram_fake import GROUP, FakeTelegram, command, message, photo_sizes, user

JPEG = samples.encode_image(samples.astronaut())


def test_api_urls_follow_the_local_bot_api_server_layout() -> None:
    assert api_urls("http://127.0.0.1:8081/") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )


def test_the_application_uses_telegram_api_base(settings: Settings) -> None:
    app = build_application(settings)
    assert app.bot.base_url == f"{settings.telegram_api_base}/bot{TOKEN}"
    assert app.bot.base_file_url == f"{settings.telegram_api_base}/file/bot{TOKEN}"


def test_an_empty_token_is_a_configuration_error(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="TELEGRAM_TOKEN"):
        build_application(settings.model_copy(update={"telegram_token": "  "}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_registers_and_checks_the_secret(
    fake: FakeTelegram, settings: Settings
) -> None:
    port = free_port()
    hook = Webhook(
        url="https://bot.example.org/telegram",
        listen="127.0.0.1",
        port=port,
        path="telegram",
        secret="s3cret-header-value",
    )
    async with running(build_application(settings), webhook=hook):
        registered = fake.sent("setWebhook")[-1]
        assert registered.params["url"] == "https://bot.example.org/telegram"
        assert registered.params["secret_token"] == "s3cret-header-value"
        update = {
            "update_id": 1,
            "message": message(fake, chat=GROUP, sender=user(7001, "Alice"), **command("/help")),
        }
        url = f"http://127.0.0.1:{port}/telegram"
        async with httpx.AsyncClient() as client:
            forged = await client.post(url, json=update)
            assert forged.status_code == 403
            ok = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": hook.secret or ""}
            )
            assert ok.status_code == 200
        helped = await fake.wait_for(lambda c: c.method == "sendMessage")
        assert helped.params["text"].startswith("I check photos and videos")
        await asyncio.sleep(0.2)
        assert len(fake.sent("sendMessage")) == 1  # the forged update was not handled


async def test_a_refused_token_stops_the_command_with_a_clear_message(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_TOKEN": "111:not-the-token-the-fake-knows",
        "TELEGRAM_API_BASE": fake.url,
        "FAKEWATCH_DATA_DIR": str(tmp_path),
        "HOME": str(tmp_path),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fakewatch",
        "telegram",
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 2, err.decode()
    assert "Telegram refused TELEGRAM_TOKEN" in err.decode()
    assert "not-the-token" not in (out + err).decode()


async def stored_message_ids(settings: Settings) -> list[str | None]:
    from sqlalchemy import select

    from bots.core.services import BotServices
    from db.models import Check

    services = await BotServices.connect(settings, migrate=False)
    try:
        async with services.sessions() as session:
            return list(await session.scalars(select(Check.message_id)))
    finally:
        await services.close()


async def test_webhook_answers_telegram_only_once_the_check_is_stored(
    fake: FakeTelegram, settings: Settings
) -> None:
    """No worker: the verdict never comes, yet the call is answered once the check is safe.

    Telegram sends an unanswered call again, so a bot killed before it stored the check
    loses nothing; one that stored it answers, and the verdict follows from the store.
    """
    port = free_port()
    hook = Webhook(url="https://bot.example.org/tg", listen="127.0.0.1", port=port, path="tg")
    photo = message(fake, chat=GROUP, sender=user(7002, "Bob"), photo=photo_sizes(fake, JPEG))
    async with (
        running(build_application(settings), webhook=hook),
        httpx.AsyncClient(timeout=60) as client,
    ):
        url = f"http://127.0.0.1:{port}/tg"
        answered = await client.post(url, json={"update_id": 11, "message": photo})
        assert answered.status_code == 200
        assert await stored_message_ids(settings) == [str(photo["message_id"])]
        # The same update again (Telegram resending): recognised, not checked twice.
        again = await client.post(url, json={"update_id": 11, "message": photo})
        assert again.status_code == 200
        assert await stored_message_ids(settings) == [str(photo["message_id"])]
        broken = await client.post(url, content=b"{not json")
        assert broken.status_code == 400
    assert len(fake.sent("sendMessage")) == 1  # one "analysing…" reply


@dataclass
class StubApp:
    """Takes updates and never handles them: nothing settles."""

    bot: Any = None
    update_queue: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    webhooks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bot = self

    async def set_webhook(self, **params: Any) -> bool:
        self.webhooks.append(params)
        return True


async def test_webhook_calls_unsettled_or_during_a_stop_get_no_200() -> None:
    """Telegram sends again what was not answered 2xx: a stopping bot must not say 200."""
    port = free_port()
    app = StubApp()
    hook = Webhook(url="https://h/tg", listen="127.0.0.1", port=port, secret="s")
    server = WebhookServer(Intake(), hook)
    await server.start(cast(Any, app))
    assert app.webhooks == [{"url": "https://h/tg", "secret_token": "s", "allowed_updates": ANY}]
    url, headers = f"http://127.0.0.1:{port}/telegram", {"X-Telegram-Bot-Api-Secret-Token": "s"}
    async with httpx.AsyncClient(timeout=30) as client:
        in_flight = asyncio.create_task(client.post(url, json={"update_id": 1}, headers=headers))
        await asyncio.wait_for(app.update_queue.get(), 10)  # taken in, never settled
        stopping = asyncio.create_task(server.stop(grace=0.5))
        await asyncio.sleep(0.1)
        refused = await client.post(url, json={"update_id": 2}, headers=headers)
        assert refused.status_code == 503
        await stopping
        cut_off = await in_flight
        assert cut_off.status_code == 503  # unsettled at the end: Telegram sends it again
    assert app.update_queue.empty()  # update 2 was never taken in
