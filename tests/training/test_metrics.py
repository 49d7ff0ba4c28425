"""ROC, AUC, EER, rates and threshold calibration against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.metrics import auc, calibrate, eer, rates_at, roc


def test_auc_perfect_reversed_tied_and_one_class() -> None:
    labels = [False, False, True, True]
    assert auc([0.1, 0.2, 0.8, 0.9], labels) == 1.0
    assert auc([0.9, 0.8, 0.2, 0.1], labels) == 0.0
    assert auc([0.5, 0.5, 0.5, 0.5], labels) == 0.5
    assert auc([0.1, 0.2], [False, False]) is None


def test_auc_matches_pairwise_count() -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(60), 1)  # many ties
    labels = rng.random(60) < 0.4
    pos, neg = scores[labels], scores[~labels]
    expected = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert auc(scores.tolist(), labels.tolist()) == pytest.approx(expected)


def test_roc_ends_and_area() -> None:
    curve = roc([0.1, 0.4, 0.35, 0.8], [False, False, True, True])
    assert (curve.fpr[0], curve.tpr[0]) == (0.0, 0.0)
    assert (curve.fpr[-1], curve.tpr[-1]) == (1.0, 1.0)
    assert np.trapezoid(curve.tpr, curve.fpr) == pytest.approx(0.75)


def test_eer_of_separable_and_overlapping_scores() -> None:
    found = eer([0.1, 0.2, 0.8, 0.9], [False, False, True, True])
    assert found is not None and found[0] == 0.0 and 0.2 < found[1] <= 0.8
    found = eer([0.1, 0.6, 0.4, 0.9], [False, False, True, True])
    assert found is not None and found[0] == pytest.approx(0.5)


def test_rates_at_threshold() -> None:
    r = rates_at([0.2, 0.7, 0.4, 0.9], [False, False, True, True], 0.5)
    assert (r.tp, r.fp, r.tn, r.fn) == (1, 1, 1, 1)
    assert r.accuracy == 0.5 and r.precision == 0.5 and r.recall == 0.5 and r.threshold == 0.5


def test_rates_at_one_threshold_per_score() -> None:
    # the first two scores judged by weights calling fake at 0.8, the last two at 0.3
    r = rates_at([0.7, 0.9, 0.4, 0.2], [False, True, True, False], [0.8, 0.8, 0.3, 0.3])
    assert (r.tp, r.fp, r.tn, r.fn) == (2, 0, 2, 0) and math.isnan(r.threshold)
    same = rates_at([0.7, 0.9], [False, True], [0.8, 0.8])
    assert same.threshold == 0.8 and (same.tp, same.tn) == (1, 1)


def test_calibrate_meets_its_targets_on_overlapping_scores() -> None:
    rng = np.random.default_rng(1)
    reals, fakes = rng.normal(0.3, 0.15, 500), rng.normal(0.6, 0.15, 500)
    scores = np.clip(np.r_[reals, fakes], 0, 1)
    labels = np.r_[np.zeros(500, bool), np.ones(500, bool)]
    cal = calibrate(
        scores.tolist(), labels.tolist(), max_fpr=0.05, max_fnr=0.10, max_inconclusive=None
    )
    assert 0.0 <= cal.real <= cal.fake <= 1.0
    assert np.mean(scores[~labels] >= cal.fake) <= 0.05
    assert np.mean(scores[labels] <= cal.real) <= 0.10


def test_calibrate_keeps_inconclusive_a_minority() -> None:
    rng = np.random.default_rng(1)
    reals, fakes = rng.normal(0.3, 0.15, 500), rng.normal(0.6, 0.15, 500)
    scores = np.clip(np.r_[reals, fakes], 0, 1)
    labels = np.r_[np.zeros(500, bool), np.ones(500, bool)]
    wide = calibrate(scores.tolist(), labels.tolist(), max_inconclusive=None)
    share = np.mean((scores > wide.real) & (scores < wide.fake))
    assert share > 0.2  # the error targets alone leave a wide band on these scores
    cal = calibrate(scores.tolist(), labels.tolist(), max_inconclusive=0.1)
    band = np.mean((scores > cal.real) & (scores < cal.fake))
    assert 0.07 <= band <= 0.1
    assert wide.real <= cal.real <= cal.fake <= wide.fake
    assert "narrowed" in cal.rule


def test_calibrate_collapses_to_one_threshold_when_separable() -> None:
    cal = calibrate([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [False] * 3 + [True] * 3)
    assert cal.fake == cal.real and 0.3 < cal.fake <= 0.7
    assert "equal-error" in cal.rule
    with pytest.raises(ValueError):
        calibrate([0.1, 0.2], [False, False])
