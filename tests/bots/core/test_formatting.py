"""Verdict, refusal, audit and settings texts: readable, complete, within each platform's limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.core import formatting
from bots.core.ports import AuditEntry, AuditQuery, ChatPolicy
from tests.bots.fakes import Outcome


def test_fake_verdict_has_probability_faces_frames_and_check_id() -> None:
    text = formatting.verdict_text(
        Outcome(check_id=17, label="fake", fake_probability=0.934, faces=2, frames=16)
    )
    assert text.startswith("⚠️ Likely a deepfake: 93%")
    assert "2 faces" in text and "16 frames checked" in text and "check 17" in text


@pytest.mark.parametrize(
    ("label", "p", "words"),
    [
        ("fake", 0.97, "very sure"),
        ("fake", 0.8, "fairly sure"),
        ("fake", 0.6, "only somewhat sure"),
        ("real", 0.03, "very sure"),
        ("real", 0.2, "fairly sure"),
        ("real", 0.4, "only somewhat sure"),
    ],
)
def test_a_verdict_says_how_sure_the_model_is(label: str, p: float, words: str) -> None:
    text = formatting.verdict_text(Outcome(check_id=3, label=label, fake_probability=p))
    assert words in text.splitlines()[0]


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        (
            Outcome(check_id=1, label="real", fake_probability=0.02),
            "No sign of face manipulation",
        ),
        (Outcome(check_id=1, label="inconclusive", fake_probability=0.5), "Inconclusive: 50%"),
        (Outcome(check_id=1, label="no_face", fake_probability=None, faces=0), "No face found"),
        (
            Outcome(check_id=1, status="failed", label="unsupported", reason_code="corrupt_media"),
            "Can't check this file: the file is damaged",
        ),
        (
            Outcome(check_id=1, status="failed", label="error", reason="worker crashed"),
            "The check failed: worker crashed.",
        ),
    ],
)
def test_each_outcome_has_clear_wording(outcome: Outcome, words: str) -> None:
    assert words in formatting.verdict_text(outcome)


def test_probabilities_never_round_to_certainty() -> None:
    assert formatting.percent(0.001) == "<1%"
    assert formatting.percent(0.9999) == ">99%"
    assert formatting.percent(1.0) == "100%"


@given(reason=st.text(min_size=0, max_size=10_000), limit=st.sampled_from([2000, 4096]))
def test_verdicts_fit_the_platform(reason: str, limit: int) -> None:
    outcome = Outcome(check_id=9, status="failed", label="error", reason=reason)
    assert len(formatting.verdict_text(outcome, limit=limit)) <= limit


def test_the_reply_says_the_stored_label_whatever_the_probability() -> None:
    """The label was decided once, by the worker: the reply never decides it again (a
    0.7 stored as inconclusive under a chat's 0.8 stays inconclusive here)."""
    text = formatting.verdict_text(Outcome(check_id=1, label="inconclusive", fake_probability=0.7))
    assert text.startswith("🤔 Inconclusive: 70%")
    text = formatting.verdict_text(Outcome(check_id=1, label="fake", fake_probability=0.4))
    assert text.startswith("⚠️ Likely a deepfake: 40%")


def entries(n: int) -> list[AuditEntry]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        AuditEntry(
            check_id=i,
            created_at=start + timedelta(minutes=i),
            author_name=f"user{i}",
            author_id=str(i),
            media_kind="video",
            status="done",
            label="fake" if i % 2 else "real",
            fake_probability=0.9 if i % 2 else 0.1,
            review="real" if i == 3 else None,
        )
        for i in range(n)
    ]


def test_audit_lists_checks_with_counts_and_reviews() -> None:
    text = formatting.audit_text(
        entries(4), query=AuditQuery(label=None), counts={"fake": 2, "real": 2}
    )
    lines = text.splitlines()
    assert lines[0].startswith("🧾 Last 4 checks here (no filter)")
    assert lines[1] == "fake: 2, real: 2"
    assert "2025-01-01 00:03 user3 video: fake 90% → reviewed real [3]" in lines


@pytest.mark.parametrize("limit", [2000, 4096])
def test_long_audits_are_cut_with_a_pointer_to_the_csv(limit: int) -> None:
    text = formatting.audit_text(entries(500), query=AuditQuery(limit=500), limit=limit)
    assert len(text) <= limit and "more in the CSV file" in text


def test_an_audit_says_which_user_id_it_matched() -> None:
    by_name = AuditQuery(author="7001", author_username="alice")
    assert formatting.describe_query(by_name) == "by user id 7001 (@alice)"
    assert formatting.describe_query(AuditQuery(author="7001")) == "by user id 7001"
    assert formatting.describe_query(AuditQuery(author_username="alice")) == "by @alice"


def test_empty_audit_says_so() -> None:
    assert "No checks here match (label fake)" in formatting.audit_text(
        [], query=AuditQuery(label="fake")
    )


def test_settings_text_names_every_setting() -> None:
    text = formatting.settings_text(
        ChatPolicy(auto_check=False, fake_threshold=0.8, action="react")
    )
    assert "auto: off" in text and "fake: 0.8" in text and "real: model default" in text
    assert "action: react" in text


def test_size_explanations() -> None:
    mb = 1024 * 1024
    platform = formatting.too_large_text(25 * mb, 20 * mb, platform_limit=True, hint="Try smaller.")
    assert "25 MB" in platform and "20 MB" in platform and platform.endswith("Try smaller.")
    own = formatting.too_large_text(int(1.5 * mb), mb, platform_limit=False)
    assert "1.5 MB" in own and "up to 1 MB" in own
