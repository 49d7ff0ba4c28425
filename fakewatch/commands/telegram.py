"""``fakewatch telegram``: run the Telegram bot (see ``bots.telegram.app`` and the README)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``telegram``."""
    p = sub.add_parser(
        "telegram",
        help="run the Telegram bot",
        description="Run FakeWatch's Telegram bot with TELEGRAM_TOKEN (from BotFather). It "
        "queues media for the worker ('fakewatch worker') through REDIS_URL and reads verdicts "
        "from DATABASE_URL. Long polling by default; --webhook-url switches to a webhook. "
        "TELEGRAM_API_BASE points it at a local Bot API server, which lifts the 20 MB limit.",
    )
    p.add_argument(
        "--webhook-url",
        metavar="URL",
        help="public HTTPS URL Telegram posts updates to (default: long polling)",
    )
    p.add_argument(
        "--listen", default="0.0.0.0", metavar="ADDR", help="webhook server address (0.0.0.0)"
    )
    p.add_argument("--port", type=int, default=8443, help="webhook server port (8443)")
    p.add_argument(
        "--webhook-path",
        default="telegram",
        metavar="PATH",
        help="URL path the webhook server answers on (default: telegram)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run until interrupted."""
    from bots.core.redaction import redact_logs
    from bots.telegram.app import serve
    from bots.telegram.webhook import Webhook

    redact_logs(settings.require("telegram_token"))
    if args.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)
        # httpx logs every request at INFO: one line per poll is noise, not a heartbeat.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    webhook = None
    if args.webhook_url:
        secret = settings.telegram_webhook_secret
        webhook = Webhook(
            url=args.webhook_url,
            listen=args.listen,
            port=args.port,
            path=args.webhook_path.strip("/"),
            secret=secret.get_secret_value() if secret else None,
        )
    asyncio.run(serve(settings, webhook=webhook))
    return 0
