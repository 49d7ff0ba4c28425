"""Telegram handlers: automatic checks, /check, /audit, /settings, /verdict, /help.

Each handler answers one kind of update, a message or a channel post alike. They
catch only what the user got wrong (bad arguments, missing rights) and say so;
anything else goes to :func:`error_handler`, which logs it (tokens are redacted from
every log record).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from telegram import Message, Update
from telegram.ext import ContextTypes

from base.vocabulary import RequestKind
from bots.core import formatting
from bots.core.arguments import parse_audit, parse_settings, parse_verdict
from bots.core.errors import BadArguments, UnknownCheck
from bots.core.media import Request
from bots.core.permissions import Action, refusal
from bots.telegram.media import PLATFORM, author_of, has_media, inbound_media
from bots.telegram.replies import MessageConversation
from bots.telegram.roles import may
from bots.telegram.state import state_of

log = logging.getLogger(__name__)
LIMIT = formatting.LIMITS["telegram"]

HELP = (
    "I check photos and videos for face manipulation (deepfakes).\n"
    "• In groups and channels where automatic checks are on, every photo and video "
    "is checked.\n"
    "• /check as a reply to a photo or video (or as its caption) checks it on demand; "
    "this works in a private chat with me too. /check explain also shows where on the "
    "face the model sees blending.\n"
    "Administrators: /audit [label] [period] [count] [@user] · /settings · "
    "/verdict CHECK real|fake [note]"
)
CHECK_USAGE = (
    "Reply /check to a photo or video, or send one with /check as its caption; "
    "/check explain adds the manipulation map."
)
# "/check explain" (or "map"): the verdict comes with the manipulation map.
EXPLAIN_WORDS = frozenset({"explain", "map"})
UNKNOWN_USERNAME = (
    "No post checked in this chat came from @{name}. I match a @username as Telegram "
    "gave it with each post I checked here, never a display name (anyone can copy one). "
    "Reply /audit to one of their messages, or use user:ID."
)


def _who(message: Message) -> tuple[str, str | None]:
    author = author_of(message)
    if author.id is not None:
        return author.id, author.name
    return str(message.chat.id), message.chat.effective_name


async def media_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Check a photo, video, animation, video note or document posted in a chat."""
    message = update.effective_message
    item = inbound_media(message) if message else None
    if message is None or item is None:
        return
    state = state_of(context)
    await state.flow.run(
        item,
        request=Request(kind=RequestKind.AUTO),
        conversation=MessageConversation(message),
        queued=state.settler(update),
        interrupted=state.keeper(update),
    )


async def check_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Check the replied-to media, or the media sent with /check as its caption."""
    message = update.effective_message
    if message is None:
        return
    reply = message.reply_to_message
    target = reply if has_media(reply) else message if has_media(message) else None
    item = inbound_media(target) if target is not None else None
    if target is None or item is None:
        await message.reply_text(CHECK_USAGE)
        return
    words = (message.text or message.caption or "").split()[1:]
    explain = any(w.lower() in EXPLAIN_WORDS for w in words)
    request = Request(kind=RequestKind.COMMAND, requested_by=_who(message)[0], explain=explain)
    state = state_of(context)
    await state.flow.run(
        item,
        request=request,
        conversation=MessageConversation(target, asker=message),
        queued=state.settler(update),
        interrupted=state.keeper(update),
    )


async def audit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Administrators: recent checks in this chat, with filters, and a CSV file of them."""
    message = update.effective_message
    if message is None:
        return
    if not await may(message, Action.AUDIT):
        await message.reply_text(refusal(Action.AUDIT))
        return
    try:
        query = parse_audit(context.args or [])
    except BadArguments as e:
        await message.reply_text(str(e))
        return
    moderation = state_of(context).backend.moderation
    chat_id = str(message.chat.id)
    replied = message.reply_to_message
    if query.author is None and query.author_username is None and replied is not None:
        # /audit as a reply to someone's message: that person's checks.
        who = author_of(replied)
        query = replace(query, author=who.id, author_username=who.username)
    elif query.author is None and query.author_username is not None:
        # Usernames are unique on Telegram at any time; display names are not.
        name = query.author_username
        found = await moderation.author_id(platform=PLATFORM, chat_id=chat_id, username=name)
        if found is None:
            await message.reply_text(UNKNOWN_USERNAME.format(name=name))
            return
        query = replace(query, author=found)
    entries, counts = await moderation.audit(platform=PLATFORM, chat_id=chat_id, query=query)
    await message.reply_text(
        formatting.audit_text(entries, query=query, counts=counts, limit=LIMIT)
    )
    if entries:
        data = await moderation.audit_csv(platform=PLATFORM, chat_id=chat_id, query=query)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        await message.reply_document(
            document=data,
            filename=f"fakewatch-audit-{stamp}.csv",
            caption=f"FakeWatch audit ({formatting.describe_query(query)})",
        )


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Administrators: show this chat's settings, or change one (/settings NAME VALUE)."""
    message = update.effective_message
    if message is None:
        return
    if not await may(message, Action.SETTINGS):
        await message.reply_text(refusal(Action.SETTINGS))
        return
    try:
        changes = parse_settings(context.args or [])
    except BadArguments as e:
        await message.reply_text(str(e))
        return
    state, chat_id = state_of(context), str(message.chat.id)
    if changes:
        who, name = _who(message)
        policy = await state.backend.moderation.update_policy(
            platform=PLATFORM, chat_id=chat_id, changes=changes, updated_by=f"{name} ({who})"
        )
    else:
        policy = await state.backend.chats.policy(platform=PLATFORM, chat_id=chat_id)
    await message.reply_text(formatting.settings_text(policy, limit=LIMIT))


async def verdict_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Administrators: override a check's verdict (/verdict CHECK real|fake [note])."""
    message = update.effective_message
    if message is None:
        return
    if not await may(message, Action.VERDICT):
        await message.reply_text(refusal(Action.VERDICT))
        return
    try:
        override = parse_verdict(context.args or [])
    except BadArguments as e:
        await message.reply_text(str(e))
        return
    who, name = _who(message)
    try:
        await state_of(context).backend.moderation.add_review(
            platform=PLATFORM,
            chat_id=str(message.chat.id),
            check_id=override.check_id,
            moderator_id=who,
            moderator_name=name,
            decision=override.decision,
            note=override.note,
        )
    except UnknownCheck:
        await message.reply_text(f"There is no check {override.check_id} in this chat.")
        return
    await message.reply_text(
        f"📝 Check {override.check_id} marked {override.decision} by {name or who}."
        + (f" Note: {override.note}" if override.note else "")
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does and how to use it."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(HELP)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its traceback; the token is redacted from every log record."""
    where = ""
    if isinstance(update, Update) and update.effective_chat is not None:
        where = f" in chat {update.effective_chat.id} (update {update.update_id})"
    log.error("error while handling an update%s", where, exc_info=context.error)
