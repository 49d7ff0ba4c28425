"""The check flow with plain objects: settings, screening before download, delivery."""

from __future__ import annotations

import pytest

from bots.core.flow import CheckFlow
from bots.core.media import Request
from bots.core.ports import ChatPolicy, StoredCheck
from tests.bots.fakes import FakeConversation, FakeQueue, FakeStore, Outcome, media

MB = 1024 * 1024


def make_flow(queue: FakeQueue, store: FakeStore, **kw: object) -> CheckFlow:
    options: dict[str, object] = {"max_bytes": 100 * MB, "platform_max_bytes": 20 * MB}
    options.update(kw)
    return CheckFlow(platform="telegram", queue=queue, store=store, **options)  # type: ignore[arg-type]


async def test_auto_check_replies_with_the_verdict_and_marks_it_replied() -> None:
    queue = FakeQueue(next_outcome=Outcome(label="fake", fake_probability=0.93))
    store, conv = FakeStore(), FakeConversation()
    reply = await make_flow(queue, store).run(media(), request=Request(), conversation=conv)
    assert reply is not None and reply.label == "fake"
    assert [e[0] for e in conv.events] == ["working", "deliver"]
    assert "93%" in reply.text and "deepfake" in reply.text
    (data, _item, request, reply_to) = queue.submitted[0]
    assert data == b"\xff\xd8 jpeg bytes" and request.kind == "auto"
    # Where the verdict goes travels with the check, for a restarted bot.
    assert reply_to is not None
    assert reply_to["status_message_id"] == "900" and reply_to["message_id"] == "42"
    assert reply.action == "reply"
    assert store.replied == [1]


async def test_too_large_for_telegram_is_explained_without_downloading() -> None:
    fetched: list[int] = []
    queue, store, conv = FakeQueue(), FakeStore(), FakeConversation()
    item = media(size=25 * MB, mime_type="video/mp4", kind="video", fetched=fetched)
    assert await make_flow(queue, store).run(item, request=Request(), conversation=conv) is None
    assert fetched == [] and queue.submitted == []
    [(kind, text)] = conv.events
    assert kind == "refuse" and "25 MB" in text and "20 MB" in text


async def test_a_local_bot_api_server_lifts_the_platform_limit() -> None:
    queue = FakeQueue(next_outcome=Outcome())
    flow = make_flow(queue, FakeStore(), platform_max_bytes=None)
    item = media(size=25 * MB, mime_type="video/mp4", kind="video")
    assert await flow.run(item, request=Request(), conversation=FakeConversation()) is not None
    assert len(queue.submitted) == 1


async def test_over_fakewatch_own_cap_names_that_cap() -> None:
    conv = FakeConversation()
    flow = make_flow(FakeQueue(), FakeStore(), max_bytes=5 * MB, platform_max_bytes=None)
    await flow.run(media(size=6 * MB), request=Request(), conversation=conv)
    [(kind, text)] = conv.events
    assert kind == "refuse" and "up to 5 MB" in text and "bots can only" not in text


async def test_undeclared_size_is_enforced_after_download() -> None:
    queue, conv = FakeQueue(), FakeConversation()
    flow = make_flow(queue, FakeStore(), max_bytes=10)
    await flow.run(media(size=None, data=b"x" * 11), request=Request(), conversation=conv)
    assert queue.submitted == []
    assert (
        conv.events[-1][0] == "deliver"
        and "FakeWatch checks files up to" in conv.events[-1][1].text
    )


async def test_auto_off_skips_silently_but_a_command_still_checks() -> None:
    queue = FakeQueue(next_outcome=Outcome())
    store = FakeStore(policies={"-100": ChatPolicy(auto_check=False)})
    conv = FakeConversation()
    flow = make_flow(queue, store)
    assert await flow.run(media(), request=Request(), conversation=conv) is None
    assert conv.events == [] and queue.submitted == []
    command = Request(kind="command", requested_by="Bob")
    assert await flow.run(media(), request=command, conversation=conv) is not None
    assert queue.submitted[0][2] == command


@pytest.mark.parametrize("request_kind", ["auto", "command"])
async def test_non_media_documents(request_kind: str) -> None:
    conv = FakeConversation()
    item = media(mime_type="application/pdf", kind="document")
    flow = make_flow(FakeQueue(), FakeStore())
    req = Request(kind=request_kind)  # type: ignore[arg-type]
    assert await flow.run(item, request=req, conversation=conv) is None
    if request_kind == "auto":
        assert conv.events == []  # a PDF posted in a group is none of our business
    else:
        assert conv.events == [
            ("refuse", "🚫 FakeWatch checks images and videos; this is application/pdf.")
        ]


async def test_react_mode_works_quietly() -> None:
    queue = FakeQueue(next_outcome=Outcome(label="fake", fake_probability=0.9))
    store = FakeStore(policies={"-100": ChatPolicy(action="react")})
    conv = FakeConversation()
    reply = await make_flow(queue, store).run(media(), request=Request(), conversation=conv)
    assert conv.events[0] == ("working", "react")
    assert reply is not None and reply.mode == "react" and reply.action == "react"


async def test_delete_and_report_only_for_fakes_of_automatic_checks() -> None:
    policy = ChatPolicy(action="delete_and_report", mod_channel_id="-200")
    store = FakeStore(policies={"-100": policy})
    fake = Outcome(label="fake", fake_probability=0.99)
    flow = make_flow(FakeQueue(next_outcome=fake), store)
    auto = await flow.run(media(), request=Request(), conversation=FakeConversation())
    assert auto is not None and auto.action == "delete_and_report"
    assert auto.removal is not None and "Removed" in auto.removal and auto.mod_channel_id == "-200"
    asked = await flow.run(
        media(), request=Request(kind="command"), conversation=FakeConversation()
    )
    assert asked is not None and asked.action is None  # whoever asked gets the verdict only
    real = make_flow(FakeQueue(next_outcome=Outcome()), store)
    quiet = await real.run(media(), request=Request(), conversation=FakeConversation())
    assert quiet is not None and quiet.action is None


async def test_the_stored_label_stands_whatever_the_chat_thresholds_say_now() -> None:
    """The worker decided the label under the chat's thresholds when it stored the verdict;
    the flow never decides again (tests/queue_worker/test_label_once.py drives it all)."""
    outcome = Outcome(label="inconclusive", fake_probability=0.6)
    store = FakeStore(policies={"-100": ChatPolicy(fake_threshold=0.55)})
    reply = await make_flow(FakeQueue(next_outcome=outcome), store).run(
        media(), request=Request(), conversation=FakeConversation()
    )
    assert reply is not None and reply.label == "inconclusive" and reply.action is None
    assert reply.text.startswith("🤔 Inconclusive: 60%")


async def test_a_check_that_outlives_the_wait_stays_pending() -> None:
    queue, store, conv = FakeQueue(), FakeStore(), FakeConversation()
    reply = await make_flow(queue, store).run(media(), request=Request(), conversation=conv)
    assert reply is not None and not reply.final and "taking a while" in reply.text
    assert store.replied == []


async def test_queue_down_is_told_to_the_chat() -> None:
    conv = FakeConversation()
    reply = await make_flow(FakeQueue(down=True), FakeStore()).run(
        media(), request=Request(), conversation=conv
    )
    assert reply is None
    assert "can't check files right now" in conv.events[-1][1].text


async def test_a_check_failed_for_want_of_the_queue_gets_one_answer() -> None:
    queue = FakeQueue(down_after_storing=True)
    store, conv = FakeStore(), FakeConversation()
    flow = make_flow(queue, store)
    assert await flow.run(media(), request=Request(), conversation=conv) is None
    assert "can't check files right now" in conv.events[-1][1].text
    # That was the stored check's answer: the recovery sweep must not add a second one.
    assert store.replied == [1] and flow.was_answered(1)


async def test_failed_delivery_is_not_marked_replied() -> None:
    store = FakeStore()
    conv = FakeConversation(fail_delivery=RuntimeError("telegram is down"))
    flow = make_flow(FakeQueue(next_outcome=Outcome()), store)
    with pytest.raises(RuntimeError):
        await flow.run(media(), request=Request(), conversation=conv)
    assert store.replied == [] and flow.in_flight == set()


async def test_closing_the_flow_leaves_waiting_checks_to_recovery() -> None:
    import asyncio

    class SlowQueue(FakeQueue):
        async def wait(self, check_id: int, *, timeout: float) -> Outcome | None:
            await asyncio.sleep(timeout)
            return None

    store, conv = FakeStore(), FakeConversation()
    flow = make_flow(SlowQueue(), store, wait_timeout=3600)
    task = asyncio.create_task(flow.run(media(), request=Request(), conversation=conv))
    while not flow.in_flight:
        await asyncio.sleep(0.01)
    flow.close()
    reply = await asyncio.wait_for(task, 10)
    assert reply is not None and not reply.final
    assert [e[0] for e in conv.events] == ["working"]  # nothing posted: the next start answers
    assert store.replied == [] and flow.in_flight == set()


# --- messages handed out again after a restart (Telegram's unconfirmed updates) --------


def resent(*, finished: bool, replied: bool = False) -> FakeStore:
    stored = StoredCheck(
        check_id=7, reply_to={"status_message_id": "900"}, replied=replied, finished=finished
    )
    return FakeStore(stored={("-100", "42"): stored})


async def test_a_resent_message_is_answered_from_its_stored_check_and_its_job_queued_again() -> (
    None
):
    # The bot died after storing check 7 and perhaps before queueing its job.
    queue = FakeQueue(results={7: Outcome(check_id=7, label="real")})
    store, conv, settled = resent(finished=False), FakeConversation(), []
    flow = make_flow(queue, store, recognise_resent=True)
    reply = await flow.run(
        media(), request=Request(), conversation=conv, queued=lambda: settled.append(1)
    )
    assert queue.submitted == []  # not checked twice
    assert queue.requeued == [(7, b"\xff\xd8 jpeg bytes")]
    assert reply is not None and reply.check_id == 7 and settled == [1]
    assert [e[0] for e in conv.events] == ["deliver"]  # no second "analysing..." message
    assert store.replied == [7]


async def test_a_resent_message_already_answered_gets_nothing_more() -> None:
    fetched: list[int] = []
    queue, store, conv = FakeQueue(), resent(finished=True, replied=True), FakeConversation()
    flow = make_flow(queue, store, recognise_resent=True)
    assert await flow.run(media(fetched=fetched), request=Request(), conversation=conv) is None
    assert fetched == [] and queue.submitted == [] and queue.requeued == [] and conv.events == []


async def test_a_resent_message_is_still_answered_when_redis_is_down() -> None:
    # Queueing again fails: the check keeps its stored state (the worker's lost-job sweep
    # remains), and the flow still waits for it instead of failing the post.
    queue = FakeQueue(results={7: Outcome(check_id=7)}, down=True)
    flow = make_flow(queue, resent(finished=False), recognise_resent=True)
    reply = await flow.run(media(), request=Request(), conversation=FakeConversation())
    assert reply is not None and reply.check_id == 7


async def test_without_recognise_resent_every_message_is_a_new_check() -> None:
    queue = FakeQueue(next_outcome=Outcome())
    flow = make_flow(queue, resent(finished=True, replied=True))
    await flow.run(media(), request=Request(), conversation=FakeConversation())
    assert len(queue.submitted) == 1 and queue.requeued == []


async def test_a_resent_message_not_stored_yet_reuses_its_analysing_message() -> None:
    # The bot posted "analysing…" (message 900), then died before the check was stored.
    queue = FakeQueue(next_outcome=Outcome(label="real"))
    store = FakeStore(statuses={("-100", "42"): {"status_message_id": "900"}})
    conv = FakeConversation()
    reply = await make_flow(queue, store, recognise_resent=True).run(
        media(), request=Request(), conversation=conv
    )
    assert [e[0] for e in conv.events] == ["deliver"]  # no second "analysing…"
    assert reply is not None and reply.reply_to["status_message_id"] == "900"
    assert len(queue.submitted) == 1  # and the check is made


async def test_the_analysing_message_is_remembered_only_where_messages_come_again() -> None:
    store = FakeStore()
    await make_flow(FakeQueue(), store, recognise_resent=True).run(
        media(), request=Request(), conversation=FakeConversation()
    )
    assert store.statuses == {("-100", "42"): {"status_message_id": "900"}}
    other = FakeStore()
    await make_flow(FakeQueue(), other).run(
        media(), request=Request(), conversation=FakeConversation()
    )
    assert other.statuses == {}


async def test_a_download_cut_by_stopping_is_left_for_the_restart_and_not_reported() -> None:
    from dataclasses import replace

    from bots.core.errors import FetchFailed

    async def cut() -> bytes:
        raise FetchFailed("the client was closed")

    flow = make_flow(FakeQueue(), FakeStore())
    item, conv, kept = replace(media(), fetch=cut), FakeConversation(), []
    flow.close()  # the bot is stopping
    reply = await flow.run(
        item, request=Request(), conversation=conv, interrupted=lambda: kept.append(1)
    )
    assert reply is None and kept == [1]
    assert [e[0] for e in conv.events] == ["working"]  # no "couldn't download" in the chat
    # Not stopping: the same failure is the file's, and the chat is told.
    conv = FakeConversation()
    await make_flow(FakeQueue(), FakeStore()).run(
        item, request=Request(), conversation=conv, interrupted=lambda: kept.append(2)
    )
    assert kept == [1] and [e[0] for e in conv.events] == ["working", "deliver"]
