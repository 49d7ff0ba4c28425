"""The Telegram intake confirms an update only once it is settled (handled, or its check
stored), so a bot killed mid-burst leaves its unsettled updates with Telegram."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from telegram import Update

from bots.telegram.intake import AnyApplication, Intake


@dataclass
class StubBot:
    """Hands out scripted batches and records the offset of every getUpdates call."""

    batches: list[list[Update]]
    offsets: list[int | None] = field(default_factory=list)

    async def get_updates(self, *, offset: int | None = None, **_: Any) -> list[Update]:
        self.offsets.append(offset)
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(0.01)
        return []

    async def delete_webhook(self, **_: Any) -> bool:
        return True


@dataclass
class StubApp:
    bot: StubBot
    update_queue: asyncio.Queue[object] = field(default_factory=asyncio.Queue)


def batch(*ids: int) -> list[Update]:
    return [Update(update_id=i) for i in ids]


async def taken(app: StubApp, n: int) -> list[Update]:
    return [cast(Update, await asyncio.wait_for(app.update_queue.get(), 5)) for _ in range(n)]


async def test_a_batch_is_confirmed_only_once_every_update_is_settled() -> None:
    app = StubApp(StubBot([batch(10, 11, 12), batch(13)]))
    intake = Intake()
    await intake.start(cast(AnyApplication, app))
    first = await taken(app, 3)
    intake.settle(first[0])
    intake.settle(first[2])
    await asyncio.sleep(0.1)
    assert app.bot.offsets == [None]  # update 11 is not settled: no further poll, no confirmation
    intake.settle(first[1])  # e.g. its check is stored; its verdict may come much later
    await taken(app, 1)
    assert app.bot.offsets[:2] == [None, 13]  # the next poll confirms 10-12
    await intake.stop(grace=0.5)


async def test_stopping_confirms_the_settled_ones_and_leaves_the_rest_to_telegram() -> None:
    app = StubApp(StubBot([batch(20, 21, 22)]))
    intake = Intake()
    await intake.start(cast(AnyApplication, app))
    updates = await taken(app, 3)
    intake.settle(updates[0])
    intake.settle(updates[2])  # 21 is never settled: the process is going away
    await intake.stop(grace=0.2)
    assert app.bot.offsets[-1] == 21  # 20 confirmed; 21 and 22 will be handed out again


async def test_updates_of_other_bots_or_unknown_ids_are_ignored() -> None:
    intake = Intake()
    intake.settle(Update(update_id=99))  # not pending: nothing happens
    intake.settle("not an update")
    assert intake.offset == 0


async def test_a_kept_update_is_never_confirmed_by_this_process() -> None:
    app = StubApp(StubBot([batch(30, 31)]))
    intake = Intake()
    await intake.start(cast(AnyApplication, app))
    updates = await taken(app, 2)
    intake.keep(updates[1])  # stopping cut its check short
    intake.settle(updates[0])
    intake.settle(updates[1])  # its handler ends: still not settled
    await intake.stop(grace=0.2)
    assert app.bot.offsets[-1] == 31  # 30 confirmed; 31 comes again after the restart
