"""Command arguments typed in chat: ``/audit``, ``/settings`` and ``/verdict``.

Discord passes them as slash-command options and can build the same values
directly; text platforms parse the words after the command with these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from base.vocabulary import ACTIONS, LABELS, Decision, FakeAction, Status
from bots.core.errors import BadArguments
from bots.core.ports import AuditQuery

# /audit filters by a label, or by "failed" for every check that failed.
AUDIT_LABELS = (*LABELS, Status.FAILED)
MAX_AUDIT_COUNT = 500
_PERIOD = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

AUDIT_USAGE = (
    "Usage: /audit [label] [period] [count] [@user|user:ID], e.g. /audit fake 7d 20\n"
    f"label: {', '.join(AUDIT_LABELS)}; period: 30m, 24h, 7d, 2w; count: 1-{MAX_AUDIT_COUNT}"
)
SETTINGS_USAGE = (
    "Usage: /settings [NAME VALUE]\n"
    "auto on|off · fake 0-1|default · real 0-1|default · "
    "action reply|react|delete_and_report · modchannel ID|none · retention DAYS"
)
VERDICT_USAGE = "Usage: /verdict CHECK real|fake [note]"


def parse_period(word: str, *, now: datetime | None = None) -> datetime:
    """``7d`` -> the time seven days ago (UTC). Raises ``BadArguments``."""
    match = _PERIOD.match(word.lower())
    if not match:
        raise BadArguments(f"{word!r} is not a period like 30m, 24h, 7d or 2w")
    amount, unit = int(match.group(1)), match.group(2)
    now = now or datetime.now(UTC)
    return now - timedelta(**{_UNITS[unit]: amount})


def parse_audit(words: Sequence[str], *, now: datetime | None = None) -> AuditQuery:
    """``/audit`` words to a query, in any order. Raises ``BadArguments`` with the usage.

    ``@name`` asks for a username (the platform resolves it to an id, see
    :meth:`bots.core.ports.ModerationStore.author_id`), ``user:ID`` for a user id.
    """
    label: str | None = None
    author: str | None = None
    username: str | None = None
    since: datetime | None = None
    limit = 10
    for raw in words:
        word = raw.strip()
        low = word.lower()
        if not word:
            continue
        if low in AUDIT_LABELS:
            label = low
        elif word.startswith("@") and len(word) > 1:
            author, username = None, word[1:]
        elif low.startswith("user:") and len(word) > 5:
            author, username = word[5:], None
        elif word.isdigit():
            limit = int(word)
            if not 1 <= limit <= MAX_AUDIT_COUNT:
                raise BadArguments(f"count must be 1-{MAX_AUDIT_COUNT}\n{AUDIT_USAGE}")
        elif _PERIOD.match(low):
            since = parse_period(low, now=now)
        else:
            raise BadArguments(f"I don't understand {word!r}.\n{AUDIT_USAGE}")
    return AuditQuery(
        label=label, author=author, author_username=username, since=since, limit=limit
    )


def _threshold(value: str) -> float | None:
    if value.lower() in ("default", "none", "model"):
        return None
    try:
        number = float(value)
    except ValueError as e:
        raise BadArguments(f"{value!r} is not a number between 0 and 1") from e
    if not 0.0 <= number <= 1.0:
        raise BadArguments(f"{value!r} is not a number between 0 and 1")
    return number


def _switch(value: str) -> bool:
    low = value.lower()
    if low in ("on", "yes", "true", "1"):
        return True
    if low in ("off", "no", "false", "0"):
        return False
    raise BadArguments(f"{value!r} is not on or off")


def parse_settings(words: Sequence[str]) -> dict[str, Any]:
    """``/settings NAME VALUE`` to the change it asks for (empty: just show them).

    Returns:
        Keyword arguments named like :class:`bots.core.ports.ChatPolicy`'s fields.
    """
    if not words:
        return {}
    if len(words) != 2:
        raise BadArguments(SETTINGS_USAGE)
    name, value = words[0].lower(), words[1]
    if name == "auto":
        return {"auto_check": _switch(value)}
    if name == "fake":
        return {"fake_threshold": _threshold(value)}
    if name == "real":
        return {"real_threshold": _threshold(value)}
    if name == "action":
        delete = value.lower() in ("delete", FakeAction.DELETE_AND_REPORT)
        action = FakeAction.DELETE_AND_REPORT if delete else value
        if action not in ACTIONS:
            raise BadArguments(f"action must be one of {', '.join(ACTIONS)}")
        return {"action": action}
    if name in ("modchannel", "mod_channel"):
        return {"mod_channel_id": None if value.lower() in ("none", "off") else value}
    if name == "retention":
        if not value.isdigit() or int(value) < 1:
            raise BadArguments("retention is a number of days, at least 1")
        return {"retention_days": int(value)}
    raise BadArguments(f"there is no setting {name!r}.\n{SETTINGS_USAGE}")


@dataclass(frozen=True, kw_only=True)
class Override:
    """A moderator's ``/verdict``: the check, the decision and an optional note."""

    check_id: int
    decision: str  # real or fake
    note: str | None


def parse_verdict(words: Sequence[str]) -> Override:
    """``/verdict CHECK real|fake [note...]``. Raises ``BadArguments``."""
    if len(words) < 2 or words[1].lower() not in (Decision.REAL, Decision.FAKE):
        raise BadArguments(VERDICT_USAGE)
    if not (words[0].isascii() and words[0].isdigit()):
        # Check ids are the numbers shown with each verdict: this one names none.
        raise BadArguments(f"There is no check {words[0]} in this chat.")
    note = " ".join(words[2:]).strip() or None
    return Override(check_id=int(words[0]), decision=words[1].lower(), note=note)
