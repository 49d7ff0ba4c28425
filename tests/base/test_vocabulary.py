"""The vocabulary keeps the stored strings, and the one label rule."""

from __future__ import annotations

import pytest

from base import errors
from base.vocabulary import (
    ACTIONS,
    DECISIONS,
    JUDGED,
    LABELS,
    PLATFORMS,
    REQUEST_KINDS,
    STATUSES,
    Label,
    ReasonCode,
    Thresholds,
    decide_label,
)


def test_the_values_are_the_strings_already_stored() -> None:
    """No migration: the database holds these exact strings (see the 0001 migration)."""
    assert LABELS == ("fake", "real", "inconclusive", "no_face", "unsupported", "error")
    assert STATUSES == ("queued", "running", "done", "failed")
    assert ACTIONS == ("reply", "react", "delete_and_report")
    assert REQUEST_KINDS == ("auto", "command", "upload", "cli")
    assert PLATFORMS == ("discord", "telegram", "web", "cli")
    assert DECISIONS == ("fake", "real", "dismissed")
    assert {"fake", "real", "inconclusive"} == JUDGED
    assert f"{Label.NO_FACE}" == str(Label.NO_FACE) == "no_face"


def test_media_errors_carry_their_reason_code() -> None:
    media_errors = [
        e for e in vars(errors).values() if isinstance(e, type) and issubclass(e, errors.MediaError)
    ]
    assert len(media_errors) == 10
    for error in media_errors:
        assert ReasonCode(error.code) == error.code


@pytest.mark.parametrize(
    ("p", "fake", "real", "label"),
    [
        (None, 0.5, 0.5, "no_face"),
        (0.5, 0.5, 0.5, "fake"),  # at the fake threshold: fake
        (0.49, 0.5, 0.5, "real"),
        (0.6, 0.7, 0.3, "inconclusive"),
        (0.3, 0.7, 0.3, "real"),  # at the real threshold: real
        (0.7, 0.8, 0.75, "real"),
        (0.7, 0.6, 0.8, "fake"),  # overlapping thresholds: the fake one first
        (0.0, 0.0, 0.0, "fake"),
        (0.999, 1.0, 1.0, "real"),
    ],
)
def test_decide_label(p: float | None, fake: float, real: float, label: str) -> None:
    assert decide_label(p, Thresholds(fake=fake, real=real)) == label


def test_a_chat_overrides_only_the_thresholds_it_has_set() -> None:
    model = Thresholds(fake=0.62, real=0.38)
    assert model.overridden() == model
    assert model.overridden(fake=0.8) == Thresholds(fake=0.8, real=0.38)
    assert model.overridden(real=0.1) == Thresholds(fake=0.62, real=0.1)
    # A chat's 0.8 makes the model's 0.7 fake inconclusive; its 0.75 real makes it real.
    assert decide_label(0.7, model.overridden(fake=0.8)) == "inconclusive"
    assert decide_label(0.7, model.overridden(fake=0.8, real=0.75)) == "real"
