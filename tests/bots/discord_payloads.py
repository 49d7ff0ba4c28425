"""Discord API payloads shaped like the real ones (API v10), for the fake Discord.

Each builder returns the JSON object Discord sends for that thing, with the fields discord.py 2.x
reads (required keys present, optional ones at their usual defaults). Shapes follow the Discord
developer documentation (Users, Guilds, Channels, Messages, Interactions) and discord.py's
``discord.types`` TypedDicts.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any

Payload = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 53) - 1

EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | ATTACH_FILES
    | EMBED_LINKS
    | USE_APPLICATION_COMMANDS
)

# Application flags (https://discord.com/developers/docs/resources/application).
GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
# Gateway intent bits (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILD_MEMBERS = 1 << 1  # privileged
INTENT_MESSAGE_CONTENT = 1 << 15  # privileged

_counter = itertools.count()


def snowflake() -> str:
    """A new, unique, time-ordered Discord ID (as Discord sends them: a string)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_counter) % 4096))


def now_iso() -> str:
    """The current time as Discord writes timestamps."""
    return dt.datetime.now(dt.UTC).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> Payload:
    """A user object."""
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def role(
    role_id: str, name: str, *, permissions: int, position: int, managed: bool = False
) -> Payload:
    """A role object."""
    return {
        "id": role_id,
        "name": name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }


def member(user_payload: Payload, *, roles: list[str], permissions: int | None = None) -> Payload:
    """A guild member; ``permissions`` is set in interaction payloads (the member's total)."""
    data: Payload = {
        "user": user_payload,
        "nick": None,
        "avatar": None,
        "roles": roles,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def text_channel(channel_id: str, guild_id: str, name: str, *, position: int) -> Payload:
    """A guild text channel."""
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def guild(
    guild_id: str,
    name: str,
    *,
    owner_id: str,
    roles: list[Payload],
    channels: list[Payload],
    members: list[Payload],
) -> Payload:
    """A GUILD_CREATE payload: the guild with its channels, roles and members."""
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": owner_id,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def attachment(
    attachment_id: str,
    filename: str,
    *,
    url: str,
    size: int,
    content_type: str | None,
    width: int | None = None,
    height: int | None = None,
) -> Payload:
    """An attachment object; ``url`` and ``proxy_url`` both point at the fake's CDN."""
    data: Payload = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "width": width,
        "height": height,
        "ephemeral": False,
    }
    if content_type is not None:
        data["content_type"] = content_type
    return data


def message(
    *,
    message_id: str,
    channel_id: str,
    guild_id: str | None,
    author: Payload,
    author_member: Payload | None = None,
    content: str = "",
    attachments: list[Payload] | None = None,
    embeds: list[Payload] | None = None,
    reference: Payload | None = None,
    flags: int = 0,
) -> Payload:
    """A message object (as in MESSAGE_CREATE, REST answers and ``resolved.messages``)."""
    data: Payload = {
        "id": message_id,
        "type": 19 if reference else 0,
        "channel_id": channel_id,
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "pinned": False,
        "flags": flags,
        "components": [],
    }
    if guild_id is not None:
        data["guild_id"] = guild_id
    if author_member is not None:
        data["member"] = {k: v for k, v in author_member.items() if k != "user"}
    if reference is not None:
        data["message_reference"] = reference
    return data


def interaction(
    *,
    application_id: str,
    guild_id: str,
    channel: Payload,
    invoker: Payload,
    data: Payload,
    app_permissions: int,
) -> Payload:
    """An INTERACTION_CREATE payload of type APPLICATION_COMMAND (2) in a guild."""
    return {
        "id": snowflake(),
        "application_id": application_id,
        "type": 2,
        "data": data,
        "guild_id": guild_id,
        "guild": {"id": guild_id, "locale": "en-US", "features": []},
        "channel_id": channel["id"],
        "channel": {**channel, "permissions": invoker.get("permissions", "0")},
        "member": invoker,
        "token": "itoken-" + snowflake(),
        "version": 1,
        "app_permissions": str(app_permissions),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
