"""The fake Discord's world: one application with its bot, one guild, its roles, channels, members.

People are named: ``owner`` (owns the guild: every permission), ``moderator`` (the Moderators
role: Manage Messages) and ``member`` (@everyone's permissions only). Channels: ``#general``,
``#media`` and ``#mod-log``. Ids are fresh snowflakes for every world, so tests sharing a store
never mix up their chats.
"""

from __future__ import annotations

from tests.bots import discord_payloads as p


class World:
    """The objects a fake Discord knows, as payloads; see the module docstring.

    Args:
        message_content_enabled: whether the application has the Message Content intent
            enabled in its (fake) Developer Portal.
    """

    def __init__(self, *, message_content_enabled: bool = True) -> None:
        self.guild_id = p.snowflake()
        self.application_id = p.snowflake()
        flags = p.GATEWAY_MESSAGE_CONTENT if message_content_enabled else 0
        self.bot_user = p.user(self.application_id, "fakewatch", bot=True)
        self.users = {
            name: p.user(p.snowflake(), name) for name in ("owner", "moderator", "member")
        }
        self.application = {
            "id": self.application_id,
            "name": "FakeWatch",
            "icon": None,
            "description": "Deepfake moderation",
            "summary": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.users["owner"],
            "team": None,
            "verify_key": "0" * 64,
            "flags": flags,
            "interactions_endpoint_url": None,
            "bot": self.bot_user,
        }
        mod_role, bot_role = p.snowflake(), p.snowflake()
        bot_perms = p.EVERYONE_PERMISSIONS | p.MANAGE_MESSAGES
        self.roles = [
            p.role(self.guild_id, "@everyone", permissions=p.EVERYONE_PERMISSIONS, position=0),
            p.role(mod_role, "Moderators", permissions=p.MANAGE_MESSAGES, position=1),
            p.role(bot_role, "FakeWatch", permissions=bot_perms, position=2, managed=True),
        ]
        self.channels = {
            name: p.text_channel(p.snowflake(), self.guild_id, name, position=i)
            for i, name in enumerate(("general", "media", "mod-log"))
        }
        role_of = {"owner": [], "moderator": [mod_role], "member": []}
        self.members = {name: p.member(self.users[name], roles=role_of[name]) for name in role_of}
        self.members["bot"] = p.member(self.bot_user, roles=[bot_role])
        self.permissions = {
            "owner": p.ALL_PERMISSIONS,
            "moderator": p.EVERYONE_PERMISSIONS | p.MANAGE_MESSAGES,
            "member": p.EVERYONE_PERMISSIONS,
            "bot": bot_perms,
        }
        self.guild = p.guild(
            self.guild_id,
            "Fake Guild",
            owner_id=self.users["owner"]["id"],
            roles=self.roles,
            channels=list(self.channels.values()),
            members=list(self.members.values()),
        )

    def channel_id(self, name: str) -> str:
        """The id of channel ``#name``."""
        return str(self.channels[name]["id"])
