"""Who is a moderator on Telegram: the chat's administrators, asked at run time.

A private chat with the bot is its user's own: they moderate it. In a channel only
administrators can post, so a command posted there (a channel post) is an
administrator's; Telegram does not say which one (at most a signature), so there is
nobody to ask about. An anonymous administrator of a group posts as the group itself
(``sender_chat`` is the chat), which only administrators can do. Everyone else is
asked about with ``getChatMember`` on every command, so a demoted administrator
loses access at once.
"""

from __future__ import annotations

from telegram import Bot, Message
from telegram.constants import ChatMemberStatus, ChatType

from bots.core.permissions import Action, Role, permits

MODERATOR_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


class ChatAdmins:
    """:class:`bots.core.permissions.RoleSource` backed by ``getChatMember``."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def role_of(self, *, chat_id: str, user_id: str) -> Role:
        """``moderator`` for the chat's creator and administrators."""
        member = await self.bot.get_chat_member(chat_id=chat_id, user_id=int(user_id))
        return Role.MODERATOR if member.status in MODERATOR_STATUSES else Role.MEMBER


async def may(message: Message, action: Action) -> bool:
    """Whether the sender of ``message`` may do ``action`` in its chat."""
    if permits(Role.MEMBER, action) or message.chat.type == ChatType.PRIVATE:
        return True
    if message.chat.type == ChatType.CHANNEL:
        return True  # a channel post: only its administrators can post in a channel
    if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
        return True  # an anonymous administrator
    if message.from_user is None:
        return False
    role = await ChatAdmins(message.get_bot()).role_of(
        chat_id=str(message.chat.id), user_id=str(message.from_user.id)
    )
    return permits(role, action)
