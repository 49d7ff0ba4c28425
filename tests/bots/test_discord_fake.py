"""The fake Discord against a plain discord.py client: what the bot tests stand on."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import discord
import pytest

from tests.bots.discord_fake import FakeDiscord
from tests.bots.discord_fixtures import fake_discord  # noqa: F401 (fixture)


@pytest.fixture
async def client(fake_discord: FakeDiscord) -> AsyncIterator[discord.Client]:  # noqa: F811
    """A connected ``discord.Client`` asking for the Message Content intent."""
    intents = discord.Intents.default()
    intents.message_content = True
    bot = discord.Client(intents=intents, guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(fake_discord.token))
    await asyncio.wait_for(bot.wait_until_ready(), 30)
    yield bot
    await bot.close()
    await task


async def test_ready_brings_the_guild_with_channels_roles_and_permissions(
    fake_discord: FakeDiscord,  # noqa: F811
    client: discord.Client,
) -> None:
    guild = client.get_guild(int(fake_discord.guild_id))
    assert guild is not None
    assert sorted(c.name for c in guild.text_channels) == ["general", "media", "mod-log"]
    roles = {r.name: r for r in guild.roles}
    assert roles["Moderators"].permissions.manage_messages
    assert not roles["@everyone"].permissions.manage_messages
    # Without the Server Members intent only the bot's own member comes with the guild.
    assert [m.id for m in guild.members] == [guild.me.id]
    assert guild.me.guild_permissions.manage_messages
    assert client.user is not None and client.user.id == int(fake_discord.application_id)
    identify = fake_discord.identify or {}
    assert identify["intents"] & discord.Intents(message_content=True).value


async def test_message_attachment_download_reply_and_reaction(
    fake_discord: FakeDiscord,  # noqa: F811
    client: discord.Client,
) -> None:
    received: asyncio.Queue[discord.Message] = asyncio.Queue()
    client.on_message = received.put  # type: ignore[attr-defined]
    blob = b"\x89PNG fake bytes"
    upload = fake_discord.upload(blob, "face.png", "image/png")
    await fake_discord.post_message(author="member", content="look", attachments=[upload])
    message = await asyncio.wait_for(received.get(), 30)
    assert message.content == "look"
    assert [(a.filename, a.size, a.content_type) for a in message.attachments] == [
        ("face.png", len(blob), "image/png")
    ]
    assert fake_discord.downloads[upload["id"]] == 0
    assert await message.attachments[0].read() == blob
    assert fake_discord.downloads[upload["id"]] == 1

    await message.add_reaction("🔎")
    reply = await message.reply("verdict", file=discord.File(__file__, filename="a.txt"))
    assert reply.reference is not None and reply.reference.message_id == message.id
    reaction = rf"/channels/\d+/messages/{message.id}/reactions/🔎/@me"
    assert len(fake_discord.requests("PUT", reaction)) == 1
    (post,) = fake_discord.requests("POST", r"/channels/\d+/messages")
    assert post.body["content"] == "verdict"
    assert post.body["message_reference"]["message_id"] == message.id
    assert [name for name, _, _ in post.files] == ["a.txt"]


async def test_reconnect_resumes_and_replays_missed_events(
    fake_discord: FakeDiscord,  # noqa: F811
    client: discord.Client,
) -> None:
    received: asyncio.Queue[discord.Message] = asyncio.Queue()
    client.on_message = received.put  # type: ignore[attr-defined]
    start = len(fake_discord.log)
    await fake_discord.request_reconnect()
    await fake_discord.wait_for(lambda r: r.method == "RESUME", start=start)
    await asyncio.wait_for(fake_discord.connected.wait(), 30)
    await fake_discord.post_message(author="owner", content="after resume")
    message = await asyncio.wait_for(received.get(), 30)
    assert message.content == "after resume"
    assert not [r for r in fake_discord.log[start:] if r.method == "IDENTIFY"]


async def test_message_content_intent_not_enabled_closes_with_4014(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bots.discord.endpoints import use_endpoints

    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    async with FakeDiscord(message_content_enabled=False) as fake:
        use_endpoints(api_base=fake.api_base, gateway=fake.gateway_url)
        intents = discord.Intents.default()
        intents.message_content = True
        bot = discord.Client(intents=intents)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(bot.start(fake.token), 30)
        assert not bot.is_ready()


async def test_wrong_token_is_refused(fake_discord: FakeDiscord) -> None:  # noqa: F811
    bot = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await bot.start("not-the-token")
    await bot.close()
    assert fake_discord.requests("GET", re.escape("/users/@me"))
