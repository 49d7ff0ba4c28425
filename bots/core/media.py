"""One media item seen in a chat, described before anything is downloaded.

A platform adapter turns a message attachment into an :class:`InboundMedia`:
what it is, how big the platform says it is, and a ``fetch`` coroutine that
downloads the bytes only when the flow decides to check it.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from base.vocabulary import RequestKind

Category = Literal["image", "video"]

# Mime types the model cannot read even though they are image/* or video/*: vector
# drawings and icons have no photographic faces, HEIC needs a decoder we do not ship.
_REFUSED_MIME = frozenset({"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon"})
# GIF and animated WebP are decoded as video, but they arrive as image/* and are images
# as far as the platforms are concerned.
_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"})
_VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gifv"})


def category_of(mime_type: str | None, file_name: str | None = None) -> Category | None:
    """Whether a file is an image, a video, or neither, from its mime type or name.

    The mime type wins when it names an image or video; a generic one
    (``application/octet-stream``) falls back to the file name's suffix.
    """
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in _REFUSED_MIME:
        return None
    if mime.startswith("image/"):
        return "image"
    if mime.startswith("video/"):
        return "video"
    if not file_name or "." not in file_name:
        return None
    suffix = "." + file_name.rsplit(".", 1)[1].lower()
    if suffix in _IMAGE_SUFFIXES:
        return "image"
    if suffix in _VIDEO_SUFFIXES:
        return "video"
    guessed, _ = mimetypes.guess_type(file_name)
    return category_of(guessed) if guessed and guessed != mime_type else None


@dataclass(frozen=True, kw_only=True)
class InboundMedia:
    """A media item in a chat message, not yet downloaded.

    Identifiers are strings on every platform (Discord snowflakes exceed what some
    consumers read as numbers; Telegram's are plain integers).

    Attributes:
        platform: ``telegram`` or ``discord``.
        chat_id: The chat (Telegram) or channel (Discord) the message is in.
        chat_title: Its title, for the audit log; ``None`` in private chats.
        message_id: The message carrying the media.
        author_id: Who posted it: the platform's user id, or the chat's own id when a
            chat posted as itself (a Telegram channel post, an anonymous administrator).
        author_name: Their display name at the time (anyone can choose any name).
        kind: The platform's word for it: ``photo``, ``video``, ``animation``,
            ``video_note``, ``document``, ``attachment``.
        file_name: The file's name when the platform has one.
        mime_type: As declared by the platform (not trusted: the worker sniffs bytes).
        size: Bytes, as declared by the platform; ``None`` when it does not say.
        fetch: Downloads the bytes. Called at most once, after the size check.
        guild_id: The Discord server (or ``None``): chat settings may be per server.
        author_username: The author's ``@username`` as the platform reported it with the
            message, without the ``@`` (unique at the time, unlike a display name);
            ``None`` when they have none or the platform does not say.
    """

    platform: str
    chat_id: str
    chat_title: str | None
    message_id: str
    author_id: str | None
    author_name: str | None
    kind: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    fetch: Callable[[], Awaitable[bytes]] = field(repr=False, compare=False)
    guild_id: str | None = None
    author_username: str | None = None

    @property
    def category(self) -> Category | None:
        """``image``, ``video``, or ``None`` for anything the model cannot judge."""
        return category_of(self.mime_type, self.file_name)


@dataclass(frozen=True, kw_only=True)
class Request:
    """Why a media item is being checked.

    Attributes:
        kind: ``auto`` (posted in a chat with automatic checks on) or ``command``.
        requested_by: The user who asked, for commands.
        explain: The asker wants the manipulation map with the verdict (``/check explain``).
    """

    kind: RequestKind = RequestKind.AUTO
    requested_by: str | None = None
    explain: bool = False

    @property
    def automatic(self) -> bool:
        """Whether the check is automatic (else someone asked for it with a command)."""
        return self.kind == RequestKind.AUTO


def megabytes(size: int) -> str:
    """A byte count for people: ``25 MB``, ``1.5 MB``, ``700 KB``."""
    mb = size / (1024 * 1024)
    if mb >= 10:
        return f"{mb:.0f} MB"
    if mb >= 1:
        return f"{mb:.1f} MB".replace(".0 MB", " MB")
    return f"{max(size // 1024, 1)} KB"
