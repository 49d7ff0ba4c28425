"""Where discord.py sends REST calls and opens the gateway: Discord, or a compatible proxy.

discord.py 2.x keeps both addresses as class attributes, so they are process-wide:
``discord.http.Route.BASE`` (every REST route, webhooks and interaction callbacks included) and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (the first connection, and the one after
an invalidated session; a resume goes to the ``resume_gateway_url`` the gateway gave in READY).
One bot runs per process, so setting them once before login is enough.
"""

from __future__ import annotations

import re

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import INTERNAL_API_VERSION, Route

from base.errors import ConfigurationError

DISCORD_API_BASE = f"https://discord.com/api/v{INTERNAL_API_VERSION}"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"

_VERSIONED = re.compile(r"/api/v\d+$")


def api_base_url(root: str | None) -> str:
    """The REST base for ``DISCORD_API_BASE``.

    Args:
        root: a proxy's root (``http://127.0.0.1:8080``, ``/api/v10`` is added) or a full versioned
            base (``https://discord.com/api/v10``, kept); ``None`` for Discord itself.
    """
    if root is None:
        return DISCORD_API_BASE
    root = root.rstrip("/")
    if not root.startswith(("http://", "https://")):
        raise ConfigurationError(f"DISCORD_API_BASE must be an http(s) URL, got {root!r}")
    if _VERSIONED.search(root):
        return root
    return f"{root}/api/v{INTERNAL_API_VERSION}"


def gateway_url(url: str | None) -> yarl.URL:
    """The gateway for ``DISCORD_GATEWAY_URL`` (a ``ws://`` or ``wss://`` URL), or Discord's."""
    if url is None:
        return yarl.URL(DISCORD_GATEWAY_URL)
    parsed = yarl.URL(url)
    if parsed.scheme not in ("ws", "wss"):
        raise ConfigurationError(f"DISCORD_GATEWAY_URL must be a ws(s) URL, got {url!r}")
    return parsed


def use_endpoints(*, api_base: str | None, gateway: str | None) -> None:
    """Point this process's discord.py at ``api_base`` and ``gateway`` (``None``: Discord)."""
    Route.BASE = api_base_url(api_base)
    DiscordWebSocket.DEFAULT_GATEWAY = gateway_url(gateway)
