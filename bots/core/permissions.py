"""Who may do what: the permission model every platform shares.

Anyone may ask for a check. Reading the audit log, changing a chat's settings and
overriding a verdict are for the chat's moderators. Each platform says who a
moderator is by implementing :class:`RoleSource`: on Telegram the chat's
administrators (asked with ``getChatMember`` at run time, never cached across
commands), on Discord members with the Manage Messages permission.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    """What a user is in a chat, as far as FakeWatch cares."""

    MEMBER = "member"
    MODERATOR = "moderator"


class Action(StrEnum):
    """What a user may ask the bot to do."""

    CHECK = "check"
    AUDIT = "audit"
    SETTINGS = "settings"
    VERDICT = "verdict"


REQUIRED: dict[Action, Role] = {
    Action.CHECK: Role.MEMBER,
    Action.AUDIT: Role.MODERATOR,
    Action.SETTINGS: Role.MODERATOR,
    Action.VERDICT: Role.MODERATOR,
}

_RANK = {Role.MEMBER: 0, Role.MODERATOR: 1}


class RoleSource(Protocol):
    """A platform's answer to "what is this user in this chat?"."""

    async def role_of(self, *, chat_id: str, user_id: str) -> Role:
        """The user's role in the chat, looked up now."""
        ...


def permits(role: Role, action: Action) -> bool:
    """Whether ``role`` is enough for ``action``."""
    return _RANK[role] >= _RANK[REQUIRED[action]]


async def allowed(source: RoleSource, *, chat_id: str, user_id: str, action: Action) -> bool:
    """Whether the user may do ``action`` in the chat, asking the platform only when it matters."""
    if permits(Role.MEMBER, action):
        return True
    return permits(await source.role_of(chat_id=chat_id, user_id=user_id), action)


def refusal(action: Action) -> str:
    """What to tell someone who may not do ``action``."""
    what = {
        Action.AUDIT: "read the audit log",
        Action.SETTINGS: "change FakeWatch's settings",
        Action.VERDICT: "override a verdict",
        Action.CHECK: "ask for a check",
    }[action]
    return f"Only this chat's moderators can {what}."
