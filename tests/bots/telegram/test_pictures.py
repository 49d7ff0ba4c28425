"""Verdict pictures in Telegram: the real python-telegram-bot against the fake Bot API server.

A real worker with the shipped weights (``default``: the Lite0 model, whose verdicts carry a
manipulation map) judges the media; the chat's fake threshold is set to 0 so every judged
verdict is ``fake`` whatever the model says of a synthetic face. What the fake Telegram
received is asserted on, and the photos it was sent are written to ``artifacts/bots/``
(git-ignored) for people to look at.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from base.settings import Settings
from bench import samples
from bots.core import formatting
from bots.core.services import BotServices
from queue_worker.records import check_result
from tests.bots.telegram.conftest import WorkerRunner
from tests.bots.telegram.helpers import bot, check_id_in, status_of, stored, verdict_of
from tests.bots.telegram_fake import (
    GROUP,
    Call,
    FakeTelegram,
    command,
    message,
    photo_sizes,
    user,
    video,
)

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "bots"
ALICE = user(7001, "Alice", "alice")
BOB = user(7002, "Bob")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The conftest's settings with the shipped weights (they make maps) and 8 frames."""
    return settings.model_copy(update={"weights": "default", "frames": 8})


async def set_policy(settings: Settings, **changes: Any) -> None:
    """Change the test group's settings, as an administrator's /settings would."""
    services = await BotServices.connect(settings, migrate=False)
    try:
        await services.moderation.update_policy(
            platform="telegram", chat_id=str(GROUP["id"]), changes=changes, updated_by="test"
        )
    finally:
        await services.close()


async def photo_reply_to(fake: FakeTelegram, msg: dict[str, Any], start: int) -> Call:
    """The ``sendPhoto`` answering ``msg`` (from call ``start`` on)."""
    return await fake.wait_for(
        lambda c: (
            c.method == "sendPhoto"
            and (c.params.get("reply_parameters") or {}).get("message_id") == msg["message_id"]
        ),
        start=start,
        timeout=120,
    )


def keep(call: Call, name: str) -> Image.Image:
    """The photo the bot sent, written to ``artifacts/bots/NAME`` and opened."""
    data = call.files["photo"]
    assert data.startswith(b"\x89PNG") and len(data) < 10 * 1024 * 1024  # sendPhoto's limit
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)
    return Image.open(io.BytesIO(data))


async def expected_caption(settings: Settings, call: Call) -> str:
    """The verdict text of the check the caption names, as the text reply would have said it."""
    check = await stored(settings, int(call.params["caption"].rsplit("check ", 1)[1]))
    return formatting.verdict_text(check_result(check), limit=4096)


async def test_fake_video_gets_its_timeline_and_the_map_when_asked(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner, tmp_path: Path
) -> None:
    await set_policy(settings, fake_threshold=0.0)
    clip = samples.write_face_video(tmp_path / "clip.mp4", seconds=2.0, width=320, height=240)
    jpeg = samples.encode_image(samples.astronaut())

    async with bot(settings):
        # A video posted in the group: "analysing…", then a photo with the verdict as its
        # caption replying to the video, and the "analysing…" message deleted.
        start = len(fake.calls)
        posted = message(fake, chat=GROUP, sender=ALICE, video=video(fake, clip.read_bytes()))
        fake.push("message", posted)
        status_id = (await status_of(fake, posted, start)).result["message_id"]
        timeline = await photo_reply_to(fake, posted, start)
        deleted = await fake.wait_for(
            lambda c: c.method == "deleteMessage" and c.params["message_id"] == status_id,
            start=start,
        )
        caption = timeline.params["caption"]
        assert caption.startswith("⚠️ Likely a deepfake")
        assert caption == await expected_caption(settings, timeline)
        assert not [c for c in fake.sent("editMessageText") if c.params["message_id"] == status_id]
        assert fake.calls.index(deleted) > fake.calls.index(timeline)  # the verdict came first
        image = keep(timeline, "telegram-video-timeline.png")
        assert image.size == (800, 300)  # the timeline alone: no map unless asked

        # /check explain as a reply to the video: the same verdict (the bytes are known),
        # now with the manipulation map under the timeline.
        start = len(fake.calls)
        ask = message(
            fake, chat=GROUP, sender=BOB, reply_to_message=posted, **command("/check explain")
        )
        fake.push("message", ask)
        explained = await photo_reply_to(fake, posted, start)
        assert explained.params["caption"] == await expected_caption(settings, explained)
        both = keep(explained, "telegram-video-timeline-and-map.png")
        assert both.width == 800 and both.height > 300 + 200

        # A photo keeps the text reply (no timeline for a still picture)...
        start = len(fake.calls)
        photo = message(fake, chat=GROUP, sender=ALICE, photo=photo_sizes(fake, jpeg))
        fake.push("message", photo)
        as_text = await verdict_of(fake, photo, start)
        assert as_text.params["text"].startswith("⚠️ Likely a deepfake")
        assert len(fake.sent("sendPhoto")) == 2

        # ...unless the map is asked for: /check explain as a photo's caption.
        start = len(fake.calls)
        asked = message(
            fake, chat=GROUP, sender=BOB, photo=photo_sizes(fake, jpeg), caption="/check explain"
        )
        fake.push("message", asked)
        mapped = await photo_reply_to(fake, asked, start)
        assert mapped.params["caption"] == await expected_caption(settings, mapped)
        only_map = keep(mapped, "telegram-photo-map.png")
        assert only_map.width == 800 and 200 < only_map.height < 300 + 200
        check = await stored(settings, check_id_in(as_text))
        assert check.details is not None and check.details["explanation"] is not None
        assert check.media_path is None  # retention 0: nothing of the photo was kept


async def test_real_video_keeps_text_and_a_refused_photo_falls_back_to_text(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner, tmp_path: Path
) -> None:
    first = samples.write_face_video(tmp_path / "a.mp4", seconds=1.0, width=320, height=240)
    second = samples.write_face_video(tmp_path / "b.mp4", seconds=1.5, width=320, height=240)
    async with bot(settings):
        # Everything is "real" under a real threshold of 1: the text reply, as ever.
        await set_policy(settings, real_threshold=1.0)
        start = len(fake.calls)
        real = message(fake, chat=GROUP, sender=ALICE, video=video(fake, first.read_bytes()))
        fake.push("message", real)
        said = await verdict_of(fake, real, start)
        assert said.params["text"].startswith("✅ No sign of face manipulation")
        assert not fake.sent("sendPhoto")

        # A fake verdict in a chat that refuses the photo: the verdict still arrives, as text.
        await set_policy(settings, real_threshold=None, fake_threshold=0.0)
        fake.refuse_photos = "Bad Request: not enough rights to send photos to the chat"
        start = len(fake.calls)
        posted = message(fake, chat=GROUP, sender=ALICE, video=video(fake, second.read_bytes()))
        fake.push("message", posted)
        fallback = await verdict_of(fake, posted, start)
        refused = fake.sent("sendPhoto")
        assert len(refused) == 1 and refused[0].result == 400
        assert fallback.params["text"].startswith("⚠️ Likely a deepfake")
        check = await stored(settings, check_id_in(fallback))
        for _ in range(100):  # marked replied just after Telegram took the text
            if check.replied_at is not None:
                break
            await asyncio.sleep(0.05)
            check = await stored(settings, check_id_in(fallback))
        assert check.replied_at is not None
