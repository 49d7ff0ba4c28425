"""The whole pipeline on real images and generated clips, with real MTCNN and model code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench import samples
from inference.decoder import decode
from inference.pipeline import Pipeline, detect
from inference.tracks import track
from inference.verdict import STAGES, Verdict


def test_astronaut_has_one_face(pipeline: Pipeline) -> None:
    v = pipeline.analyze(samples.encode_image(samples.astronaut(), "JPEG"))
    assert v.label in ("fake", "real", "inconclusive")
    assert v.faces == 1 and v.frames == 1
    assert v.fake_probability is not None and 0.0 <= v.fake_probability <= 1.0
    assert set(v.timings) == set(STAGES)
    assert v.model == pipeline.model_id
    x1, y1, x2, y2 = v.face_scores[0].box
    assert 150 < (x1 + x2) / 2 < 300 and 50 < (y1 + y2) / 2 < 200  # where her face is


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket", "coins"])
def test_no_face_images(pipeline: Pipeline, name: str) -> None:
    v = pipeline.analyze(samples.encode_image(samples.no_face_images()[name], "PNG"))
    assert v.label == "no_face"
    assert v.faces == 0 and v.fake_probability is None


def test_moving_face_video_is_one_track(
    pipeline: Pipeline, face_video: Callable[..., Path]
) -> None:
    v = pipeline.analyze(face_video("one.mp4", faces=1))
    assert v.faces == 1
    assert v.frames == 8
    assert len(v.face_scores[0].frames) >= 6  # the face is found in (nearly) every frame
    assert len(v.frame_scores) == 8


def test_two_faces_side_by_side_are_two_tracks(
    pipeline: Pipeline, face_video: Callable[..., Path]
) -> None:
    path = face_video("two.mp4", faces=2, width=640, height=240)
    media = decode(path, frames=8)
    tracks = track(detect(media, pipeline.detector))
    assert len(tracks) == 2
    left, right = sorted(tracks, key=lambda t: t.faces[0].box[0])
    assert all(a.box[2] < b.box[0] for a, b in zip(left.faces, right.faces, strict=False))
    v = pipeline.analyze(path)
    assert v.faces == 2 and len(v.face_scores) == 2


def test_video_without_faces(pipeline: Pipeline, face_video: Callable[..., Path]) -> None:
    v = pipeline.analyze(face_video("none.mp4", faces=0))
    assert v.label == "no_face" and v.frames == 8


def test_short_gif(pipeline: Pipeline, tmp_path: Path) -> None:
    path = samples.write_gif(tmp_path / "short.gif", samples.moving_face_frames(6, 200, 150))
    v = pipeline.analyze(path)
    assert v.media_kind == "video"
    assert v.faces == 1


@pytest.mark.parametrize(
    "codec,name",
    [("libx264", "c.mp4"), ("libx265", "c.mp4"), ("libvpx-vp9", "c.webm"), ("libsvtav1", "c.mkv")],
)
def test_real_codecs_give_faces(pipeline: Pipeline, tmp_path: Path, codec: str, name: str) -> None:
    frames = samples.moving_face_frames(20, 320, 240)
    path = samples.write_video(tmp_path / name, frames, codec=codec, fps=10)
    v = pipeline.analyze(path)
    assert v.faces == 1, (codec, v)


def test_bad_input_is_a_verdict_and_the_next_call_works(
    pipeline: Pipeline, face_video: Callable[..., Path]
) -> None:
    for bad, code in [(b"", "empty_file"), (b"plain text, not media" * 10, "unsupported_format")]:
        v = pipeline.analyze(bad)
        assert v.label == "unsupported" and v.reason_code == code and v.reason
    assert pipeline.analyze(face_video()).faces == 1


def test_verdict_round_trips_through_a_dict(
    pipeline: Pipeline, face_video: Callable[..., Path]
) -> None:
    v = pipeline.analyze(face_video())
    assert Verdict.from_dict(v.to_dict()).to_dict() == v.to_dict()
