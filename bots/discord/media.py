"""Discord attachments to :class:`bots.core.media.InboundMedia`.

An attachment is described from what Discord declares (file name, content type, size)
with a ``fetch`` that downloads it only when the flow decides to check it, so an oversized
file is refused without a byte downloaded. Chats follow the store's convention: a guild
channel is ``"<guild id>:<channel id>"`` (settings fall back from the channel to the guild),
a direct message channel is its own id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import discord

from bots.core.errors import FetchFailed
from bots.core.media import InboundMedia, category_of

PLATFORM = "discord"

Channel = discord.abc.Messageable | discord.abc.GuildChannel | discord.Thread | None


def chat_id_of(*, guild_id: int | None, channel_id: int) -> str:
    """The store's chat id of a channel: ``"guild:channel"`` in a server, else the channel."""
    return f"{guild_id}:{channel_id}" if guild_id is not None else str(channel_id)


def chat_title_of(channel: object, guild: discord.Guild | None) -> str | None:
    """``Server #channel`` for the audit log; ``None`` for direct messages."""
    name = getattr(channel, "name", None)
    if guild is None:
        return None
    return f"{guild.name} #{name}" if name else guild.name


def _fetcher(attachment: discord.Attachment) -> Callable[[], Awaitable[bytes]]:
    async def fetch() -> bytes:
        try:
            return await attachment.read()
        except (discord.HTTPException, aiohttp.ClientError) as e:
            raise FetchFailed(f"Discord refused the download ({type(e).__name__})") from e

    return fetch


def inbound_media(
    attachment: discord.Attachment,
    *,
    guild: discord.Guild | None,
    channel: Channel,
    channel_id: int,
    message_id: int,
    author: discord.abc.User | None,
) -> InboundMedia:
    """One attachment, not yet downloaded.

    Args:
        message_id: The message carrying it (for ``/check``, the interaction's id).
    """
    return InboundMedia(
        platform=PLATFORM,
        chat_id=chat_id_of(guild_id=guild.id if guild else None, channel_id=channel_id),
        chat_title=chat_title_of(channel, guild),
        message_id=str(message_id),
        author_id=str(author.id) if author is not None else None,
        author_name=author.display_name if author is not None else None,
        kind=category_of(attachment.content_type, attachment.filename) or "attachment",
        file_name=attachment.filename,
        mime_type=attachment.content_type,
        size=attachment.size,
        fetch=_fetcher(attachment),
        guild_id=str(guild.id) if guild is not None else None,
    )


def message_media(message: discord.Message) -> list[InboundMedia]:
    """Every attachment of a message, in order."""
    return [
        inbound_media(
            attachment,
            guild=message.guild,
            channel=message.channel,
            channel_id=message.channel.id,
            message_id=message.id,
            author=message.author,
        )
        for attachment in message.attachments
    ]
