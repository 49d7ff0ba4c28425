"""``fakewatch dashboard``: serve the moderators' dashboard (see :mod:`dashboard`)."""

from __future__ import annotations

import argparse
from typing import Any

from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``dashboard``."""
    p = sub.add_parser(
        "dashboard",
        help="serve the moderators' dashboard",
        description="Serve the web dashboard (checks, statistics, overrides, uploads). "
        "Accounts come from 'fakewatch user add NAME'. Behind an HTTPS proxy, pass "
        "--forwarded-allow-ips with the proxy's address so cookies are marked Secure.",
    )
    p.add_argument("--host", default=None, help="address (default FAKEWATCH_DASHBOARD_HOST)")
    p.add_argument("--port", type=int, default=None, help="port (default FAKEWATCH_DASHBOARD_PORT)")
    p.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="IPS",
        help="trust X-Forwarded-Proto/For from these proxy addresses (comma-separated, or *)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM."""
    import uvicorn

    from dashboard.app import create_app

    host = args.host or settings.dashboard_host
    port = args.port or settings.dashboard_port
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=args.forwarded_allow_ips is not None,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level="info" if args.verbose else "warning",
        server_header=False,
    )
    return 0
