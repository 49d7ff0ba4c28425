"""How far each channel's messages are handled, so a restart can catch up on the rest.

Discord sends a bot a message only while it is connected: what is posted while the bot
is down, or between a lost session and the next, never arrives as an event. Each channel
keeps a *mark*, the newest message up to which every message with attachments was
handled (checked, refused or skipped by the chat's settings). Messages are handled
concurrently and finish out of order, so the mark stops below the oldest one still
under way. After a restart the bot reads each channel's history after its mark
(:mod:`bots.discord.cogs.auto_checks`).

Snowflake ids grow with time, so "up to" is a comparison of ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Message ids this process has taken up, so an event and the history never both check one.
_REMEMBERED = 10_000


@dataclass
class HandledMarks:
    """Per channel: the messages under way, those handled above the mark, and the mark.

    While the bot may have missed messages (from start-up, and from a lost connection,
    until it has read the history) the marks are *held*: they must not move past what
    the history is read from.
    """

    _open: dict[int, set[int]] = field(default_factory=dict)
    _done: dict[int, set[int]] = field(default_factory=dict)
    _marks: dict[int, int] = field(default_factory=dict)
    _held: set[int] = field(default_factory=set)
    _taken: dict[int, None] = field(default_factory=dict)

    def load(self, marks: dict[int, int]) -> None:
        """Start from the marks saved by an earlier run (a mark never moves back)."""
        for channel_id, message_id in marks.items():
            if message_id > self._marks.get(channel_id, 0):
                self._marks[channel_id] = message_id

    def marks(self) -> dict[int, int]:
        """Every channel's mark (channels with none were never seen)."""
        return dict(self._marks)

    def hold(self) -> list[int]:
        """Stop every marked channel's mark moving (messages may have been missed)."""
        self._held |= set(self._marks)
        return sorted(self._held)

    def release(self, channel_id: int) -> int | None:
        """The channel's history was read: its mark may move; returns it when it moved."""
        self._held.discard(channel_id)
        return self._advance(channel_id)

    def take(self, channel_id: int, message_id: int) -> bool:
        """Claim a message for handling; ``False`` when it was already taken (or handled).

        A message at or below the channel's mark was handled by an earlier run.
        """
        if message_id in self._taken or message_id <= self._marks.get(channel_id, 0):
            return False
        self._taken[message_id] = None
        while len(self._taken) > _REMEMBERED:
            del self._taken[next(iter(self._taken))]
        self._open.setdefault(channel_id, set()).add(message_id)
        return True

    def done(self, channel_id: int, message_id: int) -> int | None:
        """The message is handled; returns the channel's new mark when it moved."""
        self._open.get(channel_id, set()).discard(message_id)
        self._done.setdefault(channel_id, set()).add(message_id)
        return self._advance(channel_id)

    def _advance(self, channel_id: int) -> int | None:
        """Move the mark to the newest handled message below every one under way."""
        if channel_id in self._held:
            return None
        under_way = self._open.get(channel_id)
        floor = min(under_way) if under_way else None
        done = self._done.get(channel_id, set())
        ready = [m for m in done if floor is None or m < floor]
        if not ready:
            return None
        mark = max(ready)
        self._done[channel_id] = {m for m in done if m > mark}
        if mark <= self._marks.get(channel_id, 0):
            return None
        self._marks[channel_id] = mark
        return mark
