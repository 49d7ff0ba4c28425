"""Between the model and the store: a verdict as the store keeps it.

The pipeline's :class:`inference.verdict.Verdict` becomes a :class:`db.verdicts.VerdictRecord`
here, and so does the verdict of a stored check that identical bytes reuse. Only the
worker imports this module (it names the model's types); producers never do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from base.scores import Details
from base.vocabulary import Label
from db.models import Check
from db.verdicts import VerdictRecord

if TYPE_CHECKING:
    from inference.verdict import Verdict


def verdict_record(verdict: Verdict, *, phash: str | None = None) -> VerdictRecord:
    """The pipeline's verdict as the store keeps it (timings rounded to 0.1 ms)."""
    return VerdictRecord(
        label=verdict.label,
        fake_probability=verdict.fake_probability,
        faces=verdict.faces,
        frames=verdict.frames,
        model=verdict.model,
        timings={k: round(v, 4) for k, v in verdict.timings.items()},
        media_kind=verdict.media_kind,
        reason=verdict.reason,
        reason_code=verdict.reason_code,
        details=Details(
            face_scores=verdict.face_scores,
            frame_scores=verdict.frame_scores,
            frame_times=verdict.frame_times,
            explanation=verdict.explanation,
        ),
        phash=phash,
    )


def reused_verdict(original: Check) -> VerdictRecord:
    """The verdict a check stored, with the model's own label and no timings (nothing ran)."""
    details = Details.from_json(original.details)
    return VerdictRecord(
        label=details.model_label or Label(cast(str, original.label)),  # done: it has one
        fake_probability=original.fake_probability,
        faces=original.faces,
        frames=original.frames,
        model=original.model_id,
        media_kind=original.media_kind,
        reason=original.reason,
        reason_code=original.reason_code,
        details=details,
        phash=original.phash,
    )
