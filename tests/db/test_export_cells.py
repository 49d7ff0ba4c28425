"""The CSV export's formula guard: user text that a spreadsheet would run is quoted, numbers
(Telegram's negative chat ids among them) stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from db.checks import create_check
from db.export import FIELDS, export_checks


async def test_negative_ids_stay_numbers_and_formulas_are_quoted(
    session: AsyncSession, sha: Callable[[int], str]
) -> None:
    rows = [
        ("-1001234567890", "-5", '=HYPERLINK("http://evil","x")'),
        ("-100", "+42", "-2+3+cmd|' /C calc'!A0"),
        ("1.5e3", "7", "@SUM(1,2)"),
        ("-3.25", "8", "+1-1"),
    ]
    for n, (chat, author, name) in enumerate(rows):
        await create_check(
            session,
            platform="telegram",
            chat_id=chat,
            author_id=author,
            author_name=name,
            sha256=sha(n),
            byte_size=1,
        )
    out = io.StringIO()
    await export_checks(session, out=out, fmt="csv")
    got = list(csv.reader(io.StringIO(out.getvalue())))
    assert got[0] == list(FIELDS)
    chat, author, name = (
        FIELDS.index("chat_id"),
        FIELDS.index("author_id"),
        FIELDS.index("author_name"),
    )
    cells = sorted((r[chat], r[author], r[name]) for r in got[1:])
    assert cells == sorted(
        [
            ("-1001234567890", "-5", '\'=HYPERLINK("http://evil","x")'),
            ("-100", "+42", "'-2+3+cmd|' /C calc'!A0"),
            ("1.5e3", "7", "'@SUM(1,2)"),
            ("-3.25", "8", "'+1-1"),
        ]
    )
