"""Where discord.py is pointed (DISCORD_API_BASE, DISCORD_GATEWAY_URL) and who moderates."""

from __future__ import annotations

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from base.errors import ConfigurationError
from bots.core.permissions import Action, Role
from bots.discord.endpoints import api_base_url, gateway_url, use_endpoints
from bots.discord.roles import role_for


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://discord.com/api/v10"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v10"),
        ("http://proxy.internal:3000/", "http://proxy.internal:3000/api/v10"),
        ("https://discord.com/api/v9", "https://discord.com/api/v9"),
    ],
)
def test_api_base_is_a_root_or_a_versioned_base(given: str | None, expected: str) -> None:
    assert api_base_url(given) == expected


def test_gateway_must_be_a_websocket_url() -> None:
    assert gateway_url(None) == yarl.URL("wss://gateway.discord.gg/")
    assert gateway_url("ws://127.0.0.1:9000/gw") == yarl.URL("ws://127.0.0.1:9000/gw")
    with pytest.raises(ConfigurationError):
        gateway_url("http://127.0.0.1:9000/gw")
    with pytest.raises(ConfigurationError):
        api_base_url("127.0.0.1:8080")


def test_use_endpoints_sets_what_discord_py_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    use_endpoints(api_base="http://127.0.0.1:1234", gateway="ws://127.0.0.1:1234/gateway")
    assert Route("GET", "/users/@me").url == "http://127.0.0.1:1234/api/v10/users/@me"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:1234/gateway"


@pytest.mark.parametrize(
    ("permissions", "action", "role"),
    [
        (discord.Permissions(manage_messages=True), Action.AUDIT, Role.MODERATOR),
        (discord.Permissions(manage_messages=True), Action.VERDICT, Role.MODERATOR),
        (discord.Permissions(manage_messages=True), Action.SETTINGS, Role.MEMBER),
        (discord.Permissions(manage_guild=True), Action.SETTINGS, Role.MODERATOR),
        (discord.Permissions(manage_guild=True), Action.AUDIT, Role.MEMBER),
        (discord.Permissions(administrator=True), Action.SETTINGS, Role.MODERATOR),
        (discord.Permissions(send_messages=True), Action.AUDIT, Role.MEMBER),
    ],
)
def test_moderators_are_told_by_their_discord_permissions(
    permissions: discord.Permissions, action: Action, role: Role
) -> None:
    assert role_for(permissions, action) is role
