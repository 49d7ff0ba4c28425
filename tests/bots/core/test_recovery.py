"""Recovery sweeps answer what the bot missed, once, and give up on chats that are gone."""

from __future__ import annotations

from bots.core.flow import CheckFlow
from bots.core.ports import PendingReply
from bots.core.recovery import Recovery, Undeliverable
from tests.bots.fakes import FakeConversation, FakeQueue, FakeStore, Outcome


def pending(check_id: int, chat_id: str = "-100") -> PendingReply:
    reply_to = {"chat_id": chat_id, "message_id": "5", "status_message_id": "6", "request": "auto"}
    return PendingReply(check_id=check_id, chat_id=chat_id, reply_to=reply_to, finished=True)


def setup(*ids: int) -> tuple[CheckFlow, FakeStore, FakeQueue]:
    queue = FakeQueue(
        results={i: Outcome(check_id=i, label="fake", fake_probability=0.9) for i in ids}
    )
    store = FakeStore(pending_replies=[pending(i) for i in ids])
    return CheckFlow(platform="telegram", queue=queue, store=store, max_bytes=10), store, queue


async def test_sweep_delivers_each_missed_verdict_once() -> None:
    flow, store, _ = setup(1, 2)
    conv = FakeConversation()
    assert await Recovery(flow=flow, deliverer=conv).sweep() == 2
    assert [e[1].check_id for e in conv.events] == [1, 2]
    assert conv.events[0][1].reply_to["status_message_id"] == "6"
    assert store.replied == [1, 2]
    assert await Recovery(flow=flow, deliverer=conv).sweep() == 0


async def test_sweep_skips_checks_being_waited_on() -> None:
    flow, store, _ = setup(1)
    flow.in_flight.add(1)
    assert await Recovery(flow=flow, deliverer=FakeConversation()).sweep() == 0
    assert store.replied == []


async def test_a_chat_that_is_gone_is_given_up_other_failures_retry() -> None:
    flow, store, _ = setup(1)
    gone = FakeConversation(fail_delivery=Undeliverable("kicked"))
    assert await Recovery(flow=flow, deliverer=gone).sweep() == 0
    assert store.replied == [1]

    flow, store, _ = setup(2)
    down = FakeConversation(fail_delivery=RuntimeError("network"))
    assert await Recovery(flow=flow, deliverer=down).sweep() == 0
    assert store.replied == []


async def test_run_sweeps_until_stopped() -> None:
    import asyncio

    flow, store, _ = setup(1)
    recovery = Recovery(flow=flow, deliverer=FakeConversation())
    task = asyncio.create_task(recovery.run(interval=3600))
    while not store.replied:
        await asyncio.sleep(0.01)
    recovery.stop()
    await asyncio.wait_for(task, 10)
    assert store.replied == [1]
