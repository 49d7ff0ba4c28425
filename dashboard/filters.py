"""The checks table's filters: query-string values in, an :class:`AuditFilter` out.

The same query string drives the table, its pages and the CSV export, so a
moderator downloads exactly what they see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from base import vocabulary
from base.vocabulary import PLATFORMS, STATUSES
from db.audit import PENDING, AuditFilter, parse_since
from db.columns import utcnow
from db.errors import InvalidValue

# The label filter: the labels, and "pending" for checks not finished yet.
LABELS = (*vocabulary.LABELS, PENDING)
PERIODS = {"": "any time", "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days"}
PAGE_SIZE = 50


@dataclass(frozen=True)
class TableQuery:
    """The filters as typed in the form (strings; empty means any)."""

    platform: str = ""
    chat: str = ""
    author: str = ""
    label: str = ""
    status: str = ""
    period: str = ""
    since: str = ""  # a date, YYYY-MM-DD (overrides period)
    until: str = ""  # a date, inclusive
    reviewed: str = ""  # "", "yes", "no"
    page: int = 1

    @classmethod
    def from_params(cls, params: dict[str, str]) -> TableQuery:
        """From the request's query parameters (unknown ones ignored, values trimmed)."""
        text = {
            k: str(params.get(k, "")).strip()[:200] for k in cls.__dataclass_fields__ if k != "page"
        }
        try:
            page = max(1, min(100_000, int(params.get("page", "1"))))
        except ValueError:
            page = 1
        return cls(**text, page=page)

    def audit_filter(self) -> AuditFilter:
        """The store's filter.

        Raises:
            InvalidValue: a value the form cannot have produced (an unknown label,
                a malformed date...), with a message to show.
        """
        for name, value, allowed in (
            ("platform", self.platform, PLATFORMS),
            ("label", self.label, LABELS),
            ("status", self.status, STATUSES),
            ("period", self.period, tuple(PERIODS)),
            ("reviewed", self.reviewed, ("", "yes", "no")),
        ):
            if value and value not in allowed:
                raise InvalidValue(f"unknown {name} {value!r}")
        since: datetime | None = None
        until: datetime | None = None
        if self.since:
            since = _day(self.since, "from")
        elif self.period:
            since = parse_since(self.period, now=utcnow())
        if self.until:
            until = _day(self.until, "to") + timedelta(days=1)
        return AuditFilter(
            platform=self.platform or None,
            chat=self.chat or None,
            author=self.author or None,
            label=self.label or None,
            status=self.status or None,
            since=since,
            until=until,
            reviewed={"yes": True, "no": False}.get(self.reviewed),
        )

    def query_string(self, **changes: object) -> str:
        """This query as a URL query string, with some values changed (e.g. ``page=2``)."""
        values = {**asdict(self), **changes}
        kept = {k: v for k, v in values.items() if v not in ("", None) and (k, v) != ("page", 1)}
        return urlencode(kept)


def _day(text: str, what: str) -> datetime:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as e:
        raise InvalidValue(f"the {what} date {text!r} is not YYYY-MM-DD") from e
    return datetime.combine(day, time(), tzinfo=utcnow().tzinfo)
