"""Audit exports: checks as CSV (for spreadsheets) and JSON (for scripts)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from typing import Any, Literal, TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import AuditFilter, iter_checks
from db.errors import InvalidValue
from db.models import Check
from db.reviews import latest_decisions

ExportFormat = Literal["csv", "json"]

# Column order of the CSV, and the keys of each JSON object (JSON adds ``details``).
FIELDS = (
    "id",
    "created_at",
    "platform",
    "chat_id",
    "chat_title",
    "message_id",
    "author_id",
    "author_name",
    "request_kind",
    "requested_by",
    "media_kind",
    "file_name",
    "mime_type",
    "byte_size",
    "sha256",
    "phash",
    "status",
    "label",
    "fake_probability",
    "faces",
    "frames",
    "model_id",
    "reason",
    "reason_code",
    "deduplicated_from",
    "attempts",
    "started_at",
    "finished_at",
    "replied_at",
    "review",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...but a plain number is only a number (Telegram group ids are negative: -100...).
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


def check_to_dict(check: Check, *, review: str | None = None) -> dict[str, Any]:
    """A JSON-ready dict of a check (times as ISO 8601 UTC); ``review`` is the latest decision."""
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = review if name == "review" else getattr(check, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    data["timings"] = check.timings
    data["details"] = check.details
    return data


def _cell(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        # Chat titles and names are user-controlled: never let them run as formulas.
        return "'" + value
    return "" if value is None else value


async def _with_reviews(
    session: AsyncSession, checks: AsyncIterable[Check], batch: int = 500
) -> AsyncIterable[dict[str, Any]]:
    pending: list[Check] = []

    async def flush() -> list[dict[str, Any]]:
        decisions = await latest_decisions(session, check_ids=[c.id for c in pending])
        rows = [check_to_dict(c, review=decisions.get(c.id)) for c in pending]
        pending.clear()
        return rows

    async for check in checks:
        pending.append(check)
        if len(pending) >= batch:
            for row in await flush():
                yield row
    for row in await flush():
        yield row


async def _first(checks: AsyncIterator[Check], limit: int | None) -> AsyncIterator[Check]:
    n = 0
    async for check in checks:
        if limit is not None and n >= limit:
            return
        n += 1
        yield check


async def export_checks(
    session: AsyncSession,
    *,
    out: TextIO,
    fmt: ExportFormat,
    filters: AuditFilter | None = None,
    limit: int | None = None,
) -> int:
    """Write the matching checks to ``out``, newest first (at most ``limit``); returns how many.

    CSV has one header row and the columns of :data:`FIELDS`; JSON is one array of
    objects with the same keys plus ``timings`` and ``details``.

    Raises:
        InvalidValue: an unknown format.
    """
    if fmt not in ("csv", "json"):
        raise InvalidValue(f"unknown export format {fmt!r}; csv or json")
    rows = _with_reviews(session, _first(iter_checks(session, filters=filters), limit))
    n = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        async for row in rows:
            writer.writerow([_cell(row[name]) for name in FIELDS])
            n += 1
        return n
    out.write("[")
    async for row in rows:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(row, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n
