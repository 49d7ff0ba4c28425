"""Moderator commands are checked at run time, against the chat they are used in: a member,
an administrator, an administrator of another chat, and an administrator demoted since."""

from __future__ import annotations

import asyncio
import csv
import io

from sqlalchemy import func, select

from base.settings import Settings
from bots.core.services import BotServices
from db.models import ChatSettings, Review
from tests.bots.telegram.conftest import WorkerRunner
from tests.bots.telegram.helpers import ask, bot
from tests.bots.telegram_fake import GROUP, FakeTelegram, message, photo_sizes, user
from tests.reliability.harness import distinct_jpeg

OTHER = {"id": -1007777777777, "type": "supergroup", "title": "Another group"}
MEMBER = user(7401, "Mia")
ADMIN = user(7402, "Ada")  # administrator of GROUP only
STRANGER = user(7403, "Sam")  # administrator of OTHER only


async def counts(settings: Settings) -> tuple[int, int]:
    services = await BotServices.connect(settings, migrate=False)
    try:
        async with services.sessions() as s:
            reviews = await s.scalar(select(func.count()).select_from(Review))
            chats = await s.scalar(select(func.count()).select_from(ChatSettings))
            return int(reviews or 0), int(chats or 0)
    finally:
        await services.close()


async def test_member_admin_other_chat_admin_and_demoted_admin(
    fake: FakeTelegram, settings: Settings, worker: WorkerRunner
) -> None:
    fake.members[(GROUP["id"], ADMIN["id"])] = "administrator"
    fake.members[(OTHER["id"], STRANGER["id"])] = "administrator"
    async with bot(settings):
        photo = message(fake, chat=GROUP, sender=MEMBER, photo=photo_sizes(fake, distinct_jpeg(1)))
        fake.push("message", photo)
        verdict = await fake.wait_for(lambda c: c.method == "editMessageText")
        check_id = verdict.params["text"].rsplit("check ", 1)[1].rstrip(")")

        # A member: every moderator command refused, nothing changed.
        for text in ("/audit", "/settings auto off", f"/verdict {check_id} real"):
            refused = await ask(fake, GROUP, MEMBER, text)
            assert refused.params["text"].startswith("Only this chat's moderators"), text
        assert await counts(settings) == (0, 0)

        # An administrator of this chat: allowed.
        listing = await ask(fake, GROUP, ADMIN, "/audit")
        assert f"[{check_id}]" in listing.params["text"]
        done = await ask(fake, GROUP, ADMIN, f"/verdict {check_id} real looks fine")
        assert done.params["text"].startswith(f"📝 Check {check_id} marked real")

        # An administrator of another chat: refused here, and blind to this chat from there.
        refused = await ask(fake, GROUP, STRANGER, "/audit")
        assert refused.params["text"].startswith("Only this chat's moderators")
        empty = await ask(fake, OTHER, STRANGER, "/audit")
        assert empty.params["text"].startswith("🧾 No checks here match")
        unknown = await ask(fake, OTHER, STRANGER, f"/verdict {check_id} fake")
        assert unknown.params["text"] == f"There is no check {check_id} in this chat."
        assert not [
            c
            for c in fake.sent("sendDocument")
            if c.params.get("chat_id") == OTHER["id"]
            and check_id
            in {r["id"] for r in csv.DictReader(io.StringIO(c.files["document"].decode()))}
        ]
        assert await counts(settings) == (1, 0)  # only the administrator's review

        # Demoted since: asked again at once, refused at once.
        fake.members[(GROUP["id"], ADMIN["id"])] = "member"
        refused = await ask(fake, GROUP, ADMIN, "/settings auto off")
        assert refused.params["text"].startswith("Only this chat's moderators")
        asked = [c for c in fake.sent("getChatMember") if c.params["user_id"] == ADMIN["id"]]
        assert len(asked) == 3  # /audit, /verdict, the refused /settings: asked every time
        await asyncio.sleep(0)
    assert await counts(settings) == (1, 0)
