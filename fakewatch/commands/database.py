"""``fakewatch db upgrade|downgrade|current``: the verdict store's schema (Alembic)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from base.settings import Settings


def register(sub: Any) -> None:
    """Add ``db``."""
    p = sub.add_parser(
        "db",
        help="migrate the verdict store",
        description="Upgrade or downgrade the database schema (DATABASE_URL, else the "
        "SQLite file in the data directory).",
    )
    actions = p.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="upgrade to the newest schema (or REVISION)")
    up.add_argument("revision", nargs="?", default="head")
    down = actions.add_parser("downgrade", help="downgrade to REVISION ('base' drops all)")
    down.add_argument("revision")
    actions.add_parser("current", help="print the revision the database is at")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Do the action; print where the schema is now."""
    from db.engine import database_url
    from db.schema import current_revision, downgrade_database, head_revision, upgrade_database

    url = database_url(settings)
    if args.db_action == "upgrade":
        upgrade_database(url, args.revision)
    elif args.db_action == "downgrade":
        downgrade_database(url, args.revision)
    current = asyncio.run(current_revision(url))
    print(f"{current or 'base (empty)'} (newest: {head_revision()})")
    return 0
