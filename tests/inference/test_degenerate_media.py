"""Tiny and degenerate media get ``no_face`` with a reason, never an error or a traceback."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import samples
from inference.pipeline import Pipeline
from tests.inference.degenerate import degenerate_files

FILES = degenerate_files()


@pytest.mark.parametrize("name", sorted(FILES))
def test_media_too_small_for_a_face_is_no_face_with_a_reason(
    name: str, pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    verdict = pipeline.analyze(FILES[name])
    assert verdict.label == "no_face", (verdict.label, verdict.reason)
    assert verdict.reason_code == "no_face"
    assert "too small" in (verdict.reason or ""), verdict.reason
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_batch_with_degenerate_items_judges_the_rest(pipeline: Pipeline) -> None:
    items = [FILES["1x1.png"], FILES["16x16.mp4"], FILES["4000x12.png"]]
    verdicts = pipeline.analyze_batch(items)
    assert [v.label for v in verdicts] == ["no_face"] * 3


_SIDE = st.one_of(st.integers(1, 24), st.integers(1000, 6000))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(width=_SIDE, height=st.integers(1, 19), fmt=st.sampled_from(["PNG", "JPEG", "WEBP"]))
def test_any_picture_too_thin_for_a_face_is_no_face(
    pipeline: Pipeline, width: int, height: int, fmt: str
) -> None:
    pixels = np.full((height, width, 3), 128, np.uint8)
    for data in (
        samples.encode_image(pixels, fmt),
        samples.encode_image(pixels.swapaxes(0, 1), fmt),
    ):
        verdict = pipeline.analyze(data)
        assert verdict.label in ("no_face", "unsupported"), (verdict.label, verdict.reason)
