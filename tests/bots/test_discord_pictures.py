"""Verdict pictures in Discord: the real discord.py client against the fake Discord.

A ``fakewatch worker`` process with the shipped weights (``default``: the Lite0 model, whose
verdicts carry a manipulation map) judges the media; the server's fake threshold is 0, so
every judged verdict is ``fake`` whatever the model says of a synthetic face. The pictures
the fake Discord received are written to ``artifacts/bots/`` (git-ignored) for people to see.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bench import samples
from bots.core import formatting
from bots.discord.replies import LIMIT, WORKING_REACTION
from db.chat_settings import update_chat_settings
from queue_worker.client import QueueClient
from tests.bots.discord_fake import FakeDiscord, Received
from tests.bots.discord_fixtures import fake_discord  # noqa: F401 (fixture)
from tests.bots.discord_service import (  # noqa: F401 (fixture)
    MAX_MEDIA_BYTES,
    Service,
    queue,
    running_bot,
    worker_process,
)
from tests.bots.test_discord_bot import VERDICT_TIMEOUT_S, check_id_in, replied, rest
from tests.services import REDIS_URL, delete_queue_keys, redis_reachable

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "bots"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A store, a queue and a ``fakewatch worker`` with the shipped weights, 8 frames a clip."""
    reason = redis_reachable()
    if reason is not None:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {reason}")
    from db.schema import upgrade_database

    folder = tmp_path_factory.mktemp("discord-pictures")
    queue_name = f"fw-test-discord-pictures-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": f"sqlite:///{folder / 'fakewatch.sqlite3'}",
        "FAKEWATCH_QUEUE": queue_name,
        "FAKEWATCH_DATA_DIR": str(folder),
        "FAKEWATCH_WEIGHTS": "default",
        "FAKEWATCH_FRAMES": "8",
        "FAKEWATCH_DEVICE": "cpu",
        "FAKEWATCH_MAX_MEDIA_BYTES": str(MAX_MEDIA_BYTES),
    }
    upgrade_database(env["DATABASE_URL"])
    service = Service(env=env, worker_log=folder / "worker.log")
    try:
        with worker_process(env, log=service.worker_log):
            yield service
    finally:
        delete_queue_keys(queue_name)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A two-second clip of a moving face."""
    path = tmp_path_factory.mktemp("discord-clip") / "clip.mp4"
    return samples.write_face_video(path, seconds=2.0, width=320, height=240).read_bytes()


async def fake_from_zero(queue: QueueClient, guild_id: str) -> None:  # noqa: F811
    """The server's settings: every judged verdict is fake (as ``/fakewatch settings`` sets)."""
    async with queue.sessions() as session:
        await update_chat_settings(
            session, platform="discord", chat_id=guild_id, updated_by="test", fake_threshold=0.0
        )


def pictured(call: Received, name: str) -> tuple[dict[str, Any], Image.Image]:
    """The message's one embed and its image, which must be the attached PNG (kept in
    ``artifacts/bots/NAME``)."""
    [embed] = call.body["embeds"]
    [(filename, _, data)] = call.files
    assert embed["image"]["url"] == f"attachment://{filename}" and data.startswith(b"\x89PNG")
    assert len(embed["title"]) <= 256 and len(data) < 10 * 1024 * 1024
    [attachment] = call.body["attachments"]
    assert attachment["filename"] == filename and attachment["description"] == embed["title"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)
    return embed, Image.open(io.BytesIO(data))


async def verdict(queue: QueueClient, text: str) -> str:  # noqa: F811
    """What the text reply would have said about the check ``text`` names."""
    outcome = await queue.get(check_id_in(text))
    return formatting.verdict_text(outcome, limit=LIMIT)


async def test_fake_video_reply_embeds_its_timeline(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,
    queue: QueueClient,  # noqa: F811
    clip: bytes,
) -> None:
    fake = fake_discord
    await fake_from_zero(queue, fake.guild_id)
    channel = fake.channel_id("general")
    async with running_bot(fake, queue, service.settings(fake)):
        start = len(fake.log)
        upload = fake.upload(clip, "clip.mp4", "video/mp4")
        message = await fake.post_message(author="member", attachments=[upload])
        posted = await fake.wait_for(
            rest("POST", f"/channels/{channel}/messages"), start=start, timeout=VERDICT_TIMEOUT_S
        )
        reaction = f"/channels/{channel}/messages/{message['id']}/reactions/{WORKING_REACTION}/@me"
        await fake.wait_for(rest("DELETE", reaction), start=start)
        await replied(queue, check_id_in(posted.body["content"]))

    # One reply to the video: the verdict as its text, the timeline as its embed's image.
    assert str(posted.body["message_reference"]["message_id"]) == message["id"]
    assert posted.body["content"].startswith("⚠️ Likely a deepfake")
    assert posted.body["content"] == await verdict(queue, posted.body["content"])
    embed, image = pictured(posted, "discord-video-timeline.png")
    assert image.size == (800, 300) and "each sampled frame" in embed["title"]
    # What the channel shows: the embed's image is the message's own attachment.
    shown = next(m for m in fake.messages.values() if m.get("message_reference"))
    assert shown["embeds"][0]["image"]["url"] == shown["attachments"][0]["url"]


async def test_check_explain_answers_with_timeline_and_map(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,
    queue: QueueClient,  # noqa: F811
    clip: bytes,
) -> None:
    fake = fake_discord
    await fake_from_zero(queue, fake.guild_id)
    async with running_bot(fake, queue, service.settings(fake)):
        synced = {c["name"]: c for c in fake.commands[None]}
        start = len(fake.log)
        upload = fake.upload(clip, "clip.mp4", "video/mp4")
        interaction = await fake.slash_command(
            "check",
            options=[
                {"type": 11, "name": "media", "value": upload["id"]},
                {"type": 5, "name": "explain", "value": True},
            ],
            attachments=[upload],
        )
        hook = f"/webhooks/{fake.application_id}/{interaction['token']}/messages/\\d+"
        edited = await fake.wait_for(rest("PATCH", hook), start=start, timeout=VERDICT_TIMEOUT_S)
        await replied(queue, check_id_in(edited.body["content"]))

    assert [o["name"] for o in synced["check"]["options"]] == ["media", "explain"]
    # The ephemeral answer: the verdict, with the timeline above the manipulation map.
    assert edited.body["content"] == await verdict(queue, edited.body["content"])
    embed, image = pictured(edited, "discord-check-explain.png")
    assert image.width == 800 and image.height > 300 + 200
    assert "where on the face" in embed["title"]
    assert not fake.requests("POST", r"/channels/\d+/messages", start=start)


async def test_without_attach_files_the_verdict_goes_as_text(
    fake_discord: FakeDiscord,  # noqa: F811
    service: Service,
    queue: QueueClient,  # noqa: F811
    clip: bytes,
) -> None:
    fake = fake_discord
    await fake_from_zero(queue, fake.guild_id)
    fake.attach_files = False
    channel = fake.channel_id("general")
    async with running_bot(fake, queue, service.settings(fake)):
        start = len(fake.log)
        upload = fake.upload(clip, "clip.mp4", "video/mp4")
        message = await fake.post_message(author="member", attachments=[upload])
        posts = rest("POST", f"/channels/{channel}/messages")
        refused = await fake.wait_for(posts, start=start, timeout=VERDICT_TIMEOUT_S)
        text = await fake.wait_for(posts, start=fake.log.index(refused) + 1)
        await replied(queue, check_id_in(text.body["content"]))

    assert refused.files and refused.body["embeds"]  # tried with the picture: 403
    assert not text.files and not text.body.get("embeds")
    assert str(text.body["message_reference"]["message_id"]) == message["id"]
    assert text.body["content"] == await verdict(queue, text.body["content"])
