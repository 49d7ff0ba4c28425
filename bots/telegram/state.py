"""What the Telegram handlers share, kept in the application's ``bot_data``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from telegram.ext import Application, CallbackContext

from bots.core.flow import CheckFlow
from bots.core.ports import Backend
from bots.core.recovery import Recovery
from bots.telegram.intake import Intake

KEY = "fakewatch"


@dataclass(kw_only=True)
class BotState:
    """The bot's dependencies, set up in ``post_init``.

    Attributes:
        backend: The queue and the store.
        flow: The check flow for Telegram.
        recovery: Answers missed checks every so often...
        recovery_task: ...in this task.
        intake: Confirms updates to Telegram once settled (long polling).
    """

    backend: Backend
    flow: CheckFlow
    recovery: Recovery | None = None
    recovery_task: asyncio.Task[None] | None = field(default=None, repr=False)
    intake: Intake | None = None

    def settler(self, update: object) -> Callable[[], None] | None:
        """What the flow calls once ``update``'s check is stored."""
        intake = self.intake
        if intake is None:
            return None
        return lambda: intake.settle(update)

    def keeper(self, update: object) -> Callable[[], None] | None:
        """What the flow calls when stopping cut ``update``'s check short."""
        intake = self.intake
        if intake is None:
            return None
        return lambda: intake.keep(update)


def state_of(context: CallbackContext[Any, Any, Any, Any]) -> BotState:
    """The state from a handler's context."""
    return cast(BotState, context.bot_data[KEY])


def app_state(application: Application[Any, Any, Any, Any, Any, Any]) -> BotState:
    """The state from the application."""
    return cast(BotState, application.bot_data[KEY])
