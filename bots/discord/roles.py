"""Who is a moderator on Discord, checked at run time on every command.

Commands declare ``default_permissions`` so Discord hides them from members who lack the
permission, but server admins can change who sees a command (Server Settings >
Integrations), so each command checks again. The permissions come with the interaction
itself (``member.permissions``: the member's permissions in that channel, overwrites
included), so no extra request is needed and a demoted moderator loses access at once.

Moderators (``/audit``, ``/verdict``) are members with Manage Messages; the settings are for
administrators: Manage Server.
"""

from __future__ import annotations

import discord

from bots.core.permissions import Action, Role, permits

# The Discord permission that makes someone a moderator for each action.
REQUIRED = {
    Action.AUDIT: "manage_messages",
    Action.VERDICT: "manage_messages",
    Action.SETTINGS: "manage_guild",
}


def role_for(permissions: discord.Permissions, action: Action) -> Role:
    """``moderator`` when ``permissions`` carry what ``action`` needs on Discord."""
    needed = REQUIRED.get(action)
    if needed is None:
        return Role.MEMBER
    has = permissions.administrator or getattr(permissions, needed)
    return Role.MODERATOR if has else Role.MEMBER


def may(interaction: discord.Interaction, action: Action) -> bool:
    """Whether the interaction's user may do ``action`` in its channel.

    Outside a server (direct messages) nobody moderates anything.
    """
    if permits(Role.MEMBER, action):
        return True
    if interaction.guild_id is None:
        return False
    return permits(role_for(interaction.permissions, action), action)
