"""``/audit @name`` and ``/audit user:ID`` match what Telegram vouches for (the user id, and
the @username Telegram gave with each post), never a display name anyone can copy."""

from __future__ import annotations

import csv
import io

import pytest

from base.settings import Settings
from bots.telegram.handlers import UNKNOWN_USERNAME
from tests.bots.telegram.helpers import ask, bot, status_of, stored_count
from tests.bots.telegram_fake import GROUP, FakeTelegram, message, photo_sizes, user
from tests.reliability.harness import distinct_jpeg

ALICE = user(7101, "Alice", "alice")
IMPOSTOR = user(7102, "alice")  # Alice's @username as a display name
NUMBERS = user(7103, "7101")  # Alice's user id as a display name
ADMIN = user(7104, "Ada")
RENAMED = user(7101, "Ally", "ally")  # Alice, later, under another username


async def listing_and_csv(fake: FakeTelegram, text: str) -> tuple[str, set[str]]:
    """The /audit answer and the author ids in its CSV file."""
    start = len(fake.calls)
    answer = await ask(fake, GROUP, ADMIN, text)
    sent = await fake.wait_for(lambda c: c.method == "sendDocument", start=start)
    rows = csv.DictReader(io.StringIO(sent.files["document"].decode()))
    return answer.params["text"], {r["author_id"] for r in rows}


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
async def test_audit_matches_user_ids_and_usernames_never_display_names(
    fake: FakeTelegram, settings: Settings
) -> None:
    fake.members[(GROUP["id"], ADMIN["id"])] = "administrator"
    async with bot(settings):  # no worker: the checks stay queued, the audit lists them
        for n, sender in enumerate((ALICE, IMPOSTOR, NUMBERS)):
            photo = message(
                fake, chat=GROUP, sender=sender, photo=photo_sizes(fake, distinct_jpeg(n))
            )
            fake.push("message", photo)
            await status_of(fake, photo)
        assert await stored_count(settings, at_least=3) == 3

        text, authors = await listing_and_csv(fake, "/audit @Alice")
        assert text.startswith("🧾 Last 1 checks here (by user id 7101 (@Alice))")
        assert authors == {"7101"}
        text, authors = await listing_and_csv(fake, "/audit user:7101")
        assert text.startswith("🧾 Last 1 checks here (by user id 7101)")
        assert authors == {"7101"}

        # A new username: found under it, and with it every post by the same id.
        photo = message(fake, chat=GROUP, sender=RENAMED, photo=photo_sizes(fake, distinct_jpeg(9)))
        fake.push("message", photo)
        await status_of(fake, photo)
        assert await stored_count(settings, at_least=4) == 4
        text, authors = await listing_and_csv(fake, "/audit @ally")
        assert text.startswith("🧾 Last 2 checks here (by user id 7101 (@ally))")
        assert authors == {"7101"}

        unknown = await ask(fake, GROUP, ADMIN, "/audit @mallory")
        assert unknown.params["text"] == UNKNOWN_USERNAME.format(name="mallory")
