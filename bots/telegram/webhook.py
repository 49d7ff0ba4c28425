"""Webhook mode: each of Telegram's calls is answered once its update is settled.

Telegram keeps an update and calls again until the webhook answers it with a 2xx.
python-telegram-bot's own webhook server answers as soon as the update is in its
queue: a bot killed in a raid then loses every update it had answered but not yet
handled. This server answers only once the update is *settled* (handled, or its
check stored; see :mod:`bots.telegram.intake`), so whatever a killed bot had not
settled comes again, and the check flow recognises a message whose check is already
stored. While the bot stops, new calls get 503 and come again after the restart.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from asyncio import FIRST_COMPLETED
from dataclasses import dataclass
from json import JSONDecodeError
from typing import Any

from aiohttp import web
from telegram import Update

from bots.telegram.intake import AnyApplication, Intake

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram gives up on a call after about a minute and sends it again; answer before that.
# An update not settled by then (a very slow download) is answered anyway: sending it
# again would start a second download of the same post.
SETTLE_TIMEOUT_S = 50.0


@dataclass(frozen=True, kw_only=True)
class Webhook:
    """Where Telegram posts updates in webhook mode.

    Attributes:
        url: The public HTTPS URL Telegram calls (set with ``setWebhook``).
        listen: The address the bot's web server binds.
        port: Its port.
        path: The URL path it serves (never the token: proxies log paths).
        secret: Telegram sends it in a header; requests without it are refused.
    """

    url: str
    listen: str = "0.0.0.0"
    port: int = 8443
    path: str = "telegram"
    secret: str | None = None


class WebhookServer:
    """An aiohttp server for Telegram's webhook calls, answering each once settled."""

    def __init__(
        self, intake: Intake, address: Webhook, *, settle_timeout: float = SETTLE_TIMEOUT_S
    ) -> None:
        self.intake = intake
        self.address = address
        self.settle_timeout = settle_timeout
        self._app: AnyApplication | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._abandon = asyncio.Event()  # stop's grace is over: what is left gets 503
        self._calls: set[asyncio.Task[Any]] = set()

    async def start(self, app: AnyApplication) -> None:
        """Serve, then register the webhook with Telegram (updates may come at once)."""
        self._app = app
        server = web.Application()
        server.router.add_post("/" + self.address.path.strip("/"), self._call)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.address.listen, self.address.port).start()
        await app.bot.set_webhook(
            url=self.address.url,
            secret_token=self.address.secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("webhook server on %s:%d", self.address.listen, self.address.port)

    async def stop(self, grace: float) -> None:
        """Refuse new calls; give those under way ``grace`` seconds to settle; stop."""
        self._stopping = True
        if self._calls:
            _done, late = await asyncio.wait(set(self._calls), timeout=grace)
            if late:
                log.warning("%d calls unsettled after %gs: 503, Telegram resends", len(late), grace)
                self._abandon.set()
                await asyncio.wait(late)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _call(self, request: web.Request) -> web.Response:
        secret = self.address.secret
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="wrong secret token")
        if self._stopping or self._app is None:
            return web.Response(status=503, text="stopping; send it again later")
        try:
            update = Update.de_json(await request.json(), self._app.bot)
        except (JSONDecodeError, ValueError, TypeError, KeyError) as e:
            log.warning("webhook: not an update (%s)", e)
            return web.Response(status=400, text="not a Telegram update")
        task = asyncio.current_task()
        if task is not None:
            self._calls.add(task)
        try:
            settled = self.intake.expect(update)
            await self._app.update_queue.put(update)
            waits = {
                asyncio.ensure_future(settled.wait()),
                asyncio.ensure_future(self._abandon.wait()),
            }
            try:
                await asyncio.wait(waits, timeout=self.settle_timeout, return_when=FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            if not settled.is_set() and self._abandon.is_set():
                return web.Response(status=503, text="stopping; send it again later")
            if not settled.is_set():
                log.warning(
                    "update %d unsettled after %gs; answered", update.update_id, self.settle_timeout
                )
        finally:
            self.intake.forget(update)
            if task is not None:
                self._calls.discard(task)
        return web.Response(status=200)
