"""From a model's raw score to the fake probability a verdict reports.

A network's softmax output is a score, not a probability: two weights files trained
differently put real faces at different heights (the photo weights score real photos near
0.56, the video weights real clips near 0.4). A manifest may therefore carry a Platt scaling
fitted on its validation split, ``p = sigmoid(slope * logit(raw) + intercept)``; the pipeline
applies it to every score it reports (each face, each frame), so thresholds, a chat's own
thresholds, the sureness words of a reply and the timeline all read one scale, whichever
weights judged. The map is monotone: it changes no ranking, so no AUC.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from base.errors import WeightsInvalid
from base.scores import FaceScore

_EPS = 1e-6


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class ScoreScale:
    """Platt scaling of raw fake scores: ``sigmoid(slope * logit(raw) + intercept)``."""

    slope: float = 1.0
    intercept: float = 0.0
    fitted_on: str = ""  # what it was fitted on, for the manifest's reader

    def __post_init__(self) -> None:
        if not (math.isfinite(self.slope) and math.isfinite(self.intercept)) or self.slope <= 0:
            raise WeightsInvalid(f"a score scale needs a finite slope > 0, got {self}")

    @property
    def identity(self) -> bool:
        """Whether it leaves scores as they are."""
        return self.slope == 1.0 and self.intercept == 0.0

    def __call__(self, raw: float) -> float:
        if self.identity:
            return raw
        z = self.slope * _logit(raw) + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def face(self, score: FaceScore) -> FaceScore:
        """A face's scores on this scale."""
        if self.identity:
            return score
        return replace(
            score,
            fake_probability=self(score.fake_probability),
            frame_scores=tuple(self(p) for p in score.frame_scores),
        )

    def to_dict(self) -> dict[str, Any]:
        """For the manifest."""
        return {"slope": self.slope, "intercept": self.intercept, "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ScoreScale:
        """From a manifest (none there: the identity)."""
        if not data:
            return cls()
        return cls(
            slope=float(data["slope"]),
            intercept=float(data["intercept"]),
            fitted_on=str(data.get("fitted_on", "")),
        )


def fit_platt(
    scores: Sequence[float], labels: Sequence[bool], *, fitted_on: str = "", steps: int = 100
) -> ScoreScale:
    """The Platt scaling that makes ``scores`` (raw, 1 = fake) best predict ``labels``.

    Newton's method with a backtracking line search on the log loss of
    ``sigmoid(a * logit(s) + b)``, with Platt's smoothed targets so that a separable split
    cannot send the slope to infinity.
    """
    if len(scores) != len(labels):
        raise ValueError("scores and labels differ in length")
    y = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        raise ValueError("Platt scaling needs both real and fake examples")
    s = np.clip(np.asarray(scores, dtype=np.float64), _EPS, 1.0 - _EPS)
    x = np.log(s / (1.0 - s))
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(a: float, b: float) -> float:
        z = a * x + b  # log(1 + e^z) - t z, computed stably
        return float(np.sum(np.logaddexp(0.0, z) - t * z))

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(steps):
        p = 0.5 * (1.0 + np.tanh(0.5 * (a * x + b)))  # sigmoid, without overflow
        d, w = p - t, np.maximum(p * (1.0 - p), 1e-12)
        grad = np.array([np.sum(d * x), np.sum(d)])
        hess = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), grad)
        size = 1.0
        while size > 1e-8:
            na, nb = a - size * float(step[0]), b - size * float(step[1])
            trial = loss(na, nb)
            if trial <= current:
                break
            size /= 2.0
        else:
            break  # no step lowers the loss: at the minimum
        done = current - trial < 1e-10
        a, b, current = na, nb, trial
        if done:
            break
    a = max(a, 1e-3)  # a monotone map, never a reversal
    return ScoreScale(slope=round(a, 6), intercept=round(b, 6), fitted_on=fitted_on)
