"""Answering checks the bot did not answer: a restart loses no verdict.

A verdict is marked replied only after the platform accepted it. On start, and
then every so often, the bot sweeps the checks of its platform that finished
without a delivered verdict (the bot was down, delivery failed, or the check
outlived the bot's wait) and answers them where the original reply would have gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from bots.core.errors import BotError
from bots.core.flow import CheckFlow, Deliverer

log = logging.getLogger(__name__)


class Undeliverable(BotError):
    """The chat is gone or the bot was removed from it: stop trying to answer there."""

    code = "undeliverable"


@dataclass(kw_only=True)
class Recovery:
    """Sweeps a platform's unanswered checks.

    Attributes:
        flow: The platform's flow (its queue, store and the checks it is waiting on).
        deliverer: Posts replies without an incoming message to answer.
    """

    flow: CheckFlow
    deliverer: Deliverer
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def sweep(self) -> int:
        """Answer every finished, unanswered check not being waited on now.

        Returns:
            How many verdicts were delivered.
        """
        flow = self.flow
        delivered = 0
        for pending in await flow.store.pending(platform=flow.platform):
            if not pending.finished or flow.was_answered(pending.check_id):
                continue
            outcome = await flow.queue.get(pending.check_id)
            if outcome is None or flow.was_answered(pending.check_id):
                continue
            policy = await flow.store.policy(platform=flow.platform, chat_id=pending.chat_id)
            if flow.was_answered(pending.check_id):
                continue
            reply = flow.reply_for(outcome, policy=policy, reply_to=pending.reply_to)
            # In flight while it is delivered: the flow, answering a message handed out
            # again, leaves it alone (and the other way round).
            flow.in_flight.add(pending.check_id)
            try:
                await self.deliverer.deliver(reply)
            except Undeliverable:
                log.warning("giving up on check %d: its chat is gone", pending.check_id)
            except Exception:
                # One chat's failure must not stop the others; the check stays pending.
                log.exception("could not deliver check %d; will retry", pending.check_id)
                continue
            else:
                delivered += 1
            finally:
                flow.in_flight.discard(pending.check_id)
            flow.remember(pending.check_id)
            await flow.store.mark_replied(check_id=pending.check_id)
        if delivered:
            log.info("delivered %d verdicts that were waiting", delivered)
        return delivered

    async def run(self, interval: float = 30.0) -> None:
        """Sweep now, then every ``interval`` seconds, until :meth:`stop`."""
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except Exception:
                # The store may be briefly unreachable; the next sweep tries again.
                log.exception("recovery sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    def stop(self) -> None:
        """Finish the sweep under way (a delivered verdict gets marked), then end :meth:`run`."""
        self._stopping.set()
