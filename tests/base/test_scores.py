"""A verdict's numbers survive the store's JSON, and a damaged row reads as what it can."""

from __future__ import annotations

import json

from base.scores import Details, Explanation, FaceScore
from base.vocabulary import Label

DETAILS = Details(
    face_scores=(
        FaceScore(
            track=0,
            fake_probability=0.91,
            frames=(0, 1),
            frame_scores=(0.9, 0.92),
            box=(1.0, 2.0, 30.0, 40.0),
        ),
    ),
    frame_scores=(0.9, None),
    frame_times=(0.0, 0.5),
    explanation=Explanation(track=0, frame=1, box=(1.0, 2.0, 30.0, 40.0), map=((0.0, 1.0),)),
)


def test_the_json_round_trip() -> None:
    data = json.loads(json.dumps(DETAILS.to_json()))
    assert set(data) == {"face_scores", "frame_scores", "frame_times", "explanation"}
    assert data["face_scores"][0]["box"] == [1.0, 2.0, 30.0, 40.0]
    assert Details.from_json(data) == DETAILS
    kept = Details(model_label=Label.FAKE)
    assert kept.to_json()["model_label"] == "fake"
    assert Details.from_json(json.loads(json.dumps(kept.to_json()))) == kept


def test_a_damaged_row_keeps_what_reads() -> None:
    assert Details.from_json(None) == Details() == Details.from_json({})
    assert Details.from_json("nonsense") == Details()  # type: ignore[arg-type]
    damaged = Details.from_json(
        {
            "face_scores": [{"track": 0}, DETAILS.to_json()["face_scores"][0]],
            "frame_scores": [0.2, "x", None, float("nan")],
            "frame_times": [0.0, "later"],
            "explanation": {"frame": 0, "box": [1, 2], "map": [[0.5]]},  # no track
            "model_label": "maybe",
        }
    )
    assert damaged.face_scores == DETAILS.face_scores
    assert damaged.frame_scores == (0.2, None, None, None)
    assert damaged.frame_times == ()
    assert damaged.explanation is None and damaged.model_label is None
