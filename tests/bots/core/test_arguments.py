"""Parsing /audit, /settings and /verdict arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bots.core.arguments import parse_audit, parse_settings, parse_verdict
from bots.core.errors import BadArguments

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_audit_words_in_any_order() -> None:
    q = parse_audit(["20", "@alice", "7d", "FAKE"], now=NOW)
    assert (q.label, q.author, q.author_username, q.limit) == ("fake", None, "alice", 20)
    assert q.since == NOW - timedelta(days=7)
    by_id = parse_audit(["user:12345"], now=NOW)
    assert (by_id.author, by_id.author_username) == ("12345", None)
    assert parse_audit([], now=NOW).limit == 10


@pytest.mark.parametrize("words", [["yesterday"], ["0"], ["501"], ["7x"]])
def test_audit_nonsense_is_refused_with_usage(words: list[str]) -> None:
    with pytest.raises(BadArguments, match="/audit"):
        parse_audit(words, now=NOW)


def test_settings_changes() -> None:
    assert parse_settings([]) == {}
    assert parse_settings(["auto", "off"]) == {"auto_check": False}
    assert parse_settings(["fake", "0.8"]) == {"fake_threshold": 0.8}
    assert parse_settings(["real", "default"]) == {"real_threshold": None}
    assert parse_settings(["action", "delete"]) == {"action": "delete_and_report"}
    assert parse_settings(["modchannel", "-1001"]) == {"mod_channel_id": "-1001"}
    assert parse_settings(["retention", "30"]) == {"retention_days": 30}


@pytest.mark.parametrize(
    "words",
    [
        ["auto"],
        ["auto", "maybe"],
        ["fake", "2"],
        ["action", "ban"],
        ["colour", "red"],
        ["retention", "x"],
    ],
)
def test_bad_settings_are_refused(words: list[str]) -> None:
    with pytest.raises(BadArguments):
        parse_settings(words)


def test_verdict_override() -> None:
    o = parse_verdict(["12", "REAL", "it's", "satire"])
    assert (o.check_id, o.decision, o.note) == (12, "real", "it's satire")
    assert parse_verdict(["12", "fake"]).note is None
    with pytest.raises(BadArguments):
        parse_verdict(["12", "maybe"])
    for word in ("abc", "-3", "1.5", "²"):  # the check is the number shown with a verdict
        with pytest.raises(BadArguments, match=f"no check {word} "):
            parse_verdict([word, "fake"])
