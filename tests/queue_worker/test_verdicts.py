"""The worker hands the store what ``Verdict.to_dict()`` held, typed, and reuses it whole."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

from base.scores import Details, Explanation, FaceScore
from base.vocabulary import Label
from db.models import Check
from inference.verdict import Verdict
from queue_worker.verdicts import reused_verdict, verdict_record

VERDICT = Verdict(
    Label.FAKE,
    fake_probability=0.91,
    faces=1,
    frames=2,
    model="m@1",
    timings={"decode": 0.123456, "classify": 1.0},
    face_scores=(FaceScore(0, 0.91, (0, 1), (0.9, 0.92), (1.0, 2.0, 30.0, 40.0)),),
    frame_scores=(0.9, 0.92),
    frame_times=(0.0, 0.5),
    media_kind="video",
    explanation=Explanation(0, 1, (1.0, 2.0, 30.0, 40.0), ((0.0, 1.0),)),
)


def json_of(data: Any) -> Any:
    return json.loads(json.dumps(data))


def test_the_record_holds_what_the_dict_did() -> None:
    record = verdict_record(VERDICT, phash="00ff")
    old = json_of(VERDICT.to_dict())
    assert json_of(record.details.to_json()) == {
        k: old[k] for k in ("face_scores", "frame_scores", "frame_times", "explanation")
    }
    assert dict(record.timings) == old["timings"] == {"decode": 0.1235, "classify": 1.0}
    assert (record.label, record.fake_probability, record.faces, record.frames) == (
        old["label"],
        old["fake_probability"],
        old["faces"],
        old["frames"],
    )
    assert (record.model, record.media_kind, record.phash) == ("m@1", "video", "00ff")


def test_a_reused_verdict_keeps_the_models_label_and_no_timings() -> None:
    details = verdict_record(VERDICT).details.to_json() | {"model_label": "fake"}
    original = SimpleNamespace(
        label="inconclusive",  # a chat's thresholds decided
        fake_probability=0.91,
        faces=1,
        frames=2,
        model_id="m@1",
        media_kind="video",
        reason=None,
        reason_code=None,
        details=json_of(details),
        phash=None,
    )
    reused = reused_verdict(cast(Check, original))
    assert reused.label == Label.FAKE and not reused.timings
    assert reused.details == Details.from_json(details)
    assert reused.details.face_scores == VERDICT.face_scores
