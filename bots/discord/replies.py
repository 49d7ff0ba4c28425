"""Posting in Discord: progress reactions, verdict replies, ephemeral answers, deletions.

:class:`DiscordReplies` delivers a :class:`bots.core.flow.Reply` from the ids stored in
its ``reply_to`` alone, so the same code answers live checks and the checks a restarted bot
recovers. Two shapes of ``reply_to`` exist:

- a message in a channel (automatic checks): ``channel_id``, ``message_id`` and the
  ``reaction`` shown while working; the verdict is a reply to the message.
- an interaction (``/check``, the context menu): ``application_id``, ``webhook_token``,
  ``webhook_expires_at``, ``response_message_id`` and ``user_id``; the verdict edits the
  ephemeral "thinking" message through the interaction's webhook. Discord keeps that token
  valid for 15 minutes; after that (a long outage) the verdict goes to the user by direct
  message instead. The token is a short-lived credential: it is never logged.

A verdict with a picture (:mod:`bots.core.pictures`: the per-frame timeline of a fake or
inconclusive video, the manipulation map on request) carries it as an embed's image, the
PNG attached to the same message; where Discord refuses it (no *Attach Files* or *Embed
Links* permission) the verdict goes as text alone.

:class:`MessageConversation` and :class:`InteractionConversation` add what needs the live
message or interaction: the reaction or "thinking" state, and refusals.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping
from typing import Any

import discord

from base.vocabulary import FakeAction, Label
from bots.core import formatting
from bots.core.flow import Mode, Reply
from bots.core.pictures import Picture, reply_picture
from bots.core.recovery import Undeliverable

log = logging.getLogger(__name__)

LIMIT = formatting.LIMITS["discord"]
WORKING_REACTION = "🔎"
# Quiet mode answers with an emoji on the original message instead of a reply.
REACTIONS: dict[str, str] = {Label.FAKE: "🚨", Label.REAL: "✅", Label.INCONCLUSIVE: "🤔"}
# Discord accepts followups for 15 minutes after the interaction; keep a margin.
WEBHOOK_LIFETIME_S = 14 * 60
NO_MENTIONS = discord.AllowedMentions.none()
EMBED_TITLE_LIMIT = 256  # Discord's limit on an embed's title
EMBED_COLOUR = discord.Colour(0xC0392B)


class DiscordReplies:
    """Delivers replies in Discord from their stored ``reply_to`` ids."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def deliver(self, reply: Reply) -> None:
        """Post the reply where ``reply_to`` says. Raises ``Undeliverable`` when that is gone."""
        where = reply.reply_to
        try:
            if "webhook_token" in where:
                await self._answer_interaction(where, reply.text, picture=reply_picture(reply))
            elif reply.mode == "react":
                await self._react(reply)
            elif reply.action == FakeAction.DELETE_AND_REPORT and reply.final:
                await self._delete_and_report(reply)
            else:
                picture = reply_picture(reply)
                await self._reply(where, reply.text, final=reply.final, picture=picture)
        except (discord.NotFound, discord.Forbidden) as e:
            raise Undeliverable(f"cannot answer in channel {where.get('channel_id')}") from e

    # --- messages ----------------------------------------------------------------------

    def _channel(self, channel_id: Any) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(channel_id))

    def _message(self, where: Mapping[str, Any]) -> discord.PartialMessage:
        return self._channel(where["channel_id"]).get_partial_message(int(where["message_id"]))

    async def react(self, where: Mapping[str, Any], emoji: str, *, remove: bool = False) -> None:
        """Add (or remove) the bot's reaction on the original message."""
        message = self._message(where)
        try:
            if remove:
                if self.client.user is not None:
                    await message.remove_reaction(emoji, self.client.user)
            else:
                await message.add_reaction(emoji)
        except discord.HTTPException as e:
            # Missing Add Reactions, or the message is gone: the check itself still counts.
            log.warning("could not change a reaction in channel %s: %s", where["channel_id"], e)

    async def _reply(
        self, where: Mapping[str, Any], text: str, *, final: bool, picture: Picture | None = None
    ) -> None:
        reference = discord.MessageReference(
            message_id=int(where["message_id"]),
            channel_id=int(where["channel_id"]),
            fail_if_not_exists=False,  # the verdict still matters if the post was deleted
        )
        channel, text = self._channel(where["channel_id"]), formatting.clip(text, LIMIT)
        sent = False
        if picture is not None:
            embed, file = embedded(picture)
            try:
                await channel.send(
                    text,
                    embed=embed,
                    file=file,
                    reference=reference,
                    allowed_mentions=NO_MENTIONS,
                )
                sent = True
            except discord.HTTPException as e:
                # No Attach Files or Embed Links here: the verdict goes as text.
                log.warning("could not attach the picture in %s (%s)", where["channel_id"], e)
        if not sent:
            await channel.send(text, reference=reference, allowed_mentions=NO_MENTIONS)
        if final and where.get("reaction"):
            await self.react(where, str(where["reaction"]), remove=True)

    async def _react(self, reply: Reply) -> None:
        if not reply.final:
            return  # the 🔎 stays until the verdict arrives
        where = reply.reply_to
        if where.get("reaction"):
            await self.react(where, str(where["reaction"]), remove=True)
        emoji = REACTIONS.get(reply.label or "")
        if emoji is not None:
            await self.react(where, emoji)

    async def _delete_and_report(self, reply: Reply) -> None:
        where = reply.reply_to
        try:
            await self._message(where).delete()
            deleted = True
        except discord.NotFound:
            deleted = True  # someone was quicker
        except discord.HTTPException as e:
            log.warning("could not delete a likely fake in channel %s: %s", where["channel_id"], e)
            deleted = False
        if deleted:
            await self._channel(where["channel_id"]).send(
                formatting.clip(reply.removal or reply.text, LIMIT), allowed_mentions=NO_MENTIONS
            )
        else:
            note = f"{reply.text}\n(I could not delete it: I need the Manage Messages permission.)"
            await self._reply(where, note, final=True)
        if reply.mod_channel_id and reply.outcome is not None:
            report = formatting.report_text(
                reply.outcome,
                chat=where.get("chat_title"),
                author=where.get("author_name"),
                deleted=deleted,
                limit=LIMIT,
            )
            try:
                await self._channel(reply.mod_channel_id).send(report, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as e:
                log.warning("could not report to the moderators' channel: %s", e)

    # --- interactions ------------------------------------------------------------------

    async def _answer_interaction(
        self, where: Mapping[str, Any], text: str, *, picture: Picture | None = None
    ) -> None:
        text = formatting.clip(text, LIMIT)
        if time.time() < float(where.get("webhook_expires_at") or 0):
            webhook = discord.Webhook.partial(
                int(where["application_id"]), str(where["webhook_token"]), client=self.client
            )
            message_id = int(where["response_message_id"])
            if picture is not None:
                embed, file = embedded(picture)
                try:
                    await webhook.edit_message(
                        message_id,
                        content=text,
                        embed=embed,
                        attachments=[file],
                        allowed_mentions=NO_MENTIONS,
                    )
                    return
                except discord.HTTPException as e:
                    if isinstance(e, discord.NotFound):
                        raise
                    log.warning("could not attach the picture to an answer (%s)", e)
            await webhook.edit_message(message_id, content=text, allowed_mentions=NO_MENTIONS)
            return
        # The interaction expired (the bot was down too long): tell the user directly.
        user = self.client.get_user(int(where["user_id"])) or await self.client.fetch_user(
            int(where["user_id"])
        )
        await user.send(
            formatting.clip(f"Your FakeWatch check in <#{where['channel_id']}>:\n{text}", LIMIT)
        )


def embedded(picture: Picture) -> tuple[discord.Embed, discord.File]:
    """An embed showing the picture, and the file it refers to (to attach with it)."""
    file = discord.File(
        io.BytesIO(picture.data), filename=picture.name, description=picture.description[:1024]
    )
    embed = discord.Embed(title=picture.description[:EMBED_TITLE_LIMIT], colour=EMBED_COLOUR)
    embed.set_image(url=f"attachment://{picture.name}")
    return embed, file


class MessageConversation(DiscordReplies):
    """The conversation about one message posted in a channel (automatic checks)."""

    def __init__(self, client: discord.Client, message: discord.Message) -> None:
        super().__init__(client)
        self.message = message

    @property
    def _where(self) -> dict[str, Any]:
        return {"channel_id": str(self.message.channel.id), "message_id": str(self.message.id)}

    async def refuse(self, text: str) -> None:
        """Answer the message itself (a file too large to check)."""
        await self._reply(self._where, text, final=False)

    async def working(self, *, mode: Mode) -> Mapping[str, Any]:
        """React with 🔎 while the check runs; the verdict replies to the message."""
        await self.react(self._where, WORKING_REACTION)
        return {"channel_id": str(self.message.channel.id), "reaction": WORKING_REACTION}


class InteractionConversation(DiscordReplies):
    """One ``/check`` or context-menu use: every answer is ephemeral, seen by the asker only.

    The first item defers the interaction ("FakeWatch is thinking…"), whose message the
    verdict then replaces; each further item of the same interaction gets its own ephemeral
    followup, edited in the same way.
    """

    def __init__(self, client: discord.Client, interaction: discord.Interaction) -> None:
        super().__init__(client)
        self.interaction = interaction
        self.expires_at = time.time() + WEBHOOK_LIFETIME_S

    async def refuse(self, text: str) -> None:
        """Tell the asker why the file is not checked."""
        await send_ephemeral(self.interaction, text)

    async def working(self, *, mode: Mode) -> Mapping[str, Any]:
        """Show "thinking" (or a followup saying so); return where the verdict goes."""
        interaction = self.interaction
        response_id: int | None = None
        if not interaction.response.is_done():
            callback = await interaction.response.defer(ephemeral=True, thinking=True)
            response_id = callback.message_id if callback is not None else None
            if response_id is None:
                response_id = (await interaction.original_response()).id
        else:
            followup = await interaction.followup.send(
                formatting.WORKING, ephemeral=True, wait=True
            )
            response_id = followup.id
        return {
            "channel_id": str(interaction.channel_id),
            "application_id": str(interaction.application_id),
            "webhook_token": interaction.token,
            "webhook_expires_at": int(self.expires_at),
            "response_message_id": str(response_id),
            "user_id": str(interaction.user.id),
        }


async def send_ephemeral(interaction: discord.Interaction, text: str, **kwargs: Any) -> None:
    """Answer an interaction so only its user sees it, whether or not it was answered yet."""
    text = formatting.clip(text, LIMIT)
    if interaction.response.is_done():
        await interaction.followup.send(
            text, ephemeral=True, allowed_mentions=NO_MENTIONS, **kwargs
        )
    else:
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=NO_MENTIONS, **kwargs
        )
