"""Long polling that confirms an update to Telegram only once nothing can lose it.

Telegram keeps an update until a ``getUpdates`` call with a higher ``offset`` confirms
it. python-telegram-bot's own poller confirms each batch as soon as the batch is in
memory: a bot killed in a raid (``kill -9``, the OOM killer, a lost machine) then loses
every update it had taken but not yet queued as a check. Measured with 60 posts and a
kill mid-burst: 52 lost, 24 of them left showing "analysing…".

:class:`Intake` confirms a batch only once every update of it is *settled*: its
handler finished, or its check is stored (the flow says so through ``queued``; a
verdict may take minutes, the check row is already safe). Whatever a killed bot had
not settled is handed out again after the restart, and the flow recognises a media
message whose check is already stored, so nothing is checked or answered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, SimpleUpdateProcessor

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

POLL_TIMEOUT_S = 10.0
BATCH = 100
# After a failed getUpdates: 1, 2, 4... 30 s before the next.
_RETRY_FIRST_S = 1.0
_RETRY_MAX_S = 30.0


class Intake:
    """Fetches updates, hands them to the application, confirms them once settled."""

    def __init__(self, *, poll_timeout: float = POLL_TIMEOUT_S, batch: int = BATCH) -> None:
        self.poll_timeout = poll_timeout
        self.batch = batch
        self.offset = 0  # the first update not confirmed yet
        self._pending: dict[int, asyncio.Event] = {}
        self._kept: set[int] = set()  # handled, but to be handed out again after a restart
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._app: AnyApplication | None = None

    # --- what handlers and the application call ---------------------------------------

    def settle(self, update: object) -> None:
        """``update`` can no longer be lost: handled, or its check stored."""
        if isinstance(update, Update) and update.update_id not in self._kept:
            event = self._pending.get(update.update_id)
            if event is not None:
                event.set()

    def keep(self, update: object) -> None:
        """Never confirm ``update`` in this process: stopping cut its handling short."""
        if isinstance(update, Update):
            self._kept.add(update.update_id)

    def expect(self, update: Update) -> asyncio.Event:
        """An event set once ``update`` is settled; :meth:`forget` it afterwards."""
        event = self._pending[update.update_id] = asyncio.Event()
        return event

    def forget(self, update: Update) -> None:
        """Stop tracking ``update`` (settled, or given up on)."""
        self._pending.pop(update.update_id, None)

    def processor(self, max_concurrent: int) -> SettlingProcessor:
        """The application's update processor: settles each update once handled."""
        return SettlingProcessor(self, max_concurrent)

    # --- running ----------------------------------------------------------------------

    async def start(self, app: AnyApplication) -> None:
        """Drop any webhook (polling and a webhook exclude each other), then poll in a task."""
        await app.bot.delete_webhook(drop_pending_updates=False)
        self._app = app
        self._task = asyncio.create_task(self._run(app), name="fakewatch-telegram-intake")

    async def stop(self, grace: float) -> None:
        """Stop polling; give the batch under way ``grace`` seconds to settle, confirm it."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                log.warning("updates still unsettled after %gs; Telegram will resend them", grace)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                if self._app is not None:
                    await self._confirm(self._app)  # the settled ones, at least

    async def _run(self, app: AnyApplication) -> None:
        delay = _RETRY_FIRST_S
        while not self._stopping.is_set():
            try:
                updates = await self._poll(app)
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as e:
                log.warning("getUpdates failed (%s); again in %gs", e, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                continue
            delay = _RETRY_FIRST_S
            if updates:
                await self._hand_over(app, updates)
        await self._confirm(app)

    async def _poll(self, app: AnyApplication) -> list[Update]:
        """One long poll, cut short by :meth:`stop` (then nothing was taken)."""
        poll = asyncio.ensure_future(
            app.bot.get_updates(
                offset=self.offset or None,
                limit=self.batch,
                timeout=self.poll_timeout,
                allowed_updates=Update.ALL_TYPES,
            )
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not poll.done():
            # Updates this call may have fetched are unconfirmed: Telegram hands them out again.
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await poll
            return []
        return list(poll.result())

    async def _hand_over(self, app: AnyApplication, updates: list[Update]) -> None:
        events = []
        for update in updates:
            events.append(self.expect(update))
            await app.update_queue.put(update)
        try:
            # Stopping does not cut this short: handlers stop waiting for verdicts on
            # their own (the flow is closed first) and settle once their checks are stored.
            await asyncio.gather(*(e.wait() for e in events))
        finally:
            settled = [u for u, e in zip(updates, events, strict=True) if e.is_set()]
            for update in updates:
                self.forget(update)
            # Confirm up to the first unsettled update (all of them, normally).
            for update, event in zip(updates, events, strict=True):
                if not event.is_set():
                    break
                self.offset = update.update_id + 1
            log.debug("%d of %d updates settled", len(settled), len(updates))

    async def _confirm(self, app: AnyApplication) -> None:
        """Tell Telegram what is settled, so the next start does not see it again."""
        if self.offset:
            with contextlib.suppress(TelegramError):
                await app.bot.get_updates(offset=self.offset, timeout=0, limit=1)


class SettlingProcessor(SimpleUpdateProcessor):
    """Processes updates concurrently, like PTB's default, and settles each when handled."""

    def __init__(self, intake: Intake, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self.intake = intake

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers; the update is settled however they end."""
        try:
            await coroutine
        finally:
            self.intake.settle(update)
