"""The real python-telegram-bot ``Application`` against the fake Bot API server.

Media goes through the real Redis, a real arq worker (random weights) and the
store; the assertions are on what the fake Telegram received. The requests of one
photo, one video and one /audit are written to ``TRANSCRIPT`` for the closing note.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from base.settings import Settings
from bench import samples
from bots.core import formatting
from bots.core.ports import AuditQuery
from bots.core.services import BotServices
from db.models import Check
from tests.bots.telegram.conftest import TOKEN, WorkerRunner
from tests.bots.telegram.helpers import bot, check_id_in, methods, status_of, stored, verdict_of
from tests.bots.telegram_fake import (
    GROUP,
    FakeTelegram,
    command,
    document,
    message,
    photo_sizes,
    private_chat,
    user,
    video,
)

TRANSCRIPT = Path("/tmp/fakewatch-telegram-transcript.txt")
ALICE = user(7001, "Alice", "alice")
BOB = user(7002, "Bob")
CAROL = user(7003, "Carol", "carol_admin")  # an administrator of GROUP
MB = 1024 * 1024


async def test_photo_video_document_check_and_audit(
    fake: FakeTelegram,
    settings: Settings,
    worker: WorkerRunner,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.members[(GROUP["id"], CAROL["id"])] = "administrator"
    jpeg = samples.encode_image(samples.astronaut())
    clip = samples.write_face_video(tmp_path / "clip.mp4", seconds=1.0, width=320, height=240)
    png = samples.encode_image(samples.no_face_images()["coffee"], "PNG")
    transcript: list[str] = []

    async with bot(settings):
        # A photo: "analysing…" reply, getFile of the largest size, download, verdict edit.
        start = len(fake.calls)
        sizes = photo_sizes(fake, jpeg)
        photo = message(fake, chat=GROUP, sender=ALICE, photo=sizes, caption="real?")
        fake.push("message", photo)
        photo_verdict = await verdict_of(fake, photo)
        calls = fake.calls[start:]
        transcript += ["# a photo posted in a group", fake.transcript(start)]
        assert methods(calls) == [
            "getUpdates",
            "sendMessage",
            "getFile",
            "GET file",
            "editMessageText",
        ]
        assert calls[2].params["file_id"] == sizes[-1]["file_id"]
        check = await stored(settings, check_id_in(photo_verdict))
        assert (check.platform, check.chat_id, check.message_id) == (
            "telegram",
            str(GROUP["id"]),
            str(photo["message_id"]),
        )
        assert (check.author_id, check.author_name, check.request_kind) == ("7001", "Alice", "auto")
        assert check.status == "done" and check.faces == 1 and check.replied_at is not None
        assert check.label in ("fake", "real", "inconclusive")
        assert photo_verdict.params["text"] == formatting.verdict_text(
            outcome_from(check), limit=4096
        )

        # A video.
        start = len(fake.calls)
        clip_msg = message(fake, chat=GROUP, sender=BOB, video=video(fake, clip.read_bytes()))
        fake.push("message", clip_msg)
        clip_verdict = await verdict_of(fake, clip_msg)
        transcript += ["# a video posted in a group", fake.transcript(start)]
        assert "GET file" in methods(fake.calls[start:])
        check = await stored(settings, check_id_in(clip_verdict))
        assert check.media_kind == "video" and check.frames == 4 and check.author_id == "7002"

        # An image document without a face.
        doc = message(
            fake,
            chat=GROUP,
            sender=ALICE,
            document=document(fake, png, name="coffee.png", mime_type="image/png"),
        )
        fake.push("message", doc)
        doc_verdict = await verdict_of(fake, doc)
        assert doc_verdict.params["text"].startswith("🙂 No face found")

        # /check as a reply to the photo: checked again on demand (same bytes: deduplicated).
        start = len(fake.calls)
        ask = message(fake, chat=GROUP, sender=BOB, reply_to_message=photo, **command("/check"))
        fake.push("message", ask)
        asked = await verdict_of(fake, photo, start)  # the answer replies to the photo itself
        command_check = await stored(settings, check_id_in(asked))
        assert (command_check.request_kind, command_check.requested_by) == ("command", "7002")
        assert command_check.deduplicated_from is not None

        # /audit by a member: refused after asking Telegram who they are.
        start = len(fake.calls)
        fake.push("message", message(fake, chat=GROUP, sender=BOB, **command("/audit")))
        refused = await fake.wait_for(
            lambda c: c.method == "sendMessage" and "moderators" in c.params["text"]
        )
        assert refused.params["text"] == "Only this chat's moderators can read the audit log."
        member_calls = fake.calls[start:]
        assert methods(member_calls) == ["getUpdates", "getChatMember", "sendMessage"]
        assert member_calls[1].params["user_id"] == BOB["id"]

        # /audit by an administrator: the list and a CSV file.
        start = len(fake.calls)
        fake.push("message", message(fake, chat=GROUP, sender=CAROL, **command("/audit 24h 20")))
        sent_csv = await fake.wait_for(lambda c: c.method == "sendDocument")
        transcript += ["# /audit 24h 20 by an administrator", fake.transcript(start)]
        audit_calls = fake.calls[start:]
        assert methods(audit_calls) == [
            "getUpdates",
            "getChatMember",
            "sendMessage",
            "sendDocument",
        ]
        listing = audit_calls[2].params["text"]
        assert listing.startswith("🧾 Last 4 checks here (since ")
        assert f"[{check_id_in(photo_verdict)}]" in listing and "Alice" in listing
        rows = list(csv.DictReader(io.StringIO(sent_csv.files["document"].decode())))
        assert sorted(int(r["id"]) for r in rows) == sorted(
            check_id_in(c) for c in (photo_verdict, clip_verdict, doc_verdict, asked)
        )
        # The export guards cells starting with "-" against spreadsheet formulas.
        assert {r["chat_id"].lstrip("'") for r in rows} == {str(GROUP["id"])}

    TRANSCRIPT.write_text("\n".join(transcript) + "\n")
    print(f"\ntranscript written to {TRANSCRIPT}:\n" + "\n".join(transcript))

    # The token is in every URL the bot called, yet in no log record and no stored row.
    assert "<redacted>" in caplog.text
    assert TOKEN not in caplog.text
    services = await BotServices.connect(settings, migrate=False)
    try:
        async with services.sessions() as session:
            for table in ("checks", "reviews", "chat_settings"):
                for row in await session.execute(text(f"SELECT * FROM {table}")):
                    assert TOKEN not in str(tuple(row)) and "/file/bot" not in str(tuple(row))
    finally:
        await services.close()


def outcome_from(check: Check) -> Any:
    """The outcome the bot was given for a stored check."""
    from queue_worker.records import check_result

    return check_result(check)


async def test_over_20_mb_is_explained_without_any_download(
    fake: FakeTelegram, settings: Settings
) -> None:
    # TELEGRAM_API_BASE here stands for a proxy of the public Bot API: its limit holds.
    # No worker: nothing may reach the queue.
    public = settings.model_copy(update={"telegram_local_server": False})
    async with bot(public):
        start = len(fake.calls)
        big = message(fake, chat=GROUP, sender=ALICE, video=video(fake, b"\0" * 1000, size=25 * MB))
        fake.push("message", big)
        told = await fake.wait_for(lambda c: c.method == "sendMessage", start=start)
        assert told.params["reply_parameters"]["message_id"] == big["message_id"]
        assert "25 MB" in told.params["text"] and "up to 20 MB" in told.params["text"]

        # A PDF posted in the group is none of FakeWatch's business; /check on it says why not.
        pdf_doc = document(fake, b"%PDF-1.7", name="minutes.pdf", mime_type="application/pdf")
        pdf = message(fake, chat=GROUP, sender=ALICE, document=pdf_doc)
        fake.push("message", pdf)
        ask = message(fake, chat=GROUP, sender=BOB, reply_to_message=pdf, **command("/check"))
        fake.push("message", ask)
        refused = await fake.wait_for(
            lambda c: c.method == "sendMessage" and "application/pdf" in c.params["text"],
            start=start,
        )
        assert refused.params["reply_parameters"]["message_id"] == ask["message_id"]

    assert not fake.sent("getFile", "GET file")
    assert [c.method for c in fake.calls[start:]].count("sendMessage") == 2
    services = await BotServices.connect(settings, migrate=False)
    try:
        async with services.sessions() as session:
            assert (await session.execute(text("SELECT count(*) FROM checks"))).scalar() == 0
    finally:
        await services.close()


async def test_a_local_bot_api_server_lifts_the_20_mb_limit(
    fake: FakeTelegram, settings: Settings
) -> None:
    fake.download_limit = None
    async with bot(settings):  # TELEGRAM_API_BASE set, TELEGRAM_LOCAL_SERVER unset
        big = message(fake, chat=GROUP, sender=ALICE, video=video(fake, b"\0" * 1000, size=25 * MB))
        fake.push("message", big)
        await status_of(fake, big)
        download = await fake.wait_for(lambda c: c.method == "GET file")
        assert download.params["path"].startswith("videos/")


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
async def test_a_restart_loses_no_verdict(fake: FakeTelegram, settings: Settings) -> None:
    """The bot goes down while a check waits in the queue; once back, it answers it."""
    jpeg = samples.encode_image(samples.astronaut())
    photo = message(fake, chat=GROUP, sender=ALICE, photo=photo_sizes(fake, jpeg))
    async with bot(settings):
        fake.push("message", photo)
        status = await status_of(fake, photo)
        await fake.wait_for(lambda c: c.method == "GET file")
        services = await BotServices.connect(settings, migrate=False)
        try:
            for _ in range(100):
                async with services.sessions() as session:
                    rows = (await session.execute(text("SELECT status FROM checks"))).all()
                if rows:
                    break
                await asyncio.sleep(0.05)
        finally:
            await services.close()
        assert [r[0] for r in rows] == ["queued"]
    assert not fake.sent("editMessageText")  # went down before the verdict

    runner = WorkerRunner(settings)
    await runner.start()
    try:
        services = await BotServices.connect(settings, migrate=False)
        try:
            done = await services.queue.wait(1, timeout=120)
        finally:
            await services.close()
        assert done is not None and done.status == "done"
        assert not fake.sent("editMessageText")  # nobody to answer while the bot is down

        start = len(fake.calls)
        async with bot(settings):
            edit = await fake.wait_for(lambda c: c.method == "editMessageText", start=start)
        assert edit.params["message_id"] == status.result["message_id"]
        assert edit.params["chat_id"] == GROUP["id"]
        assert "check 1" in edit.params["text"]
        check = await stored(settings, 1)
        assert check.replied_at is not None
        assert len(fake.sent("editMessageText")) == 1
    finally:
        await runner.stop()


async def test_settings_verdict_delete_and_report_and_private_check(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner
) -> None:
    fake.members[(GROUP["id"], CAROL["id"])] = "creator"
    mods = {"id": -1009999, "type": "supergroup", "title": "Moderators"}
    jpeg = samples.encode_image(samples.astronaut())
    async with bot(settings):
        # A member may not change settings; the creator may.
        start = len(fake.calls)
        fake.push("message", message(fake, chat=GROUP, sender=BOB, **command("/settings auto off")))
        no = await fake.wait_for(lambda c: c.method == "sendMessage", start=start)
        assert no.params["text"] == "Only this chat's moderators can change FakeWatch's settings."
        for words in ("fake 0", "action delete", f"modchannel {mods['id']}"):
            start = len(fake.calls)
            fake.push(
                "message", message(fake, chat=GROUP, sender=CAROL, **command(f"/settings {words}"))
            )
            shown = await fake.wait_for(lambda c: c.method == "sendMessage", start=start)
        assert "fake: 0 " in shown.params["text"]
        assert "action: delete_and_report" in shown.params["text"]
        start = len(fake.calls)
        fake.push("message", message(fake, chat=GROUP, sender=CAROL, **command("/settings fake 2")))
        bad = await fake.wait_for(lambda c: c.method == "sendMessage", start=start)
        assert "between 0 and 1" in bad.params["text"]

        # With every face "fake" (threshold 0), a photo is deleted and the moderators told.
        start = len(fake.calls)
        photo = message(fake, chat=GROUP, sender=ALICE, photo=photo_sizes(fake, jpeg))
        fake.push("message", photo)
        report = await fake.wait_for(
            lambda c: c.method == "sendMessage" and c.params["chat_id"] == mods["id"], start=start
        )
        deleted = fake.sent("deleteMessage")[-1]
        assert deleted.params == {"chat_id": GROUP["id"], "message_id": photo["message_id"]}
        removal = await verdict_of(fake, photo, start)
        assert removal.params["text"].startswith("🗑️ Removed a likely deepfake posted by Alice")
        assert "from Alice" in report.params["text"] and "was deleted" in report.params["text"]
        check_id = int(removal.params["text"].rsplit("check ", 1)[1].rstrip(")"))

        # The creator overrides it; a member cannot.
        start = len(fake.calls)
        fake.push(
            "message", message(fake, chat=GROUP, sender=BOB, **command(f"/verdict {check_id} real"))
        )
        fake.push(
            "message",
            message(fake, chat=GROUP, sender=CAROL, **command(f"/verdict {check_id} real satire")),
        )
        noted = await fake.wait_for(
            lambda c: c.method == "sendMessage" and c.params["text"].startswith("📝"), start=start
        )
        assert noted.params["text"] == f"📝 Check {check_id} marked real by Carol. Note: satire"
        assert await fake.wait_for(
            lambda c: c.method == "sendMessage" and "override a verdict" in c.params["text"],
            start=start,
        )
        # A check of another chat cannot be overridden from here.
        start = len(fake.calls)
        other = {"id": -100777, "type": "group", "title": "Elsewhere"}
        fake.members[(other["id"], CAROL["id"])] = "administrator"
        fake.push(
            "message",
            message(fake, chat=other, sender=CAROL, **command(f"/verdict {check_id} fake")),
        )
        unknown = await fake.wait_for(lambda c: c.method == "sendMessage", start=start)
        assert unknown.params["text"] == f"There is no check {check_id} in this chat."

        # In a private chat, /check as a photo's caption; the group's settings do not apply.
        start = len(fake.calls)
        dm = private_chat(BOB)
        mine = message(
            fake, chat=dm, sender=BOB, photo=photo_sizes(fake, jpeg), **caption("/check")
        )
        fake.push("message", mine)
        answer = await verdict_of(fake, mine, start)
        assert answer.params["chat_id"] == BOB["id"]
        assert not answer.params["text"].startswith("🗑️")
        assert len(fake.sent("deleteMessage")) == 1

    services = await BotServices.connect(settings, migrate=False)
    try:
        async with services.sessions() as session:
            reviews = (
                await session.execute(
                    text("SELECT check_id, moderator_id, decision, note FROM reviews")
                )
            ).all()
        assert [tuple(r) for r in reviews] == [(check_id, "7003", "real", "satire")]
        entries, _ = await services.moderation.audit(
            platform="telegram", chat_id=str(GROUP["id"]), query=AuditQuery(limit=5)
        )
        assert [e.review for e in entries] == ["real"]
    finally:
        await services.close()


def caption(text: str) -> dict[str, Any]:
    """A caption with its ``bot_command`` entity."""
    length = len(text.split()[0])
    return {
        "caption": text,
        "caption_entities": [{"type": "bot_command", "offset": 0, "length": length}],
    }


async def test_quiet_mode_answers_with_reactions(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner
) -> None:
    fake.members[(GROUP["id"], CAROL["id"])] = "administrator"
    png = samples.encode_image(samples.no_face_images()["rocket"], "PNG")
    jpeg = samples.encode_image(samples.astronaut())
    async with bot(settings):
        start = len(fake.calls)
        for words in ("action react", "fake 0"):
            fake.push(
                "message", message(fake, chat=GROUP, sender=CAROL, **command(f"/settings {words}"))
            )
            await fake.wait_for(
                lambda c, w=words: c.method == "sendMessage" and w.split()[1] in c.params["text"],
                start=start,
            )
        start = len(fake.calls)
        shot = message(fake, chat=GROUP, sender=ALICE, photo=photo_sizes(fake, jpeg))
        fake.push("message", shot)
        rocket = message(
            fake,
            chat=GROUP,
            sender=BOB,
            document=document(fake, png, name="rocket.png", mime_type="image/png"),
        )
        fake.push("message", rocket)

        def reactions(msg: dict[str, Any]) -> list[Any]:
            return [
                c.params.get("reaction")
                for c in fake.sent("setMessageReaction")
                if c.params["message_id"] == msg["message_id"]
            ]

        for msg in (shot, rocket):
            await fake.wait_for(
                lambda c, m=msg: (
                    c.method == "setMessageReaction"
                    and c.params["message_id"] == m["message_id"]
                    and c.params.get("reaction") != [{"type": "emoji", "emoji": "👀"}]
                ),
                start=start,
            )
    # 👀 while working, then 👎 for a fake; a photo without a face has no verdict emoji.
    assert reactions(shot) == [
        [{"type": "emoji", "emoji": "👀"}],
        [{"type": "emoji", "emoji": "👎"}],
    ]
    assert reactions(rocket) == [[{"type": "emoji", "emoji": "👀"}], []]
    assert not [
        c for c in fake.sent("sendMessage", "editMessageText") if fake.calls.index(c) >= start
    ]
