"""The verdict the store is handed to finish a check ``done``.

The worker builds it from the pipeline's :class:`inference.verdict.Verdict` (or from the
check whose verdict it reuses) and :func:`db.checks.store_verdict` writes it to the
check's columns. It is the store's own type because the store may not import the model's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from base.scores import Details
from base.vocabulary import Label


@dataclass(frozen=True, kw_only=True)
class VerdictRecord:
    """One verdict on one media item, as the store keeps it.

    Attributes:
        label: The model's label (the store may be told another: the chat's thresholds).
        fake_probability: The deciding face's; ``None`` when no face was judged.
        faces: How many face tracks were scored.
        frames: How many frames were sampled.
        model: The weights' id: what a later check of the same bytes reuses it by.
        timings: Seconds per stage (none for a reused verdict: nothing ran).
        media_kind: What the pipeline decoded: ``image`` or ``video``.
        reason: Why nothing was judged, in words to show.
        reason_code: The same, as a stable code.
        details: The per-face and per-frame numbers and the manipulation map.
        phash: The image's perceptual hash (``None`` for a video).
    """

    label: Label
    fake_probability: float | None = None
    faces: int | None = None
    frames: int | None = None
    model: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    media_kind: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    details: Details = field(default_factory=Details)
    phash: str | None = None
