"""Posts in a channel where the bot is an administrator: checked, answered in the channel,
commanded from it, and as safe across a restart as a group's messages."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Message

from base.settings import Settings
from bench import samples
from bots.core import formatting
from bots.core.services import BotServices
from bots.telegram.media import author_of
from tests.bots.telegram.conftest import WorkerRunner
from tests.bots.telegram.helpers import (
    bot,
    check_id_in,
    methods,
    status_of,
    stored,
    stored_count,
    verdict_of,
)
from tests.bots.telegram_fake import (
    CHANNEL,
    Call,
    FakeTelegram,
    channel_post,
    command,
    edited,
    photo_sizes,
)
from tests.reliability.harness import distinct_jpeg

JPEG = samples.encode_image(samples.astronaut())
EYES = [{"type": "emoji", "emoji": "👀"}]


async def confirmed(fake: FakeTelegram, update: dict[str, Any], timeout: float = 30.0) -> None:
    """Wait until the bot has confirmed ``update`` to Telegram."""
    deadline = asyncio.get_running_loop().time() + timeout
    while update["update_id"] in fake.unconfirmed():
        assert asyncio.get_running_loop().time() < deadline, "the update was never confirmed"
        await asyncio.sleep(0.05)


async def post_command(fake: FakeTelegram, text: str) -> Call:
    """Post a command in the channel; the bot's answer to it."""
    post = channel_post(fake, **command(text))
    fake.push("channel_post", post)
    return await fake.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and (c.params.get("reply_parameters") or {}).get("message_id") == post["message_id"]
        )
    )


async def test_a_channel_photo_gets_its_verdict_in_the_channel_and_an_edit_is_not_rechecked(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner
) -> None:
    async with bot(settings):
        start = len(fake.calls)
        post = channel_post(fake, photo=photo_sizes(fake, JPEG), caption="breaking")
        fake.push("channel_post", post)
        verdict = await verdict_of(fake, post)
        assert methods(fake.calls[start:]) == [
            "getUpdates",
            "sendMessage",
            "getFile",
            "GET file",
            "editMessageText",
        ]
        status = await status_of(fake, post)
        assert status.params["chat_id"] == verdict.params["chat_id"] == CHANNEL["id"]
        check = await stored(settings, check_id_in(verdict))
        assert (check.chat_id, check.message_id, check.request_kind) == (
            str(CHANNEL["id"]),
            str(post["message_id"]),
            "auto",
        )
        # The author is the channel itself (a channel post has no user).
        assert (check.author_id, check.author_name) == (str(CHANNEL["id"]), "FakeWatch News")
        assert check.reply_to is not None
        assert check.reply_to["author_username"] == "fakewatchnews"
        assert check.replied_at is not None

        # The caption edited: Telegram sends the post again, and it is not checked again.
        start = len(fake.calls)
        again = fake.push("edited_channel_post", edited(post, caption="breaking (updated)"))
        await confirmed(fake, again)
        assert methods(fake.calls[start:]) == ["getUpdates"]
    assert await stored_count(settings) == 1


async def test_settings_and_audit_in_a_channel_are_obeyed_without_asking_who_posted(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner
) -> None:
    async with bot(settings):
        shown = await post_command(fake, "/settings action react")
        assert shown.params["chat_id"] == CHANNEL["id"]
        assert "action: react" in shown.params["text"]

        # Quiet mode in the channel: 👀, then the verdict's emoji; no text at all.
        start = len(fake.calls)
        quiet = channel_post(fake, photo=photo_sizes(fake, JPEG))
        fake.push("channel_post", quiet)
        final = await fake.wait_for(
            lambda c: (
                c.method == "setMessageReaction"
                and c.params["message_id"] == quiet["message_id"]
                and c.params.get("reaction") != EYES
            ),
            start=start,
        )
        assert final.params["chat_id"] == CHANNEL["id"]
        assert final.params["reaction"][0]["emoji"] in ("👎", "👍", "🤔")
        assert not fake.sent("sendMessage", "editMessageText")[1:]  # only the settings

        off = await post_command(fake, "/settings auto off")
        assert "auto: off" in off.params["text"]
        start = len(fake.calls)
        unchecked = fake.push("channel_post", channel_post(fake, photo=photo_sizes(fake, JPEG)))
        await confirmed(fake, unchecked)
        assert methods(fake.calls[start:]) == ["getUpdates"]

        listing = await post_command(fake, "/audit")
        assert listing.params["text"].startswith("🧾 Last 1 checks here (no filter)")
        assert "FakeWatch News image" in listing.params["text"]
        await fake.wait_for(lambda c: c.method == "sendDocument")
    # Only administrators can post in a channel: nobody to look up.
    assert not fake.sent("getChatMember")


async def test_a_channel_post_is_confirmed_once_stored_and_answered_after_a_restart(
    fake: FakeTelegram, settings: Settings
) -> None:
    """No worker at first: the bot stops while the check waits in the queue."""
    post = channel_post(fake, photo=photo_sizes(fake, distinct_jpeg(5)))
    async with bot(settings):
        fake.downloads.clear()  # the download hangs: nothing is stored yet
        update = fake.push("channel_post", post)
        status = await status_of(fake, post)
        await fake.wait_for(lambda c: c.method == "GET file")
        await asyncio.sleep(0.5)  # a poller confirming at once would have by now
        assert update["update_id"] in fake.unconfirmed()
        assert await stored_count(settings) == 0
        fake.downloads.set()
        await confirmed(fake, update)
        assert await stored_count(settings) == 1  # confirmed, so stored
    assert not fake.sent("editMessageText")

    runner = WorkerRunner(settings)
    await runner.start()
    try:
        services = await BotServices.connect(settings, migrate=False)
        try:
            done = await services.queue.wait(1, timeout=120)
        finally:
            await services.close()
        assert done is not None and done.status == "done"
        start = len(fake.calls)
        async with bot(settings):
            edit = await fake.wait_for(lambda c: c.method == "editMessageText", start=start)
        assert (edit.params["chat_id"], edit.params["message_id"]) == (
            CHANNEL["id"],
            status.result["message_id"],
        )
        assert "check 1" in edit.params["text"]
        assert (await stored(settings, 1)).replied_at is not None
        assert await stored_count(settings) == 1  # not handed out again, not checked twice
        working = [c for c in fake.sent("sendMessage") if c.params["text"] == formatting.WORKING]
        assert len(working) == 1
    finally:
        await runner.stop()


def test_a_post_made_as_a_chat_is_by_that_chat_not_its_placeholder_user() -> None:
    # A channel post's automatic copy in the channel's discussion group: Telegram adds the
    # placeholder user @Channel_Bot, shared by every channel, for old clients.
    copy = Message.de_json(
        {
            "message_id": 77,
            "date": 0,
            "chat": {"id": -1005550001, "type": "supergroup", "title": "News chat"},
            "from": {
                "id": 136817688,
                "is_bot": True,
                "first_name": "Channel",
                "username": "Channel_Bot",
            },
            "sender_chat": CHANNEL,
            "is_automatic_forward": True,
            "author_signature": "Jane",
        },
        None,
    )
    assert copy is not None
    author = author_of(copy)
    assert (author.id, author.name, author.username) == (
        str(CHANNEL["id"]),
        "FakeWatch News (Jane)",
        "fakewatchnews",
    )
