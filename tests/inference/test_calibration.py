"""The score scale: Platt scaling fitted on val, applied by the pipeline to every score."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from base.errors import WeightsInvalid
from bench import samples
from inference.calibration import ScoreScale, fit_platt
from inference.pipeline import Pipeline
from inference.weights import random_weights


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_fit_recovers_the_scale_that_made_the_labels() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.01, 0.99, 20000)
    truth = ScoreScale(slope=0.6, intercept=-1.0)
    labels = [bool(rng.random() < truth(float(s))) for s in raw]
    fitted = fit_platt(list(raw), labels)
    assert fitted.slope == pytest.approx(0.6, abs=0.05)
    assert fitted.intercept == pytest.approx(-1.0, abs=0.08)


def test_the_scale_keeps_every_ranking() -> None:
    scale = ScoreScale(slope=0.6, intercept=-1.0)
    raw = [0.0, 1e-9, 0.1, 0.5, 0.7, 0.9185, 0.999, 1.0]
    mapped = [scale(p) for p in raw]
    assert mapped == sorted(mapped) and all(0.0 <= p <= 1.0 for p in mapped)
    assert scale(0.9185) == pytest.approx(_sigmoid(0.6 * math.log(0.9185 / 0.0815) - 1.0))


def test_separable_scores_give_a_finite_scale() -> None:
    fitted = fit_platt([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [False] * 3 + [True] * 3)
    assert math.isfinite(fitted.slope) and 0.0 < fitted.slope < 10.0
    # Platt's smoothed targets (0.2 and 0.8 for three of each) keep it from certainty
    assert 0.7 < fitted(0.9) < 0.99 and 0.01 < fitted(0.1) < 0.3


def test_identity_by_default_and_clear_errors() -> None:
    assert ScoreScale.from_dict(None).identity and ScoreScale()(0.42) == 0.42
    back = ScoreScale.from_dict(ScoreScale(0.5, 0.25, "val").to_dict())
    assert back == ScoreScale(0.5, 0.25, "val")
    with pytest.raises(WeightsInvalid, match="slope > 0"):
        ScoreScale(slope=0.0)
    with pytest.raises(ValueError, match="both real and fake"):
        fit_platt([0.2, 0.3], [True, True])


def test_the_pipeline_reports_scores_on_the_weights_scale(test_device: str) -> None:
    plain = random_weights()
    scale = ScoreScale(slope=0.5, intercept=1.5)
    scaled = replace(plain, manifest=replace(plain.manifest, scale=scale))
    photo = samples.encode_image(samples.astronaut(), "JPEG")
    raw = Pipeline(plain, device=test_device).analyze(photo)
    out = Pipeline(scaled, device=test_device).analyze(photo)
    assert raw.fake_probability is not None and out.fake_probability is not None
    assert out.fake_probability == pytest.approx(scale(raw.fake_probability), abs=1e-6)
    assert [f.fake_probability for f in out.face_scores] == pytest.approx(
        [scale(f.fake_probability) for f in raw.face_scores], abs=1e-6
    )
    assert out.frame_scores == pytest.approx(
        tuple(scale(p) for p in raw.frame_scores if p is not None), abs=1e-6
    )
