"""``fakewatch audit``: query the verdict store (table, CSV or JSON)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from base.settings import Settings
from base.vocabulary import LABELS, PLATFORMS, STATUSES

if TYPE_CHECKING:
    from db.audit import AuditFilter
    from db.models import Check


def register(sub: Any) -> None:
    """Add ``audit``."""
    p = sub.add_parser(
        "audit",
        help="list checks from the verdict store",
        description="List stored checks, newest first. A chat filter also matches its "
        "sub-chats (Discord guild 123 matches channels stored as '123:<channel>').",
    )
    p.add_argument("--platform", choices=tuple(map(str, PLATFORMS)))
    p.add_argument("--chat", metavar="CHAT_ID")
    p.add_argument("--author", metavar="ID_OR_NAME")
    p.add_argument(
        "--label",
        choices=(*map(str, LABELS), "pending"),  # db.audit.PENDING: not finished yet
    )
    p.add_argument("--status", choices=tuple(map(str, STATUSES)))
    p.add_argument("--since", metavar="WHEN", help="7d, 12h, 30m, 2w ago or an ISO date/time")
    p.add_argument("--until", metavar="WHEN", help="same forms as --since")
    reviewed = p.add_mutually_exclusive_group()
    reviewed.add_argument("--reviewed", dest="reviewed", action="store_const", const=True)
    reviewed.add_argument("--unreviewed", dest="reviewed", action="store_const", const=False)
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="at most N checks (default: 50 for a table, all for csv/json)",
    )
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the newest N")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--counts", action="store_true", help="print the count per label instead")
    p.set_defaults(handler=run)


def _filters(args: argparse.Namespace) -> AuditFilter:
    from db.audit import AuditFilter, parse_since

    return AuditFilter(
        platform=args.platform,
        chat=args.chat,
        author=args.author,
        label=args.label,
        status=args.status,
        since=parse_since(args.since) if args.since else None,
        until=parse_since(args.until) if args.until else None,
        reviewed=args.reviewed,
    )


def _cut(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def table(checks: list[Check], total: int) -> str:
    """A fixed-width table of checks."""
    head = (
        f"{'id':>6}  {'created (UTC)':16}  {'platform':8}  {'chat':20}  {'author':16}  "
        f"{'status':7}  {'label':12}  {'p(fake)':>7}  {'faces':>5}"
    )
    lines = [head, "-" * len(head)]
    for c in checks:
        prob = "-" if c.fake_probability is None else f"{c.fake_probability:.3f}"
        chat = c.chat_title or c.chat_id
        lines.append(
            f"{c.id:>6}  {c.created_at:%Y-%m-%d %H:%M}  {c.platform:8}  {_cut(chat, 20):20}  "
            f"{_cut(c.author_name or c.author_id, 16):16}  {c.status:7}  {_cut(c.label, 12):12}  "
            f"{prob:>7}  {'-' if c.faces is None else c.faces:>5}"
        )
    lines.append(f"{len(checks)} of {total} matching checks")
    return "\n".join(lines)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from db.audit import count_by_label, query_checks
    from db.engine import database_url
    from db.export import export_checks
    from db.store import open_store

    async with open_store(database_url(settings)) as store, store.sessions() as session:
        filters = _filters(args)
        if args.counts:
            counts = await count_by_label(session, filters=filters)
            if args.format == "json":
                print(json.dumps(counts))
            else:
                for label, n in counts.items():
                    print(f"{label:14} {n}")
            return 0
        if args.format == "table":
            page = await query_checks(
                session, filters=filters, limit=args.limit or 50, offset=args.offset
            )
            print(table(page.checks, page.total))
            return 0
        if args.offset:
            print("fakewatch: --offset is for tables; use --until to page exports")
            return 2
        await export_checks(
            session, out=sys.stdout, fmt=args.format, filters=filters, limit=args.limit
        )
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Query and print."""
    return asyncio.run(_run(args, settings))
