"""The Discord bot end to end: the real discord.py client against the fake Discord, with the real
queue (Redis), a real worker process (random weights) and the store.

Assertions are on what the fake Discord received and on the stored checks. Expected verdict
texts are computed from the stored check with the core's formatting, so they hold whatever the
untrained model says.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
import hashlib
import io
import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.core import formatting
from bots.core.permissions import Action, refusal
from bots.discord.bot import MESSAGE_CONTENT_WARNING, serve
from bots.discord.replies import LIMIT, WORKING_REACTION
from db.checks import create_check, get_check, update_reply_to
from db.models import Check
from db.reviews import reviews_of
from queue_worker.client import QueueClient
from tests.bots import discord_payloads as p
from tests.bots.discord_fake import FakeDiscord, Received
from tests.bots.discord_fixtures import fake_discord  # noqa: F401 (fixture)
from tests.bots.discord_service import (  # noqa: F401 (fixtures)
    MAX_MEDIA_BYTES,
    Service,
    queue,
    running_bot,
    service,
)

VERDICT_TIMEOUT_S = 180.0  # the first check waits for the worker to load the model


@functools.cache
def face_image(fmt: str = "JPEG") -> bytes:
    """The astronaut photo (one real face), encoded."""
    from bench import samples

    return samples.encode_image(samples.astronaut(), fmt)


def rest(method: str, pattern: str) -> Callable[[Received], bool]:
    """Matches a REST call by method and path (a regular expression, URL-decoded)."""
    rx = re.compile(pattern)
    return lambda r: r.kind == "rest" and r.method == method and bool(rx.fullmatch(unquote(r.path)))


def check_id_in(text: str) -> int:
    """The check number a verdict mentions."""
    match = re.search(r"check (\d+)", text)
    assert match, f"no check id in {text!r}"
    return int(match.group(1))


async def stored(queue: QueueClient, check_id: int) -> Check:  # noqa: F811
    """The check row as stored now."""
    async with queue.sessions() as session:
        check = await get_check(session, check_id=check_id)
    assert check is not None
    return check


async def replied(queue: QueueClient, check_id: int, timeout: float = 30.0) -> Check:  # noqa: F811
    """The check once the bot has marked it replied."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (check := await stored(queue, check_id)).replied_at is None:
        assert asyncio.get_running_loop().time() < deadline, f"check {check_id} never replied"
        await asyncio.sleep(0.05)
    return check


async def expected_verdict(queue: QueueClient, check_id: int) -> str:  # noqa: F811
    """What the bot should say about a finished check under default settings."""
    outcome = await queue.get(check_id)
    return formatting.verdict_text(outcome, limit=LIMIT)


class Transcript:
    """Collects what the fake received per scenario; written for the report."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, title: str, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(f"=== {title} ===\n{text}\n\n")


@pytest.fixture(scope="module")
def transcript(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transcript]:
    """Scenario transcripts, also copied to ``$FAKEWATCH_DISCORD_TRANSCRIPT`` when set."""
    path = tmp_path_factory.mktemp("discord-transcript") / "transcript.txt"
    yield Transcript(path)
    target = os.environ.get("FAKEWATCH_DISCORD_TRANSCRIPT")
    if target and path.exists():
        Path(target).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")


async def test_message_with_an_image_gets_a_verdict_reply(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
    transcript: Transcript,
) -> None:
    fake = fake_discord
    channel = fake.channel_id("general")
    async with running_bot(fake, queue, service.settings(fake)):
        start = len(fake.log)
        upload = fake.upload(face_image(), "face.jpg", "image/jpeg", width=512, height=512)
        message = await fake.post_message(author="member", content="real?", attachments=[upload])
        posted = await fake.wait_for(
            rest("POST", f"/channels/{channel}/messages"), start=start, timeout=VERDICT_TIMEOUT_S
        )
        reaction = f"/channels/{channel}/messages/{message['id']}/reactions/{WORKING_REACTION}/@me"
        removed = await fake.wait_for(rest("DELETE", reaction), start=start)
        transcript.add("message with an image (automatic check)", fake.transcript(start))

    assert str(posted.body["message_reference"]["message_id"]) == message["id"]
    check_id = check_id_in(posted.body["content"])
    assert posted.body["content"] == await expected_verdict(queue, check_id)
    # 🔎 while working, one download, the reply, then the 🔎 goes.
    added = fake.log.index(fake.requests("PUT", re.escape(reaction), start=start)[0])
    downloaded = next(i for i, r in enumerate(fake.log) if r.kind == "download")
    assert added < downloaded < fake.log.index(posted) < fake.log.index(removed)
    assert fake.downloads[upload["id"]] == 1
    check = await stored(queue, check_id)
    assert (check.platform, check.chat_id, check.message_id) == (
        "discord",
        f"{fake.guild_id}:{channel}",
        message["id"],
    )
    assert (check.author_id, check.request_kind, check.file_name, check.byte_size) == (
        fake.users["member"]["id"],
        "auto",
        "face.jpg",
        len(face_image()),
    )
    assert check.status == "done" and check.replied_at is not None


async def test_check_command_answers_only_the_asker(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
    transcript: Transcript,
) -> None:
    fake = fake_discord
    async with running_bot(fake, queue, service.settings(fake)):
        synced = {c["name"]: c for c in fake.commands[None]}
        start = len(fake.log)
        upload = fake.upload(face_image("PNG"), "face.png", "image/png")
        interaction = await fake.slash_command(
            "check",
            user="member",
            options=[{"type": 11, "name": "media", "value": upload["id"]}],
            attachments=[upload],
        )
        iid, token = interaction["id"], interaction["token"]
        callback = await fake.wait_for(rest("POST", f"/interactions/{iid}/{token}/callback"))
        hook = f"/webhooks/{fake.application_id}/{token}/messages/\\d+"
        edited = await fake.wait_for(rest("PATCH", hook), start=start, timeout=VERDICT_TIMEOUT_S)
        # The bot marks the check replied just after Discord took the answer: let it,
        # before the bot is closed (on a loaded machine that takes a moment).
        await replied(queue, check_id_in(edited.body["content"]))
        transcript.add("/check with an attachment", fake.transcript(start))

    assert synced["check"]["options"][0]["type"] == 11  # an attachment option
    assert callback.body == {"type": 5, "data": {"flags": 64}}  # thinking, ephemeral
    check_id = check_id_in(edited.body["content"])
    assert edited.body["content"] == await expected_verdict(queue, check_id)
    # Nothing was posted in the channel: the answer is the asker's alone.
    assert not fake.requests("POST", r"/channels/\d+/messages", start=start)
    check = await stored(queue, check_id)
    assert (check.request_kind, check.requested_by, check.message_id) == (
        "command",
        fake.users["member"]["id"],
        iid,
    )
    assert check.replied_at is not None


async def test_context_menu_checks_a_message_in_a_channel_without_auto_checks(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
) -> None:
    fake = fake_discord
    media, general = fake.channel_id("media"), fake.channel_id("general")
    async with running_bot(fake, queue, service.settings(fake)) as bot:
        # An admin turns automatic checks off in #media only.
        options = [
            {"type": 3, "name": "scope", "value": "channel"},
            {"type": 5, "name": "auto", "value": False},
        ]
        setting = await fake.slash_command(
            "fakewatch settings", user="owner", channel="media", options=options
        )
        answer = await fake.wait_for(
            rest("POST", f"/interactions/{setting['id']}/{setting['token']}/callback")
        )
        # A member may not.
        tried = await fake.slash_command(
            "fakewatch settings", user="member", channel="general", options=options[1:]
        )
        denied = await fake.wait_for(
            rest("POST", f"/interactions/{tried['id']}/{tried['token']}/callback")
        )
        synced = {c["name"]: c for c in fake.commands[None]}
        upload = fake.upload(face_image(), "shared.jpg", "image/jpeg")
        target = await fake.post_message(author="member", channel="media", attachments=[upload])
        start = len(fake.log)
        menu = await fake.message_command(
            "Check for deepfake", target=target, user="moderator", channel="media"
        )
        hook = f"/webhooks/{fake.application_id}/{menu['token']}/messages/\\d+"
        edited = await fake.wait_for(rest("PATCH", hook), start=start, timeout=VERDICT_TIMEOUT_S)
        policy_media = await bot.store.policy(
            platform="discord", chat_id=f"{fake.guild_id}:{media}"
        )
        policy_general = await bot.store.policy(
            platform="discord", chat_id=f"{fake.guild_id}:{general}"
        )

    assert answer.body["type"] == 4 and answer.body["data"]["flags"] == 64
    assert "auto: off" in answer.body["data"]["content"]
    assert not policy_media.auto_check and policy_general.auto_check
    assert denied.body["data"]["content"] == refusal(Action.SETTINGS)
    assert int(synced["fakewatch"]["default_member_permissions"]) == p.MANAGE_GUILD
    # The post itself was not checked (no 🔎, no reply in the channel).
    assert not fake.requests("PUT", rf"/channels/{media}/messages/{target['id']}/reactions/.*")
    assert not fake.requests("POST", rf"/channels/{media}/messages")
    check_id = check_id_in(edited.body["content"])
    assert edited.body["content"] == await expected_verdict(queue, check_id)
    check = await stored(queue, check_id)
    assert (check.message_id, check.author_id, check.requested_by, check.request_kind) == (
        target["id"],
        fake.users["member"]["id"],
        fake.users["moderator"]["id"],
        "command",
    )
    assert fake.downloads[upload["id"]] == 1


async def test_audit_is_for_moderators_and_comes_with_a_csv(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
    transcript: Transcript,
) -> None:
    fake = fake_discord
    general = fake.channel_id("general")
    async with running_bot(fake, queue, service.settings(fake)):
        upload = fake.upload(face_image(), "audited.jpg", "image/jpeg")
        message = await fake.post_message(author="member", attachments=[upload])
        posted = await fake.wait_for(
            rest("POST", f"/channels/{general}/messages"), timeout=VERDICT_TIMEOUT_S
        )
        check_id = check_id_in(posted.body["content"])
        reaction = f"/channels/{general}/messages/{message['id']}/reactions/.*"
        await fake.wait_for(rest("DELETE", reaction))

        start = len(fake.log)
        denied = await fake.slash_command("audit", user="member")
        refused = await fake.wait_for(
            rest("POST", f"/interactions/{denied['id']}/{denied['token']}/callback")
        )
        mark = len(fake.log)
        options = [{"type": 3, "name": "scope", "value": "server"}]
        audit = await fake.slash_command("audit", user="moderator", options=options)
        followup = await fake.wait_for(
            rest("POST", f"/webhooks/{fake.application_id}/{audit['token']}"), start=mark
        )
        transcript.add("/audit by a moderator", fake.transcript(mark))
        transcript.add("/audit by a member (refused)", fake.transcript(start, mark))
        synced = {c["name"]: c for c in fake.commands[None]}

    assert int(synced["audit"]["default_member_permissions"]) == p.MANAGE_MESSAGES
    assert refused.body["type"] == 4  # answered at once, nothing looked up
    assert refused.body["data"]["content"] == refusal(Action.AUDIT)
    assert refused.body["data"]["flags"] == 64
    assert not fake.requests("POST", rf"/webhooks/\d+/{re.escape(denied['token'])}")
    assert f"[{check_id}]" in followup.body["content"]
    assert followup.body["flags"] == 64
    ((name, _, data),) = followup.files
    assert name.endswith(".csv")
    transcript.add("the CSV file sent with /audit", data.decode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    row = next(r for r in rows if r["id"] == str(check_id))
    assert (row["chat_id"], row["message_id"], row["author_id"]) == (
        f"{fake.guild_id}:{general}",
        message["id"],
        fake.users["member"]["id"],
    )


async def test_an_attachment_over_the_cap_is_refused_without_downloading(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
) -> None:
    fake = fake_discord
    general = fake.channel_id("general")
    size = MAX_MEDIA_BYTES + 1024 * 1024
    async with running_bot(fake, queue, service.settings(fake)):
        big = fake.upload(b"\x00" * size, "huge.mp4", "video/mp4")
        message = await fake.post_message(author="member", attachments=[big])
        posted = await fake.wait_for(rest("POST", f"/channels/{general}/messages"))
        interaction = await fake.slash_command(
            "check", options=[{"type": 11, "name": "media", "value": big["id"]}], attachments=[big]
        )
        answer = await fake.wait_for(
            rest("POST", f"/interactions/{interaction['id']}/{interaction['token']}/callback")
        )

    expected = formatting.too_large_text(size, MAX_MEDIA_BYTES, platform_limit=False, limit=LIMIT)
    assert posted.body["content"] == expected
    assert str(posted.body["message_reference"]["message_id"]) == message["id"]
    assert answer.body["data"]["content"] == expected and answer.body["data"]["flags"] == 64
    assert fake.downloads[big["id"]] == 0
    assert not [r for r in fake.log if r.kind == "download"]
    assert not fake.requests("PUT", r".*/reactions/.*")


async def test_a_restarted_bot_answers_checks_that_finished_while_it_was_down(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
) -> None:
    fake = fake_discord
    general = fake.channel_id("general")
    # The first bot queues where no worker listens yet: its checks cannot finish while it runs.
    later = f"{service.queue_name}-later"
    held = await QueueClient.connect(service.settings(queue_name=later), migrate=False)
    try:
        async with running_bot(fake, held, service.settings(fake, queue_name=later)):
            upload = fake.upload(face_image("WEBP"), "late.webp", "image/webp")
            message = await fake.post_message(author="member", attachments=[upload])
            command_upload = fake.upload(face_image("BMP"), "late.bmp", "image/bmp")
            option = [{"type": 11, "name": "media", "value": command_upload["id"]}]
            interaction = await fake.slash_command(
                "check", options=option, attachments=[command_upload]
            )
            expiring = await fake.slash_command(
                "check", user="owner", options=option, attachments=[command_upload]
            )
            checks = await wait_for_checks(queue, fake, count=3)
    finally:
        await held.close()
    by_message = {(await stored(queue, c)).message_id: c for c in checks}
    # The owner's interaction outlives Discord's 15 minutes while the bot is down.
    old = await stored(queue, by_message[expiring["id"]])
    async with queue.sessions() as session:
        await update_reply_to(
            session, check_id=old.id, reply_to={**(old.reply_to or {}), "webhook_expires_at": 0}
        )
    with service.extra_worker(later):  # the worker comes, judges, goes
        for check_id in checks:
            await queue.wait(check_id, VERDICT_TIMEOUT_S)
    assert not fake.requests("POST", f"/channels/{general}/messages")

    start = len(fake.log)
    async with running_bot(fake, queue, service.settings(fake), recovery_interval=0.2):
        posted = await fake.wait_for(rest("POST", f"/channels/{general}/messages"), start=start)
        hook = f"/webhooks/{fake.application_id}/{interaction['token']}/messages/\\d+"
        edited = await fake.wait_for(rest("PATCH", hook), start=start)
        opened = await fake.wait_for(rest("POST", "/users/@me/channels"), start=start)
        dm = fake.dm_channels[fake.users["owner"]["id"]]["id"]
        direct = await fake.wait_for(rest("POST", f"/channels/{dm}/messages"), start=start)

    assert str(posted.body["message_reference"]["message_id"]) == message["id"]
    assert posted.body["content"] == await expected_verdict(queue, by_message[message["id"]])
    assert edited.body["content"] == await expected_verdict(queue, by_message[interaction["id"]])
    # The expired one goes to the owner by direct message, not through the dead webhook.
    assert opened.body == {"recipient_id": int(fake.users["owner"]["id"])}
    late = await expected_verdict(queue, by_message[expiring["id"]])
    assert direct.body["content"] == f"Your FakeWatch check in <#{general}>:\n{late}"
    assert not fake.requests("PATCH", rf"/webhooks/\d+/{re.escape(expiring['token'])}/.*")
    for check_id in checks:
        assert (await stored(queue, check_id)).replied_at is not None


async def test_a_restarted_bot_checks_what_was_posted_while_it_was_away(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
) -> None:
    fake = fake_discord
    general = fake.channel_id("general")
    replies = rest("POST", f"/channels/{general}/messages")

    def answers_to(message: dict[str, Any]) -> list[str]:
        return [
            r.body["content"]
            for r in fake.log
            if replies(r)
            and str((r.body.get("message_reference") or {}).get("message_id")) == message["id"]
        ]

    async with running_bot(fake, queue, service.settings(fake)):
        upload = fake.upload(face_image(), "before.jpg", "image/jpeg")
        before = await fake.post_message(author="member", attachments=[upload])
        (first,) = await wait_for_checks(queue, fake, count=1)
        await replied(queue, first, timeout=VERDICT_TIMEOUT_S)
    # Posted while the bot is away: Discord never sends these to it.
    away = [
        await fake.post_message(
            author="member", attachments=[fake.upload(face_image(fmt), f"away.{fmt}", mime)]
        )
        for fmt, mime in [("PNG", "image/png"), ("WEBP", "image/webp")]
    ]
    # The bot was killed after storing this one's check and before queueing its job.
    data = face_image("GIF")
    killed = await fake.post_message(
        author="member", attachments=[fake.upload(data, "killed.gif", "image/gif")]
    )
    async with queue.sessions() as session:
        orphan = await create_check(
            session,
            platform="discord",
            chat_id=f"{fake.guild_id}:{general}",
            message_id=killed["id"],
            media_kind="image",
            sha256=hashlib.sha256(data).hexdigest(),
            byte_size=len(data),
            reply_to={
                "channel_id": general,
                "reaction": WORKING_REACTION,
                "chat_id": f"{fake.guild_id}:{general}",
                "message_id": killed["id"],
                "mode": "reply",
                "request": "auto",
            },
        )
        await session.commit()
    await fake.post_message(author="member", content="no attachment here")
    start = len(fake.log)
    async with running_bot(fake, queue, service.settings(fake)):
        checks = await wait_for_checks(queue, fake, count=4)
        for check_id in checks:
            await replied(queue, check_id, timeout=VERDICT_TIMEOUT_S)
    history = fake.requests("GET", f"/channels/{general}/messages", start=start)
    assert history and history[0].query["after"] == before["id"]
    assert len(checks) == 4
    for message in away:
        (answer,) = answers_to(message)
        assert answer == await expected_verdict(queue, check_id_in(answer))
    # Its job queued again under the stored check, judged once, answered once.
    (answer,) = answers_to(killed)
    assert check_id_in(answer) == orphan.id
    assert (await stored(queue, orphan.id)).status == "done"
    assert len(answers_to(before)) == 1  # answered once, before the restart

    # Nothing missed this time: a third start checks nothing again.
    start = len(fake.log)
    async with running_bot(fake, queue, service.settings(fake)):
        await fake.wait_for(rest("GET", f"/channels/{general}/messages"), start=start, timeout=30)
        await asyncio.sleep(1.0)
    assert len(await wait_for_checks(queue, fake, count=4)) == 4
    assert not fake.requests("POST", f"/channels/{general}/messages", start=start)


async def wait_for_checks(queue: QueueClient, fake: FakeDiscord, *, count: int) -> list[int]:  # noqa: F811
    """The ids of the first ``count`` checks stored for the fake's guild, once they exist."""
    from sqlalchemy import select

    async with asyncio.timeout(60):
        while True:
            async with queue.sessions() as session:
                ids = list(
                    await session.scalars(
                        select(Check.id).where(Check.chat_id.like(f"{fake.guild_id}:%"))
                    )
                )
            if len(ids) >= count:
                return ids
            await asyncio.sleep(0.05)


async def test_verdict_overrides_are_for_moderators_and_stay_in_their_server(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
) -> None:
    fake = fake_discord
    media = fake.channel_id("media")
    async with queue.sessions() as session:
        elsewhere = await create_check(
            session, platform="discord", chat_id="1:2", sha256="0" * 64, byte_size=1
        )
        await session.commit()
    async with running_bot(fake, queue, service.settings(fake)):
        upload = fake.upload(face_image(), "disputed.jpg", "image/jpeg")
        await fake.post_message(author="member", channel="media", attachments=[upload])
        posted = await fake.wait_for(
            rest("POST", f"/channels/{media}/messages"), timeout=VERDICT_TIMEOUT_S
        )
        check_id = check_id_in(posted.body["content"])

        async def verdict(user: str, check: int) -> str:
            options = [
                {"type": 4, "name": "check", "value": check},
                {"type": 3, "name": "decision", "value": "real"},
                {"type": 3, "name": "note", "value": "a known actor, not a fake"},
            ]
            used = await fake.slash_command(
                "verdict", user=user, channel="general", options=options
            )
            answer = await fake.wait_for(
                rest("POST", f"/interactions/{used['id']}/{used['token']}/callback")
            )
            assert answer.body["data"]["flags"] == 64
            return str(answer.body["data"]["content"])

        refused = await verdict("member", check_id)
        recorded = await verdict("moderator", check_id)
        foreign = await verdict("moderator", elsewhere.id)

    assert refused == refusal(Action.VERDICT)
    assert foreign == f"There is no check {elsewhere.id} in this server."
    assert f"check {check_id} is real" in recorded
    async with queue.sessions() as session:
        reviews = await reviews_of(session, check_id=check_id)
        assert not await reviews_of(session, check_id=elsewhere.id)
    assert [(r.moderator_id, r.decision, r.note) for r in reviews] == [
        (fake.users["moderator"]["id"], "real", "a known actor, not a fake")
    ]


async def test_without_the_message_content_intent_the_bot_warns_and_keeps_its_commands(
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # serve() points discord.py at the fake; monkeypatch puts Discord back afterwards.
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    caplog.set_level(logging.WARNING, logger="bots.discord.bot")
    async with FakeDiscord(message_content_enabled=False) as fake:
        running = asyncio.create_task(
            serve(service.settings(fake), queue=queue, handle_signals=False)
        )
        try:
            await asyncio.wait_for(fake.connected.wait(), 60)
            upload = fake.upload(face_image(), "hidden.jpg", "image/jpeg")
            interaction = await fake.slash_command(
                "check",
                options=[{"type": 11, "name": "media", "value": upload["id"]}],
                attachments=[upload],
            )
            hook = f"/webhooks/{fake.application_id}/{interaction['token']}/messages/\\d+"
            edited = await fake.wait_for(rest("PATCH", hook), timeout=VERDICT_TIMEOUT_S)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    identifies = [r.body for r in fake.log if r.method == "IDENTIFY"]
    # Refused once with the intent (4014), then connected without it.
    assert [bool(i["intents"] & p.INTENT_MESSAGE_CONTENT) for i in identifies] == [True, False]
    assert MESSAGE_CONTENT_WARNING in caplog.messages
    assert edited.body["content"] == await expected_verdict(
        queue, check_id_in(edited.body["content"])
    )


async def test_delete_and_report_removes_a_fake_and_tells_the_moderators(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,  # noqa: F811
    queue: QueueClient,  # noqa: F811
) -> None:
    fake = fake_discord
    general, modlog = fake.channel_id("general"), fake.channel_id("mod-log")
    async with running_bot(fake, queue, service.settings(fake)):
        options = [
            {"type": 10, "name": "fake_threshold", "value": 0.0},  # every face is a fake here
            {"type": 3, "name": "action", "value": "delete_and_report"},
            {"type": 7, "name": "mod_channel", "value": modlog},
        ]
        used = await fake.slash_command(
            "fakewatch settings", user="owner", options=options, channels=["mod-log"]
        )
        answer = await fake.wait_for(
            rest("POST", f"/interactions/{used['id']}/{used['token']}/callback")
        )
        upload = fake.upload(face_image(), "swapped.jpg", "image/jpeg")
        message = await fake.post_message(author="member", attachments=[upload])
        report = await fake.wait_for(
            rest("POST", f"/channels/{modlog}/messages"), timeout=VERDICT_TIMEOUT_S
        )

    assert "action: delete_and_report" in answer.body["data"]["content"]
    assert len(fake.requests("DELETE", f"/channels/{general}/messages/{message['id']}")) == 1
    assert message["id"] not in fake.messages
    (removal,) = fake.requests("POST", f"/channels/{general}/messages")
    assert "message_reference" not in removal.body  # the post is gone: nothing to reply to
    outcome = await queue.get(check_id_in(removal.body["content"]))
    author = fake.users["member"]["global_name"]
    assert removal.body["content"] == formatting.removal_text(
        outcome, author=author, reported=True, limit=LIMIT
    )
    assert report.body["content"] == formatting.report_text(
        outcome, chat="Fake Guild #general", author=author, deleted=True, limit=LIMIT
    )
