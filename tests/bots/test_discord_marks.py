"""How far a Discord channel is handled: the mark stops below the oldest message under way."""

from __future__ import annotations

from bots.discord.marks import HandledMarks

CHANNEL, OTHER = 10, 20


def test_the_mark_follows_messages_handled_in_order() -> None:
    marks = HandledMarks()
    assert marks.take(CHANNEL, 100) and marks.take(CHANNEL, 101)
    assert marks.done(CHANNEL, 100) == 100
    assert marks.done(CHANNEL, 101) == 101
    assert marks.marks() == {CHANNEL: 101}


def test_a_message_still_under_way_holds_the_mark_below_it() -> None:
    marks = HandledMarks()
    for m in (100, 101, 102):
        marks.take(CHANNEL, m)
    assert marks.done(CHANNEL, 102) is None  # 100 and 101 are still under way
    assert marks.done(CHANNEL, 100) == 100  # 101 holds it there
    assert marks.done(CHANNEL, 101) == 102  # the mark is always a message handled
    assert marks.take(OTHER, 50) and marks.done(OTHER, 50) == 50
    assert marks.marks() == {CHANNEL: 102, OTHER: 50}


def test_a_message_is_taken_once_and_never_below_a_saved_mark() -> None:
    marks = HandledMarks()
    marks.load({CHANNEL: 200})
    assert not marks.take(CHANNEL, 150)  # handled by an earlier run
    assert marks.take(CHANNEL, 201)
    assert not marks.take(CHANNEL, 201)  # the event and the history both bring it
    marks.load({CHANNEL: 100})  # an older saved mark never moves it back
    assert marks.marks() == {CHANNEL: 200}
    assert marks.done(CHANNEL, 201) == 201


def test_a_held_mark_waits_for_the_history_to_be_read() -> None:
    marks = HandledMarks()
    marks.load({CHANNEL: 200})
    assert marks.hold() == [CHANNEL]
    # A live message handled before the history of what was missed is read.
    assert marks.take(CHANNEL, 300) and marks.done(CHANNEL, 300) is None
    assert marks.marks() == {CHANNEL: 200}
    assert marks.take(CHANNEL, 250)  # found in the history
    assert marks.release(CHANNEL) is None  # 250 is under way
    assert marks.done(CHANNEL, 250) == 300
    # A channel first seen while others are held is not held.
    assert marks.take(OTHER, 10) and marks.done(OTHER, 10) == 10
