"""Detection metrics from fake probabilities: ROC, AUC, EER, rates at a threshold, calibration.

Labels are booleans, True = fake; scores are fake probabilities (higher = more fake).
Written with numpy alone so evaluation needs nothing beyond the inference install.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Roc:
    """False and true positive rates at each distinct threshold, from strictest to loosest."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray  # "fake" means score >= threshold


def _arrays(scores: Sequence[float], labels: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if s.shape != y.shape:
        raise ValueError("scores and labels differ in length")
    return s, y


def roc(scores: Sequence[float], labels: Sequence[bool]) -> Roc:
    """The ROC curve; starts at (0, 0) with an infinite threshold."""
    s, y = _arrays(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1] if len(s) else np.array([], int)
    tps = np.cumsum(y)[distinct] if len(s) else np.array([])
    fps = (distinct + 1) - tps
    n_pos, n_neg = max(int(y.sum()), 1), max(int((~y).sum()), 1)
    return Roc(
        fpr=np.r_[0.0, fps / n_neg],
        tpr=np.r_[0.0, tps / n_pos],
        thresholds=np.r_[np.inf, s[distinct]],
    )


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    s, y = _arrays(scores, labels)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    # Mann-Whitney U with average ranks for ties.
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def eer(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float] | None:
    """Equal error rate and the threshold where it is reached; None without both classes."""
    s, y = _arrays(scores, labels)
    if y.all() or not y.any():
        return None
    curve = roc(s.tolist(), y.tolist())
    fnr = 1.0 - curve.tpr
    i = int(np.argmin(np.abs(fnr - curve.fpr)))
    rate = float((fnr[i] + curve.fpr[i]) / 2)
    threshold = float(curve.thresholds[i]) if np.isfinite(curve.thresholds[i]) else 1.0
    return rate, threshold


@dataclass(frozen=True)
class Rates:
    """Counts and rates when ``score >= threshold`` is called fake."""

    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def accuracy(self) -> float | None:
        """Correct calls over all."""
        n = self.tp + self.fp + self.tn + self.fn
        return (self.tp + self.tn) / n if n else None

    @property
    def precision(self) -> float | None:
        """Fakes among what was called fake."""
        n = self.tp + self.fp
        return self.tp / n if n else None

    @property
    def recall(self) -> float | None:
        """Fakes caught."""
        n = self.tp + self.fn
        return self.tp / n if n else None

    @property
    def fpr(self) -> float | None:
        """Reals called fake."""
        n = self.fp + self.tn
        return self.fp / n if n else None


def rates_at(
    scores: Sequence[float], labels: Sequence[bool], threshold: float | Sequence[float]
) -> Rates:
    """Confusion counts at one threshold, or at one threshold per score (each score judged
    by the weights that made it); ``Rates.threshold`` is NaN when they differ."""
    s, y = _arrays(scores, labels)
    t = np.asarray(threshold, dtype=np.float64)
    called = s >= t
    same = t.ndim == 0 or (t.size > 0 and bool(np.all(t == t.flat[0])))
    return Rates(
        threshold=float(t.flat[0]) if same else float("nan"),
        tp=int((called & y).sum()),
        fp=int((called & ~y).sum()),
        tn=int((~called & ~y).sum()),
        fn=int((~called & y).sum()),
    )


@dataclass(frozen=True)
class Calibration:
    """Decision thresholds chosen on a validation split, and how."""

    fake: float
    real: float
    rule: str


def calibrate(
    scores: Sequence[float],
    labels: Sequence[bool],
    *,
    max_fpr: float = 0.05,
    max_fnr: float = 0.10,
    max_inconclusive: float | None = 0.2,
) -> Calibration:
    """Pick the ``fake`` and ``real`` thresholds from validation scores.

    ``fake`` is the lowest threshold that calls at most ``max_fpr`` of the real faces
    fake; ``real`` the highest that calls at most ``max_fnr`` of the fakes real. Between
    them lies ``inconclusive``. When the model separates the split better than both
    targets need, the two would cross: both become the equal-error threshold.
    When more than ``max_inconclusive`` of the split would fall between them, the band
    is narrowed around the equal-error threshold until it holds that share: an
    answer of "inconclusive" to most posts is noise in a chat.
    """
    s, y = _arrays(scores, labels)
    if y.all() or not y.any():
        raise ValueError("calibration needs both real and fake validation scores")
    reals, fakes = np.sort(s[~y]), np.sort(s[y])
    # Smallest t with mean(reals >= t) <= max_fpr: just above the k-th largest real score.
    k = int(np.floor(max_fpr * len(reals)))
    fake_t = float(np.nextafter(reals[len(reals) - k - 1], np.inf))
    # Largest t with mean(fakes <= t) <= max_fnr: just below the (m+1)-th smallest fake.
    m = int(np.floor(max_fnr * len(fakes)))
    real_t = float(np.nextafter(fakes[m], -np.inf))
    rule = f"fake: val FPR <= {max_fpr:g}; real: val FNR <= {max_fnr:g}"
    if real_t > fake_t:
        found = eer(s.tolist(), y.tolist())
        mid = found[1] if found else (fake_t + real_t) / 2
        fake_t = real_t = mid
        rule += " (both met with room to spare: both at the val equal-error threshold)"
    if max_inconclusive is not None and _band_share(s, real_t, fake_t) > max_inconclusive:
        found = eer(s.tolist(), y.tolist())
        centre = found[1] if found else float(np.median(s))
        centre = min(max(centre, real_t), fake_t)
        lo, hi = 0.0, 1.0  # half-widths: lo fits, hi does not
        for _ in range(40):
            mid = (lo + hi) / 2
            if _band_share(s, max(real_t, centre - mid), min(fake_t, centre + mid)) <= (
                max_inconclusive
            ):
                lo = mid
            else:
                hi = mid
        fake_t, real_t = min(fake_t, centre + lo), max(real_t, centre - lo)
        rule += f"; band narrowed around the val EER threshold to <= {max_inconclusive:g} of val"
    fake_t = min(max(fake_t, 0.0), 1.0)
    real_t = min(max(real_t, 0.0), fake_t)
    return Calibration(fake=fake_t, real=real_t, rule=rule)


def _band_share(s: np.ndarray, real_t: float, fake_t: float) -> float:
    """Share of scores strictly between the thresholds (the inconclusive ones)."""
    return float(((s > real_t) & (s < fake_t)).mean())
