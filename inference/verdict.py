"""The verdict: what the pipeline concludes about one media item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from base.scores import Explanation, FaceScore
from base.vocabulary import JUDGED, Label, Thresholds, decide_label

# The per-face and per-frame records are the ground floor's (every package reads them).
__all__ = ["STAGES", "Explanation", "FaceScore", "Verdict", "decide"]

STAGES = ("decode", "detect", "track", "classify", "decide")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check. ``fake_probability`` is None when nothing was judged."""

    label: Label
    fake_probability: float | None = None
    faces: int = 0
    frames: int = 0
    model: str = ""
    timings: Mapping[str, float] = field(default_factory=dict)
    face_scores: tuple[FaceScore, ...] = ()
    frame_scores: tuple[float | None, ...] = ()  # per sampled frame: the most suspicious face
    frame_times: tuple[float, ...] = ()
    media_kind: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    explanation: Explanation | None = None  # the manipulation map, for models that make one

    @property
    def judged(self) -> bool:
        """Whether a face was scored (the label is fake, real or inconclusive)."""
        return self.label in JUDGED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; timings in seconds."""
        data = asdict(self)
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """The inverse of :meth:`to_dict`."""
        faces = tuple(FaceScore.from_dict(f) for f in data.get("face_scores", ()))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["face_scores"] = faces
        for key in ("frame_scores", "frame_times"):
            known[key] = tuple(known.get(key, ()))
        known["timings"] = dict(known.get("timings", {}))
        known["label"] = Label(known["label"])
        if known.get("explanation") is not None:
            known["explanation"] = Explanation.from_dict(known["explanation"])
        return cls(**known)


def decide(scores: Sequence[FaceScore], thresholds: Thresholds) -> tuple[Label, float | None]:
    """Turn face scores into a label: the most suspicious face decides (by
    :func:`base.vocabulary.decide_label`).

    Returns:
        ``(label, fake_probability)``; ``("no_face", None)`` when there is no face.
    """
    p = max((s.fake_probability for s in scores), default=None)
    return decide_label(p, thresholds), p
