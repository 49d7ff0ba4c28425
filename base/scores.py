"""The numbers behind a verdict: each face's scores, each sampled frame's, the manipulation map.

The pipeline makes them (:class:`inference.verdict.Verdict`), the worker hands them to the
store (:class:`db.verdicts.VerdictRecord`) and the bots draw their pictures from them
(:class:`queue_worker.contracts.CheckResult`). They are defined here, on the ground floor,
because all of those read them and none of them may import the others. The store keeps
them as one JSON column, ``Check.details``: :meth:`Details.to_json` writes it and
:meth:`Details.from_json` reads it back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from base.vocabulary import LABELS, Label


@dataclass(frozen=True)
class FaceScore:
    """One face track's score."""

    track: int
    fake_probability: float
    frames: tuple[int, ...]  # indices of the sampled frames the face is in
    frame_scores: tuple[float, ...]  # fake probability at each of those frames
    box: tuple[float, float, float, float]  # in the first frame it appears in

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaceScore:
        """The inverse of ``asdict``."""
        return cls(
            track=int(data["track"]),
            fake_probability=float(data["fake_probability"]),
            frames=tuple(data["frames"]),
            frame_scores=tuple(data["frame_scores"]),
            box=tuple(data["box"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Explanation:
    """Where the model sees blending on the deciding face (see :mod:`inference.explain`)."""

    track: int
    frame: int  # the sampled frame the map is of (the face's most suspicious one)
    box: tuple[float, float, float, float]  # the face in that frame, frame pixels
    map: tuple[tuple[float, ...], ...]  # rows of 0-1 values, top to bottom (14x14)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Explanation:
        """The inverse of ``asdict``."""
        return cls(
            track=int(data["track"]),
            frame=int(data["frame"]),
            box=tuple(float(v) for v in data["box"]),  # type: ignore[arg-type]
            map=tuple(tuple(float(v) for v in row) for row in data["map"]),
        )


@dataclass(frozen=True, kw_only=True)
class Details:
    """A verdict's per-face and per-frame numbers, as a check keeps them.

    Attributes:
        face_scores: Each face track's score.
        frame_scores: Per sampled frame, the most suspicious face's fake probability
            (``None`` where no face was found).
        frame_times: When each sampled frame is, in seconds (empty for a photo).
        explanation: The deciding face's manipulation map, for models that make one.
        model_label: The model's own label, kept by the store when the chat's
            thresholds decided another one.
    """

    face_scores: tuple[FaceScore, ...] = ()
    frame_scores: tuple[float | None, ...] = ()
    frame_times: tuple[float, ...] = ()
    explanation: Explanation | None = None
    model_label: Label | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``Check.details`` (``model_label`` only when there is one)."""
        data: dict[str, Any] = {
            "face_scores": [asdict(f) for f in self.face_scores],
            "frame_scores": list(self.frame_scores),
            "frame_times": list(self.frame_times),
            "explanation": asdict(self.explanation) if self.explanation is not None else None,
        }
        if self.model_label is not None:
            data["model_label"] = str(self.model_label)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Details:
        """The inverse of :meth:`to_json`, forgiving: a part that does not read as the
        numbers it should be is left out (a damaged row still shows what it can)."""
        if not isinstance(data, Mapping):
            return cls()
        label = data.get("model_label")
        return cls(
            face_scores=tuple(f for f in map(_face, _items(data.get("face_scores"))) if f),
            frame_scores=tuple(_number(v) for v in _items(data.get("frame_scores"))),
            frame_times=_numbers(data.get("frame_times")),
            explanation=_explanation(data.get("explanation")),
            model_label=Label(label) if label in LABELS else None,
        )


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _number(value: Any) -> float | None:
    """A finite number as a float; anything else (``None``, text, NaN) as ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _numbers(value: Any) -> tuple[float, ...]:
    """Every item as a float, or nothing when one is not a number."""
    numbers = tuple(_number(v) for v in _items(value))
    return () if None in numbers else numbers  # type: ignore[return-value]


def _face(value: Any) -> FaceScore | None:
    try:
        return FaceScore.from_dict(value)
    except (KeyError, TypeError, ValueError):
        return None


def _explanation(value: Any) -> Explanation | None:
    if not isinstance(value, Mapping):
        return None
    try:
        return Explanation.from_dict(value)
    except (KeyError, TypeError, ValueError):
        return None
