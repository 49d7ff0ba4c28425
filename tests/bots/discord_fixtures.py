"""The fake Discord fixture: discord.py pointed at a fake Discord for one test.

Test modules import the fixtures they use by name (pytest finds fixtures imported into a module).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord.endpoints import api_base_url, gateway_url
from tests.bots.discord_fake import FakeDiscord


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A running fake Discord; discord.py's process-wide endpoints point at it for this test."""
    async with FakeDiscord() as fake:
        # monkeypatch restores Discord's real endpoints after the test.
        monkeypatch.setattr(Route, "BASE", api_base_url(fake.api_base))
        monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", gateway_url(fake.gateway_url))
        yield fake
