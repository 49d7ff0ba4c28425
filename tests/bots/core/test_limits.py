"""The flow under the abuse limits and outages, with plain objects: who is told what, and
that nothing is downloaded or queued for a check that may not start."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from base.errors import QueueFull
from bots.core.errors import StoreUnavailable
from bots.core.flow import CheckFlow
from bots.core.media import Request
from bots.core.ports import Admission, ChatPolicy
from tests.bots.fakes import FakeConversation, FakeQueue, FakeStore, Outcome, media

MB = 1024 * 1024


@dataclass
class FakeGate:
    """Answers each admission from ``answers`` in turn and records who asked."""

    answers: list[Admission] = field(default_factory=list)
    asked: list[tuple[str, str, str | None]] = field(default_factory=list)

    async def admit(self, *, platform: str, chat_id: str, user_id: str | None) -> Admission:
        self.asked.append((platform, chat_id, user_id))
        return self.answers.pop(0) if self.answers else Admission()


class BusyQueue(FakeQueue):
    async def submit(self, data: bytes, **kw: object) -> str:  # type: ignore[override]
        raise QueueFull(1_000, 1_000)


class DownStore(FakeStore):
    async def policy(self, *, platform: str, chat_id: str) -> ChatPolicy:
        raise StoreUnavailable("the database is down")


def make_flow(queue: FakeQueue, store: FakeStore, gate: FakeGate | None = None) -> CheckFlow:
    return CheckFlow(platform="telegram", queue=queue, store=store, max_bytes=100 * MB, gate=gate)


async def test_a_refused_check_is_told_once_and_nothing_is_downloaded() -> None:
    fetched: list[int] = []
    refused = Admission(allowed=False, scope="user", retry_after_s=42, notify=True, per_minute=20)
    quiet = Admission(allowed=False, scope="user", retry_after_s=40, notify=False, per_minute=20)
    gate, queue = FakeGate([refused, quiet]), FakeQueue()
    flow = make_flow(queue, FakeStore(), gate)

    first, second = FakeConversation(), FakeConversation()
    assert await flow.run(media(fetched=fetched), request=Request(), conversation=first) is None
    assert await flow.run(media(fetched=fetched), request=Request(), conversation=second) is None

    [(kind, text)] = first.events
    assert kind == "refuse" and "20 a minute for one person" in text and "42 seconds" in text
    assert second.events == []  # the flood gets one notice, not one per post
    assert fetched == [] and queue.submitted == []
    assert gate.asked == [("telegram", "-100", "7")] * 2  # the author of an automatic check


async def test_a_command_counts_against_whoever_asked() -> None:
    gate = FakeGate()
    queue = FakeQueue(next_outcome=Outcome())
    flow = make_flow(queue, FakeStore(), gate)
    request = Request(kind="command", requested_by="99")
    assert await flow.run(media(), request=request, conversation=FakeConversation()) is not None
    assert gate.asked == [("telegram", "-100", "99")]


async def test_a_chat_posting_as_itself_counts_against_the_chat_alone() -> None:
    gate = FakeGate()
    flow = make_flow(FakeQueue(next_outcome=Outcome()), FakeStore(), gate)
    post = replace(media(chat_id="-1009"), author_id="-1009")  # a channel post
    assert await flow.run(post, request=Request(), conversation=FakeConversation()) is not None
    assert gate.asked == [("telegram", "-1009", None)]  # no per-user rate for the channel


async def test_the_chat_limit_and_a_full_queue_have_their_own_words() -> None:
    chat = Admission(allowed=False, scope="chat", retry_after_s=150, notify=True, per_minute=120)
    full = Admission(allowed=False, scope="queue", retry_after_s=60, notify=True)
    flow = make_flow(FakeQueue(), FakeStore(), FakeGate([chat, full]))
    texts = []
    for _ in range(2):
        conv = FakeConversation()
        await flow.run(media(), request=Request(), conversation=conv)
        texts.append(conv.events[0][1])
    assert "120 files a minute in one chat" in texts[0] and "3 minutes" in texts[0]
    assert "very busy" in texts[1]


async def test_a_skipped_item_never_spends_allowance() -> None:
    gate = FakeGate()
    store = FakeStore(policies={"-100": ChatPolicy(auto_check=False)})
    await make_flow(FakeQueue(), store, gate).run(
        media(), request=Request(), conversation=FakeConversation()
    )
    assert gate.asked == []


async def test_a_full_queue_at_submit_time_turns_the_status_into_a_polite_note() -> None:
    conv = FakeConversation()
    flow = make_flow(BusyQueue(), FakeStore(), FakeGate())
    assert await flow.run(media(), request=Request(), conversation=conv) is None
    kinds = [e[0] for e in conv.events]
    assert kinds == ["working", "deliver"]
    assert "very busy" in conv.events[1][1].text


async def test_without_chat_settings_a_command_is_told_and_an_automatic_check_skipped() -> None:
    flow = make_flow(FakeQueue(), DownStore())
    auto, command = FakeConversation(), FakeConversation()
    await flow.run(media(), request=Request(), conversation=auto)
    await flow.run(media(), request=Request(kind="command", requested_by="9"), conversation=command)
    assert auto.events == []
    [(kind, text)] = command.events
    assert kind == "refuse" and "can't check files right now" in text
