"""Telegram messages to :class:`bots.core.media.InboundMedia`.

Photos, videos, animations (Telegram turns GIFs into mp4), video notes and
documents are described from what the message declares, with a ``fetch`` that
calls ``getFile`` and downloads only when the flow asks for the bytes. The file
URL (it contains the bot token) never leaves :func:`_fetcher`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Bot, Message, PhotoSize
from telegram.error import TelegramError

from bots.core.errors import FetchFailed
from bots.core.media import InboundMedia

PLATFORM = "telegram"
# Telegram's own limit on what a bot may download through the public Bot API.
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024


def _fetcher(bot: Bot, file_id: str) -> Callable[[], Awaitable[bytes]]:
    async def fetch() -> bytes:
        try:
            file = await bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        except TelegramError as e:
            # The error text may quote the file URL: keep only its type.
            raise FetchFailed(f"Telegram refused the download ({type(e).__name__})") from e

    return fetch


@dataclass(frozen=True)
class Author:
    """Who posted a message: the platform's id, display name and ``@username``."""

    id: str | None
    name: str | None
    username: str | None = None


def author_of(message: Message) -> Author:
    """Who posted ``message``: the chat it was posted as, else the user.

    A message posted as a chat (a channel post, an anonymous administrator, a channel
    post's automatic copy in its discussion group) carries a placeholder user shared by
    every such chat, or none at all; the chat in ``sender_chat`` is the real author.
    """
    chat = message.sender_chat
    if chat is not None:
        name = chat.effective_name
        if message.author_signature:  # the administrator's name, when the chat shows it
            name = f"{name} ({message.author_signature})"
        return Author(str(chat.id), name, chat.username)
    user = message.from_user
    if user is not None:
        return Author(str(user.id), user.full_name, user.username)
    return Author(None, None)


def _largest(photo: tuple[PhotoSize, ...]) -> PhotoSize:
    return max(photo, key=lambda p: (p.width * p.height, p.file_size or 0))


def has_media(message: Message | None) -> bool:
    """Whether the message carries something FakeWatch might check."""
    return message is not None and bool(
        message.photo
        or message.video
        or message.animation
        or message.video_note
        or message.document
    )


def inbound_media(message: Message) -> InboundMedia | None:
    """The message's photo, video, animation, video note or document, if any."""
    file_id: str
    name: str | None = None
    mime: str | None
    size: int | None
    if message.photo:
        best = _largest(message.photo)
        kind, file_id, mime, size = "photo", best.file_id, "image/jpeg", best.file_size
    elif message.animation:
        a = message.animation
        kind, file_id, name, mime, size = (
            "animation",
            a.file_id,
            a.file_name,
            a.mime_type,
            a.file_size,
        )
        mime = mime or "video/mp4"
    elif message.video:
        v = message.video
        kind, file_id, name, mime, size = "video", v.file_id, v.file_name, v.mime_type, v.file_size
        mime = mime or "video/mp4"
    elif message.video_note:
        n = message.video_note
        kind, file_id, mime, size = "video_note", n.file_id, "video/mp4", n.file_size
    elif message.document:
        d = message.document
        kind, file_id, name, mime, size = (
            "document",
            d.file_id,
            d.file_name,
            d.mime_type,
            d.file_size,
        )
    else:
        return None
    chat, author = message.chat, author_of(message)
    return InboundMedia(
        platform=PLATFORM,
        chat_id=str(chat.id),
        chat_title=chat.title
        or (f"private chat with {chat.effective_name}" if chat.type == "private" else None),
        message_id=str(message.message_id),
        author_id=author.id,
        author_name=author.name,
        author_username=author.username,
        kind=kind,
        file_name=name,
        mime_type=mime,
        size=size,
        fetch=_fetcher(message.get_bot(), file_id),
    )
