"""The Telegram application itself: URLs, webhook mode, start-up errors. No worker needed."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bots.telegram.app import Webhook, api_urls, build_application, running
from fakewatch.errors import ConfigurationError
from fakewatch.settings import Settings
from tests.bots.telegram.conftest import TOKEN
from tests.bots.telegram_fake import GROUP, FakeTelegram, command, message, user


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
